// Proof before sensitive changes. The server refuses a change of the username, email or phone,
// and every admin change of another account, with 403 `reauthentication_required` when the
// password was last typed in this session too long ago (STAMPCARD_REAUTH_WINDOW): a cookie
// alone, stolen or left open on a shared device, must not be enough to take an account over.
//
// withProof(send) sends the change; on that answer it asks for the password in place, in a
// modal dialog over the same screen (the form behind it keeps everything typed), POSTs it to
// the answer's `reauthenticate` link, and on success sends the same change once more. A wrong
// password is said in the dialog, which stays open for another try; a lockout says when to try
// again; Cancel or Esc closes it and the change is not made (ProofDeclined). The server re-issues
// the session cookie with the proof; the app never sees it (HttpOnly).
import { api, ApiError } from './api.js';
import { h } from './dom.js';
import { waitText } from './errors.js';
import { checkRequired, field, formAlert, showAlert, showError, showFieldError, values, whileBusy } from './forms.js';
import { t } from './i18n.js';
import * as session from './session.js';

const LINK = '/api/v1/sessions/current/reauthentication';

/** The change was not made: the person closed the password dialog. */
export class ProofDeclined extends Error {
  constructor() {
    super('password not given');
    this.name = 'ProofDeclined';
  }
}

export function needsProof(error) {
  return error instanceof ApiError && error.code === 'reauthentication_required';
}

/**
 * Runs `send` (a function making the request); when the server wants a fresh password proof
 * first, asks for it and runs `send` again, once. Rejects with ProofDeclined when the person
 * cancels, with an AbortError when `signal` aborts (the screen went away), else as `send` does.
 */
export async function withProof(send, { signal } = {}) {
  try {
    return await send();
  } catch (error) {
    if (!needsProof(error)) throw error;
    await askPassword(linkOf(error), signal);
    return send();
  }
}

/** The answer's link, when it is one of the API's own paths (it is); else the documented one. */
function linkOf(error) {
  const link = error.problem.reauthenticate;
  return typeof link === 'string' && /^\/api\/v1\/[a-z/-]+$/.test(link) ? link : LINK;
}

let asking = null; // one dialog at a time: a second change waiting for a proof shares it

function askPassword(link, signal) {
  asking ??= openDialog(link, signal).finally(() => {
    asking = null;
  });
  return asking;
}

function openDialog(link, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new DOMException('aborted', 'AbortError'));
    const user = session.user();
    const submit = h('button', { type: 'submit', class: 'button primary', id: 'reauth-submit' }, t('reauth.submit'));
    const cancel = h('button', { type: 'button', class: 'button secondary', id: 'reauth-cancel' }, t('common.cancel'));
    const form = h(
      'form',
      { class: 'form', novalidate: true, id: 'reauth-form' },
      h('h2', { id: 'reauth-title' }, t('reauth.title')),
      h('p', { id: 'reauth-text' }, t('reauth.text')),
      formAlert(),
      // For password managers: whose password this is.
      user ? h('input', { type: 'text', name: 'username-hint', autocomplete: 'username', value: user.username, hidden: true, 'aria-hidden': 'true', tabindex: '-1' }) : null,
      field({
        name: 'password',
        label: t('reauth.password'),
        type: 'password',
        attrs: { autocomplete: 'current-password', required: true },
      }),
      h('div', { class: 'dialog-actions' }, cancel, submit),
    );
    const dialog = h(
      'dialog',
      { class: 'dialog', id: 'reauth-dialog', 'aria-labelledby': 'reauth-title', 'aria-describedby': 'reauth-text' },
      form,
    );
    const input = form.querySelector('input[name=password]');

    let outcome = null; // what to settle with when the dialog has closed
    const finish = (settle) => {
      outcome ??= settle;
      if (dialog.open) dialog.close();
      else done();
    };
    let closed = false;
    function done() {
      if (closed) return;
      closed = true;
      signal?.removeEventListener('abort', onAbort);
      dialog.remove();
      (outcome ?? (() => reject(new ProofDeclined())))();
    }
    const onAbort = () => finish(() => reject(new DOMException('aborted', 'AbortError')));

    // Esc and Cancel close it; "close" fires however it closed (the browser puts the focus
    // back on what had it before: the button that sent the change).
    dialog.addEventListener('close', done);
    cancel.addEventListener('click', () => finish(() => reject(new ProofDeclined())));
    signal?.addEventListener('abort', onAbort);

    form.addEventListener('submit', (event) => {
      event.preventDefault();
      whileBusy(submit, async () => {
        if (!checkRequired(form)) return;
        const { password } = values(form);
        try {
          const proved = await api.post(link, { password });
          if (proved?.session) session.set({ session: proved.session, user: session.user() });
          finish(() => resolve());
        } catch (error) {
          if (!(error instanceof ApiError)) return showError(form, error);
          if (error.status === 401) return finish(() => reject(error)); // the session ended: to the login screen
          if (error.code === 'invalid_password') {
            showFieldError(form, 'password', t('problem.invalid_password'));
            input.select();
            return;
          }
          if (error.status === 429) {
            return showAlert(form, [t('reauth.tooMany'), waitText(error.retryAfter) || t('wait.later')].join(' '));
          }
          showError(form, error);
        }
      });
    });

    document.body.append(dialog);
    dialog.showModal();
    input.focus();
  });
}
