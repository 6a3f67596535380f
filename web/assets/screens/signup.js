// Sign up (which also logs in). Phone and email are optional; the phone is how the barista
// finds the card, in any format (010-1234-5678, +82 10 1234 5678...).
import { api } from '../api.js';
import { h } from '../dom.js';
import { checkRequired, field, formAlert, showError, values, whileBusy } from '../forms.js';
import { t } from '../i18n.js';
import { navigate, safeNext } from '../router.js';
import * as session from '../session.js';
import { heading } from './common.js';

export const titleKey = 'signup.title';

export function mount(root, ctx) {
  const next = safeNext(ctx.query.get('next'));
  const submit = h('button', { type: 'submit', class: 'button primary wide' }, t('signup.submit'));
  const form = h(
    'form',
    { class: 'panel form', novalidate: true },
    formAlert(),
    field({
      name: 'username',
      label: t('field.username'),
      hint: t('signup.usernameHint'),
      attrs: { autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false', required: true },
    }),
    field({
      name: 'password',
      label: t('field.password'),
      type: 'password',
      hint: t('signup.passwordHint'),
      attrs: { autocomplete: 'new-password', required: true },
    }),
    field({
      name: 'phone',
      label: t('field.phoneOptional'),
      type: 'tel',
      hint: t('signup.phoneHint'),
      attrs: { autocomplete: 'tel', inputmode: 'tel' },
    }),
    field({
      name: 'email',
      label: t('field.emailOptional'),
      type: 'email',
      attrs: { autocomplete: 'email', autocapitalize: 'none', spellcheck: 'false' },
    }),
    submit,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    whileBusy(submit, async () => {
      if (!checkRequired(form)) return;
      const { username, password, phone, email } = values(form);
      const body = { username, password };
      if (phone) body.phone = phone;
      if (email) body.email = email;
      try {
        const user = await api.post('/api/v1/users', body);
        session.set({ user });
        navigate(next ?? session.homeFor(user), { replace: true });
      } catch (error) {
        showError(form, error);
      }
    });
  });
  const loginHref = next ? `/login?next=${encodeURIComponent(next)}` : '/login';
  root.append(
    heading(t('signup.heading'), t('signup.lead')),
    form,
    h('p', { class: 'aside' }, t('signup.haveAccount'), ' ', h('a', { href: loginHref }, t('signup.loginLink'))),
  );
}
