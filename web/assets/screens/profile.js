// My account: details (PATCH /users/me), password (PUT /users/me/password) and deleting the
// account (DELETE /users/me, with the password and a plain warning of what goes).
import { api } from '../api.js';
import { h } from '../dom.js';
import { describeError, field, formAlert, showError, showSuccess, values, whileBusy } from '../forms.js';
import { formatPhone, t } from '../i18n.js';
import { navigate } from '../router.js';
import * as session from '../session.js';
import { notice } from '../shell.js';
import { heading, section } from './common.js';

export const titleKey = 'profile.title';

function onSubmit(form, button, handler) {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    whileBusy(button, () => handler(values(form)));
  });
}

export function mount(root, ctx) {
  const user = ctx.user;

  // --- details ---
  const saveDetails = h('button', { type: 'submit', class: 'button primary' }, t('profile.save'));
  const details = h(
    'form',
    { class: 'form', novalidate: true, id: 'details-form' },
    formAlert(),
    field({
      name: 'username',
      label: t('field.username'),
      value: user.username,
      attrs: { autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false', required: true },
    }),
    field({
      name: 'phone',
      label: t('field.phoneOptional'),
      type: 'tel',
      value: formatPhone(user.phone),
      hint: t('profile.phoneHint'),
      attrs: { autocomplete: 'tel', inputmode: 'tel' },
    }),
    field({
      name: 'email',
      label: t('field.emailOptional'),
      type: 'email',
      value: user.email ?? '',
      attrs: { autocomplete: 'email', autocapitalize: 'none', spellcheck: 'false' },
    }),
    saveDetails,
  );
  onSubmit(details, saveDetails, async ({ username, phone, email }) => {
    const current = session.user() ?? user;
    const change = {};
    if (username !== current.username) change.username = username;
    if (phone !== formatPhone(current.phone)) change.phone = phone || null;
    if (email !== (current.email ?? '')) change.email = email || null;
    if (!Object.keys(change).length) return showSuccess(details, t('profile.nothingChanged'));
    try {
      const updated = await api.patch('/api/v1/users/me', change);
      session.setUser(updated);
      details.querySelector('[name=phone]').value = formatPhone(updated.phone);
      showSuccess(details, t('profile.saved'));
    } catch (error) {
      showError(details, error);
    }
  });

  // --- password ---
  const savePassword = h('button', { type: 'submit', class: 'button primary' }, t('profile.changePassword'));
  const password = h(
    'form',
    { class: 'form', novalidate: true, id: 'password-form' },
    formAlert(),
    h('input', { type: 'text', name: 'username-hint', autocomplete: 'username', value: user.username, hidden: true, 'aria-hidden': 'true', tabindex: '-1' }),
    field({
      name: 'current_password',
      label: t('field.currentPassword'),
      type: 'password',
      attrs: { autocomplete: 'current-password', required: true },
    }),
    field({
      name: 'new_password',
      label: t('field.newPassword'),
      type: 'password',
      hint: t('signup.passwordHint'),
      attrs: { autocomplete: 'new-password', required: true },
    }),
    savePassword,
  );
  onSubmit(password, savePassword, async ({ current_password, new_password }) => {
    try {
      await api.put('/api/v1/users/me/password', { current_password, new_password });
      for (const input of password.querySelectorAll('input[type=password]')) input.value = '';
      showSuccess(password, t('profile.passwordChanged'));
    } catch (error) {
      showError(password, error);
    }
  });

  // --- delete ---
  const deleteButton = h('button', { type: 'submit', class: 'button danger' }, t('profile.deleteSubmit'));
  const remove = h(
    'form',
    { class: 'form', novalidate: true, id: 'delete-form' },
    h('p', { class: 'warning', id: 'delete-warning' }, t('profile.deleteWarning')),
    formAlert(),
    field({
      name: 'password',
      label: t('profile.deletePassword'),
      type: 'password',
      attrs: { autocomplete: 'current-password', required: true },
    }),
    deleteButton,
  );
  onSubmit(remove, deleteButton, async ({ password: pw }) => {
    try {
      await api.delete('/api/v1/users/me', { password: pw });
      session.clear();
      notice(t('profile.deleted'), 'success');
      navigate('/', { replace: true });
    } catch (error) {
      showError(remove, error);
    }
  });

  const logout = h('button', { type: 'button', class: 'button secondary', id: 'logout' }, t('profile.logout'));
  logout.addEventListener('click', () =>
    whileBusy(logout, async () => {
      try {
        await api.delete('/api/v1/sessions/current');
      } catch (error) {
        // Not logged out on the server (offline?): say so rather than pretend.
        if (error.status !== 401) return notice(describeError(error), 'error', true);
      }
      session.clear();
      notice(t('sessions.loggedOut'), 'success');
      navigate('/login', { replace: true });
    }),
  );

  root.append(
    heading(t('profile.heading'), t('profile.lead', { username: user.username, role: t(`role.${user.role}`) })),
    h('div', { class: 'actions' }, logout),
    section(t('profile.detailsTitle'), details),
    section(t('profile.passwordTitle'), h('p', { class: 'hint' }, t('profile.passwordNote')), password),
    h('section', { class: 'panel danger-zone', 'aria-labelledby': 'delete-title' }, h('h2', { id: 'delete-title' }, t('profile.deleteTitle')), remove),
  );
}
