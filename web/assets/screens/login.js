// Log in, then go back to where the person was going (`?next=`): the server echoes `next`
// only when it is a safe local path, and we follow it only when it is one of our routes.
// Someone whose account an admin deactivated lands here too, and is told so first.
import { api } from '../api.js';
import { focus, h } from '../dom.js';
import { checkbox, checkRequired, field, formAlert, showError, values, whileBusy } from '../forms.js';
import { t } from '../i18n.js';
import { navigate, safeNext } from '../router.js';
import * as session from '../session.js';
import { heading } from './common.js';

export const titleKey = 'login.title';

export function mount(root, ctx) {
  const next = safeNext(ctx.query.get('next'));
  const submit = h('button', { type: 'submit', class: 'button primary wide' }, t('login.submit'));
  const form = h(
    'form',
    { class: 'panel form', novalidate: true },
    formAlert(),
    field({
      name: 'username',
      label: t('field.username'),
      attrs: { autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false', required: true },
    }),
    field({
      name: 'password',
      label: t('field.password'),
      type: 'password',
      attrs: { autocomplete: 'current-password', required: true },
    }),
    checkbox({ name: 'remember', label: t('login.remember') }),
    submit,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    whileBusy(submit, async () => {
      if (!checkRequired(form)) return;
      const { username, password, remember } = values(form);
      try {
        const result = await api.post('/api/v1/sessions', { username, password, remember }, {
          query: { next: next ?? undefined },
        });
        session.set(result);
        navigate(safeNext(result.next) && result.next !== '/' ? result.next : session.homeFor(result.user), {
          replace: true,
        });
      } catch (error) {
        showError(form, error);
      }
    });
  });

  const signupHref = next ? `/signup?next=${encodeURIComponent(next)}` : '/signup';
  const links = [
    h('p', { class: 'aside' }, h('a', { href: '/forgot-password' }, t('login.forgot'))),
    h('p', { class: 'aside' }, t('login.noAccount'), ' ', h('a', { href: signupHref }, t('login.signupLink'))),
  ];
  if (session.endedBecause() === 'account_deactivated') {
    // What happened and what to do come first; the form stays, for after a reactivation.
    form.prepend(h('h2', {}, t('deactivated.login')));
    root.append(
      h(
        'div',
        { class: 'screen-head', id: 'deactivated' },
        h('h1', { tabindex: '-1' }, t('deactivated.heading')),
        h('p', { class: 'lead' }, t('deactivated.lead')),
        h('p', { class: 'warning' }, t('deactivated.what')),
      ),
      form,
      ...links,
    );
    focus(root.querySelector('h1'));
    return;
  }
  root.append(heading(t('login.heading'), next ? t('login.leadNext') : null), form, ...links);
  form.querySelector('input')?.focus();
}
