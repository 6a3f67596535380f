// My account: details (PATCH /users/me; a change of the username, email or phone may first ask
// for the password in place: reauth.js), proving the phone is mine (a code by SMS: POST
// /users/me/phone-verification, then .../confirm), proving the email is mine (a mailed link, which
// /verify-email confirms; POST /users/me/email-verification sends it again), password (PUT
// /users/me/password) and deleting the account (DELETE /users/me, with the password and a plain
// warning of what goes).
import { api, ApiError, isAbort } from '../api.js';
import { fill, focus, h } from '../dom.js';
import { describeError, fieldMessage, waitText } from '../errors.js';
import { checkRequired, clearErrors, field, formAlert, showAlert, showError, showFieldError, showSuccess, values, whileBusy } from '../forms.js';
import { formatPhone, t } from '../i18n.js';
import { ProofDeclined, withProof } from '../reauth.js';
import { navigate } from '../router.js';
import * as session from '../session.js';
import { announce, notice } from '../shell.js';
import { heading, reveal, section } from './common.js';

export const titleKey = 'profile.title';

function onSubmit(form, button, handler) {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    whileBusy(button, () => checkRequired(form) && handler(values(form)));
  });
}

// The code last sent, {phone, expiresAt}: the code field stays while it can still be used, also
// after a re-render (a language switch), but not for another number.
let codeSent = null;

/** The phone and whether it is proven; a code to send, and a field for it once sent. */
function phoneVerification() {
  const box = h('section', { class: 'panel', id: 'phone-verification', 'aria-labelledby': 'phone-title' });

  function render({ focusOn } = {}) {
    const user = session.user();
    const title = h('h2', { id: 'phone-title' }, t('phone.title'));
    if (!user?.phone) {
      box.replaceChildren(title, h('p', { class: 'hint', id: 'phone-status' }, t('phone.none')));
      return;
    }
    const verified = user.phone_verified === true;
    const status = h(
      'p',
      { class: 'phone-status', id: 'phone-status', tabindex: '-1' },
      h('span', { class: 'phone-number' }, formatPhone(user.phone)),
      h('span', { class: ['verify-badge', verified ? 'is-verified' : 'is-unverified'] }, t(verified ? 'phone.verified' : 'phone.unverified')),
    );
    if (verified) {
      box.replaceChildren(title, status, h('p', { class: 'hint' }, t('phone.verifiedNote')));
      if (focusOn === 'status') focus(status);
      return;
    }
    const pending = codeSent && codeSent.phone === user.phone && Date.now() < codeSent.expiresAt ? codeSent : null;

    const sendButton = h('button', { type: 'submit', class: ['button', pending ? 'secondary' : 'primary'] }, t(pending ? 'phone.sendAgain' : 'phone.send'));
    const sendForm = h('form', { class: 'form', novalidate: true, id: 'phone-send-form' }, formAlert(), sendButton);
    sendForm.addEventListener('submit', (event) => {
      event.preventDefault();
      whileBusy(sendButton, async () => {
        try {
          const sent = await api.post('/api/v1/users/me/phone-verification');
          codeSent = { phone: sent.phone, expiresAt: Date.now() + sent.expires_in * 1000, minutes: Math.round(sent.expires_in / 60) };
          render({ focusOn: 'code' });
        } catch (error) {
          if (error instanceof ApiError && error.code === 'too_many_attempts') {
            return showAlert(sendForm, [t('phone.tooMany'), waitText(error.retryAfter) || t('wait.later')].join(' '));
          }
          // The service's SMS for this hour are spent (or it is busy): when to try again.
          if (error instanceof ApiError && error.status === 503) {
            return showAlert(sendForm, [t('phone.unavailable'), waitText(error.retryAfter) || t('wait.later')].join(' '));
          }
          const problem = error instanceof ApiError ? error.fieldErrors.find((e) => e.field === 'phone') : null;
          if (problem) {
            // No number, or one of a country the cafe does not send to: about the number above.
            return showAlert(sendForm, problem.code === 'required' ? t('phone.none') : fieldMessage('phone', problem.code));
          }
          showError(sendForm, error);
        }
      });
    });

    let codeForm = null;
    if (pending) {
      const verifyButton = h('button', { type: 'submit', class: 'button primary' }, t('phone.verify'));
      codeForm = h(
        'form',
        { class: 'form', novalidate: true, id: 'phone-code-form' },
        formAlert(),
        field({
          name: 'code',
          label: t('phone.code'),
          hint: t('phone.codeHint', { phone: formatPhone(pending.phone), minutes: pending.minutes }),
          attrs: {
            inputmode: 'numeric',
            autocomplete: 'one-time-code',
            pattern: '[0-9]*',
            maxlength: '7',
            spellcheck: 'false',
            required: true,
            class: 'code-input',
          },
        }),
        verifyButton,
      );
      codeForm.addEventListener('submit', (event) => {
        event.preventDefault();
        whileBusy(verifyButton, async () => {
          // A typo is not a try: only six digits go to the server (each wrong code counts).
          const code = values(codeForm).code.replace(/[\s-]/g, '');
          if (!/^\d{6}$/.test(code)) return showFieldError(codeForm, 'code', t('phone.codeFormat'));
          try {
            const updated = await api.post('/api/v1/users/me/phone-verification/confirm', { code });
            session.setUser(updated);
            codeSent = null;
            render({ focusOn: 'status' });
            announce(t('phone.verifiedNow'));
          } catch (error) {
            if (error instanceof ApiError && error.code === 'invalid_code') {
              showFieldError(codeForm, 'code', t('phone.invalidCode'));
              codeForm.querySelector('input').select();
              return;
            }
            showError(codeForm, error);
          }
        });
      });
    }

    // fill, not replaceChildren: no code form yet is null, which the DOM would print as "null".
    fill(box, title, status, h('p', { class: 'hint' }, t('phone.why')), codeForm, sendForm);
    if (focusOn === 'code') focus(codeForm?.querySelector('input'));
  }

  render();
  return { element: box, render };
}

// The address a link was last sent to from this screen (a new address, or "send it again"): the
// panel says it is on its way, also after a re-render, but not for another address.
let linkSent = null;

/** The email and whether it is proven; "send the link again" while it is not. */
function emailVerification() {
  const box = h('section', { class: 'panel', id: 'email-verification', 'aria-labelledby': 'email-title' });

  function render() {
    const user = session.user();
    const title = h('h2', { id: 'email-title' }, t('email.title'));
    if (!user?.email) {
      box.replaceChildren(title, h('p', { class: 'hint', id: 'email-status' }, t('email.none')));
      return;
    }
    const verified = user.email_verified === true;
    const status = h(
      'p',
      { class: 'phone-status', id: 'email-status', tabindex: '-1' },
      h('span', { class: 'email-address' }, user.email),
      h('span', { class: ['verify-badge', verified ? 'is-verified' : 'is-unverified'] }, t(verified ? 'email.verified' : 'email.unverified')),
    );
    if (verified) {
      box.replaceChildren(title, status, h('p', { class: 'hint' }, t('email.verifiedNote')));
      return;
    }
    const sendButton = h('button', { type: 'submit', class: 'button secondary' }, t('email.sendAgain'));
    const sendForm = h('form', { class: 'form', novalidate: true, id: 'email-send-form' }, formAlert(), sendButton);
    sendForm.addEventListener('submit', (event) => {
      event.preventDefault();
      whileBusy(sendButton, async () => {
        try {
          await api.post('/api/v1/users/me/email-verification');
          linkSent = { email: user.email };
          showSuccess(sendForm, t('email.sent', { email: user.email }));
          reveal(sendForm.querySelector('.form-alert')); // above the button: on a phone, maybe out of view
        } catch (error) {
          if (error instanceof ApiError && error.code === 'too_many_attempts') {
            return showAlert(sendForm, [t('email.tooMany'), waitText(error.retryAfter) || t('wait.later')].join(' '));
          }
          if (error instanceof ApiError && error.fieldErrors.some((e) => e.field === 'email')) {
            return showAlert(sendForm, t('email.none'));
          }
          showError(sendForm, error);
        }
      });
    });
    box.replaceChildren(title, status, h('p', { class: 'hint' }, t('email.why')), sendForm);
    if (linkSent?.email === user.email) showSuccess(sendForm, t('email.sent', { email: user.email }));
  }

  render();
  return { element: box, render };
}

export function mount(root, ctx) {
  const user = ctx.user;
  const verification = phoneVerification();
  const emailBox = emailVerification();

  // Back from the mail (the link opened in another tab or browser): the panel says what is so now.
  const onVisible = async () => {
    if (document.visibilityState !== 'visible') return;
    try {
      const before = session.user();
      const fresh = await api.get('/api/v1/users/me', { signal: ctx.signal });
      session.setUser(fresh);
      if (before?.email !== fresh.email || before?.email_verified !== fresh.email_verified) emailBox.render();
    } catch {
      // Not now (offline, or the session ended: that is handled where every 401 is).
    }
  };
  document.addEventListener('visibilitychange', onVisible);
  ctx.signal.addEventListener('abort', () => document.removeEventListener('visibilitychange', onVisible));

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
    // The last answer's marks go: the password may be asked for over this form before the next.
    clearErrors(details);
    try {
      // A change of these needs a recent password: asked for in place, then sent again.
      const updated = await withProof(() => api.patch('/api/v1/users/me', change), { signal: ctx.signal });
      session.setUser(updated);
      details.querySelector('[name=phone]').value = formatPhone(updated.phone);
      showSuccess(details, t('profile.saved'));
      // A new number or address is not proven yet (phone_verified / email_verified: false); a
      // new address has been sent a link.
      if (change.email && updated.email && !updated.email_verified) linkSent = { email: updated.email };
      verification.render();
      emailBox.render();
    } catch (error) {
      if (isAbort(error)) return;
      // Cancelled: nothing changed, and everything typed is still there to send again.
      if (error instanceof ProofDeclined) return showAlert(details, t('reauth.notSaved'));
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
    verification.element,
    emailBox.element,
    section(t('profile.passwordTitle'), h('p', { class: 'hint' }, t('profile.passwordNote')), password),
    h('section', { class: 'panel danger-zone', 'aria-labelledby': 'delete-title' }, h('h2', { id: 'delete-title' }, t('profile.deleteTitle')), remove),
  );
}
