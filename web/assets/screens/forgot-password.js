// "Forgot your password?": asks for a reset link by email (POST /api/v1/password-resets). The
// server answers the same whether or not an account has the address, and so does this screen:
// one neutral confirmation, whatever was typed (only a malformed address is an error).
import { api, ApiError } from '../api.js';
import { h } from '../dom.js';
import { waitText } from '../errors.js';
import { checkRequired, field, formAlert, showAlert, showError, showSuccess, values, whileBusy } from '../forms.js';
import { t } from '../i18n.js';
import { heading } from './common.js';

export const titleKey = 'forgot.title';

export function mount(root) {
  const submit = h('button', { type: 'submit', class: 'button primary wide' }, t('forgot.submit'));
  const form = h(
    'form',
    { class: 'panel form', novalidate: true, id: 'forgot-form' },
    formAlert(),
    field({
      name: 'email',
      label: t('field.email'),
      type: 'email',
      hint: t('forgot.emailHint'),
      attrs: { autocomplete: 'email', autocapitalize: 'none', spellcheck: 'false', required: true },
    }),
    submit,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    whileBusy(submit, async () => {
      if (!checkRequired(form)) return;
      const { email } = values(form);
      try {
        await api.post('/api/v1/password-resets', { email });
        showSuccess(form, t('forgot.sent'));
        form.querySelector('.form-alert').append(h('p', {}, t('forgot.sentNote')));
      } catch (error) {
        // At most 10 reset and email links an hour are asked for from one network.
        if (error instanceof ApiError && error.status === 429) {
          return showAlert(form, [t('forgot.tooMany'), waitText(error.retryAfter) || t('wait.later')].join(' '));
        }
        showError(form, error);
      }
    });
  });
  root.append(
    heading(t('forgot.heading'), t('forgot.lead')),
    form,
    h('p', { class: 'aside' }, h('a', { href: '/login' }, t('forgot.backToLogin'))),
  );
  form.querySelector('input')?.focus();
}
