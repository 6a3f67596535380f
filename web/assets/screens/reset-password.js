// The page of the mailed link, <STAMPCARD_PUBLIC_URL>/reset-password#token=<token>. The token is
// in the fragment so that it never reaches a server log or a Referer; this screen takes it from
// there at once and removes it from the address bar (so it does not linger in the history
// either), keeping it in memory only. POST /api/v1/password-resets/confirm sets the password and
// ends every session of the account; it does not log in, so the screen then offers the login.
import { api, ApiError } from '../api.js';
import { focus, h } from '../dom.js';
import { waitText } from '../errors.js';
import { checkRequired, field, formAlert, showAlert, showError, showFieldError, values, whileBusy } from '../forms.js';
import { t } from '../i18n.js';
import * as session from '../session.js';
import { setNav } from '../shell.js';
import { heading } from './common.js';

export const titleKey = 'reset.title';

// The token of the link: kept across a re-render of this screen (a language switch), not
// across a reload (the address no longer has it: open the mail's link again).
let token = null;

function takeToken() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.has('token')) {
    token = fragment.get('token') || null;
    history.replaceState(history.state, '', location.pathname + location.search);
  }
  return token;
}

/** A panel that ends the screen's story: a heading, what happened, and where to go. */
function outcome(kind, title, text, link) {
  const h2 = h('h2', { id: 'reset-outcome-title', tabindex: '-1' }, title);
  const panel = h(
    'section',
    { class: ['panel', 'outcome', `is-${kind}`], id: 'reset-outcome', 'aria-labelledby': 'reset-outcome-title' },
    h2,
    h('p', {}, text),
    h('a', { class: 'button primary', href: link.href }, link.text),
  );
  return { panel, h2 };
}

function dead() {
  return outcome('error', t('reset.deadTitle'), t('reset.dead'), { href: '/forgot-password', text: t('reset.askAgain') });
}

export function mount(root, ctx) {
  // The mail's link opened in a tab already on this page only changes the fragment: no new
  // page load, so take the token from there too.
  window.addEventListener(
    'hashchange',
    () => {
      if (new URLSearchParams(location.hash.slice(1)).has('token')) ctx.rerender();
    },
    { signal: ctx.signal },
  );
  if (!takeToken()) {
    root.append(
      heading(t('reset.heading')),
      outcome('warning', t('reset.missingTitle'), t('reset.missing'), { href: '/forgot-password', text: t('reset.askAgain') }).panel,
    );
    return;
  }

  const submit = h('button', { type: 'submit', class: 'button primary wide' }, t('reset.submit'));
  const form = h(
    'form',
    { class: 'panel form', novalidate: true, id: 'reset-form' },
    formAlert(),
    field({
      name: 'new_password',
      label: t('field.newPassword'),
      type: 'password',
      hint: t('signup.passwordHint'),
      attrs: { autocomplete: 'new-password', required: true },
    }),
    field({
      name: 'confirm_password',
      label: t('reset.confirm'),
      type: 'password',
      attrs: { autocomplete: 'new-password', required: true },
    }),
    submit,
  );

  const finish = ({ panel, h2 }) => {
    root.querySelector('.screen-head .lead')?.remove(); // about a form that is gone
    form.replaceWith(panel);
    focus(h2);
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    whileBusy(submit, async () => {
      if (!checkRequired(form)) return;
      const { new_password, confirm_password } = values(form);
      if (new_password && new_password !== confirm_password) {
        return showFieldError(form, 'confirm_password', t('reset.mismatch'));
      }
      try {
        await api.post('/api/v1/password-resets/confirm', { token, new_password });
      } catch (error) {
        if (error instanceof ApiError && error.code === 'invalid_token') {
          token = null;
          return finish(dead());
        }
        if (error instanceof ApiError && error.status === 429) {
          return showAlert(form, [t('reset.tooMany'), waitText(error.retryAfter)].filter(Boolean).join(' '));
        }
        return showError(form, error);
      }
      token = null;
      finish(outcome('success', t('reset.doneTitle'), t('reset.done'), { href: '/login', text: t('reset.login') }));
      // Every session of that account is gone: if this browser had one, it has ended too.
      if (session.user()) {
        session.load().then(() => setNav(session.user()), () => {});
      }
    });
  });

  root.append(heading(t('reset.heading'), t('reset.lead')), form);
  form.querySelector('input')?.focus();
}
