// The page of the mailed link that proves an email address,
// <STAMPCARD_PUBLIC_URL>/verify-email#token=<token>. As on /reset-password, the token is in the
// fragment (never in a server log or a Referer); this screen takes it from there at once, removes
// it from the address bar, and confirms it (POST /api/v1/email-verifications/confirm). Anyone
// holding the link may: logged in or not, to any account, in another browser than the one that
// asked for it. The outcome is kept in this history entry, so that a reload says it again
// instead of "no link".
import { api, ApiError } from '../api.js';
import { focus, h } from '../dom.js';
import { describeError, waitText } from '../errors.js';
import { t } from '../i18n.js';
import * as session from '../session.js';
import { setNav } from '../shell.js';
import { heading } from './common.js';

export const titleKey = 'verify.title';

// The token of the link, until its answer is known: kept across a re-render of this screen (a
// language switch) while the confirmation can still be tried again.
let token = null;
// The confirmation under way, {token, answer}: a re-render while it runs waits for the same answer
// instead of sending the token again (the first try may have used it up already).
let asking = null;

function confirmOnce(tok) {
  if (asking?.token !== tok) {
    const answer = api.post('/api/v1/email-verifications/confirm', { token: tok });
    asking = { token: tok, answer };
    answer.catch(() => {}).finally(() => {
      if (asking?.answer === answer) asking = null;
    });
  }
  return asking.answer;
}

function takeToken() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.has('token')) {
    token = fragment.get('token') || null;
    const state = { ...(history.state ?? {}) };
    delete state.verifyEmail; // a new link: its own outcome
    history.replaceState(state, '', location.pathname + location.search);
  }
  return token;
}

/** The final answer of this entry ('confirmed' or 'dead'), remembered across a reload. */
function remembered() {
  const kind = history.state?.verifyEmail;
  return kind === 'confirmed' || kind === 'dead' ? kind : null;
}

function remember(kind) {
  history.replaceState({ ...(history.state ?? {}), verifyEmail: kind }, '', location.pathname + location.search);
}

/** A panel that ends the screen's story: a heading, what happened, and where to go (or a retry). */
function outcome(kind, title, text, action) {
  return h(
    'section',
    { class: ['panel', 'outcome', `is-${kind}`], id: 'verify-outcome', 'aria-labelledby': 'verify-outcome-title' },
    h('h2', { id: 'verify-outcome-title', tabindex: '-1' }, title),
    h('p', {}, text),
    action,
  );
}

function confirmed() {
  const link = session.user()
    ? h('a', { class: 'button primary', href: '/profile' }, t('verify.toProfile'))
    : h('a', { class: 'button primary', href: '/login' }, t('verify.toLogin'));
  return outcome('success', t('verify.doneTitle'), t('verify.done'), link);
}

function dead() {
  return outcome('error', t('verify.deadTitle'), t('verify.dead'), h('a', { class: 'button primary', href: '/profile' }, t('verify.askAgain')));
}

function missing() {
  return outcome('warning', t('verify.missingTitle'), t('verify.missing'), h('a', { class: 'button primary', href: '/profile' }, t('verify.askAgain')));
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

  const place = h('div', { id: 'verify-place' });
  root.append(heading(t('verify.heading')), place);

  const show = (panel, { focusIt = true } = {}) => {
    place.replaceChildren(panel);
    if (focusIt) focus(panel.querySelector('h2'));
  };

  if (!takeToken()) {
    const kind = remembered();
    show(kind === 'confirmed' ? confirmed() : kind === 'dead' ? dead() : missing(), { focusIt: false });
    return;
  }

  async function confirm() {
    place.replaceChildren(h('p', { class: 'lead', id: 'verify-working', role: 'status' }, t('verify.working')));
    const tok = token;
    try {
      await confirmOnce(tok);
    } catch (error) {
      if (ctx.signal.aborted || tok !== token) return; // another rendering of this screen says it
      if (error instanceof ApiError && error.code === 'invalid_token') {
        token = null;
        remember('dead');
        return show(dead());
      }
      // Not known yet (too many tries from this network, no answer, the server in trouble): the
      // link may still be good, so the same token can be tried again.
      const text =
        error instanceof ApiError && error.status === 429
          ? [t('verify.tooMany'), waitText(error.retryAfter) || t('wait.later')].join(' ')
          : describeError(error);
      const retry = h('button', { type: 'button', class: 'button primary', onclick: () => confirm() }, t('common.retry'));
      return show(outcome('warning', t('verify.failedTitle'), text, retry));
    }
    if (ctx.signal.aborted || tok !== token) return;
    token = null;
    remember('confirmed');
    // This browser's account may be the one: the profile then says "verified" at once.
    if (session.user()) {
      try {
        await session.load();
        setNav(session.user());
      } catch {
        // The profile asks again when it opens.
      }
      if (ctx.signal.aborted) return;
    }
    show(confirmed());
  }
  confirm();
}
