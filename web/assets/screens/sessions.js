// My sessions (devices): log out this device, log out one other, or every other one.
import { api, isAbort } from '../api.js';
import { focus, h } from '../dom.js';
import { describeError } from '../errors.js';
import { whileBusy } from '../forms.js';
import { formatDateTime, t, tn } from '../i18n.js';
import { navigate } from '../router.js';
import * as session from '../session.js';
import { notice } from '../shell.js';
import { heading, loadFailed, moreButton, skeleton } from './common.js';

export const titleKey = 'sessions.title';

/** "Chrome on Android" from a User-Agent; good enough to tell one's own devices apart. */
export function deviceName(userAgent) {
  if (!userAgent) return t('sessions.unknownDevice');
  const ua = userAgent;
  const browser =
    (/Edg\//.test(ua) && 'Edge') ||
    (/SamsungBrowser\//.test(ua) && 'Samsung Internet') ||
    (/Firefox\//.test(ua) && 'Firefox') ||
    (/(Chrome|Chromium|HeadlessChrome|CriOS)\//.test(ua) && 'Chrome') ||
    (/Safari\//.test(ua) && 'Safari') ||
    (/curl\//.test(ua) && 'curl') ||
    null;
  const os =
    (/Android/.test(ua) && 'Android') ||
    (/iPhone|iPad|iPod/.test(ua) && 'iOS') ||
    (/Windows/.test(ua) && 'Windows') ||
    (/Mac OS X|Macintosh/.test(ua) && 'macOS') ||
    (/CrOS/.test(ua) && 'ChromeOS') ||
    (/Linux/.test(ua) && 'Linux') ||
    null;
  if (browser && os) return t('sessions.browserOn', { browser, os });
  return browser ?? os ?? ua.slice(0, 40);
}

export function mount(root, ctx) {
  const status = h('div', { class: 'form-alert', role: 'status' });
  const list = h('ul', { class: 'sessions' });
  const footer = h('div', { class: 'list-foot' });
  const body = h('div', { class: 'panel list-panel' }, skeleton(4));
  const logoutHere = h('button', { type: 'button', class: 'button secondary', id: 'logout-here' }, t('sessions.logoutHere'));
  const logoutOthers = h('button', { type: 'button', class: 'button danger', id: 'logout-others' }, t('sessions.logoutOthers'));
  logoutHere.addEventListener('click', () => whileBusy(logoutHere, logOutHere));
  logoutOthers.addEventListener('click', () => whileBusy(logoutOthers, logOutOthers));

  root.append(
    heading(t('sessions.heading'), t('sessions.lead')),
    h('div', { class: 'actions' }, logoutHere, logoutOthers),
    status,
    body,
  );

  function row(s) {
    const revoke = s.current
      ? h('span', { class: 'badge' }, t('sessions.thisDevice'))
      : h('button', { type: 'button', class: 'button secondary small' }, t('sessions.logoutOne'));
    if (!s.current) {
      revoke.setAttribute('aria-label', t('sessions.logoutOneLabel', { device: deviceName(s.user_agent) }));
      revoke.addEventListener('click', () =>
        whileBusy(revoke, async () => {
          try {
            await api.delete(`/api/v1/sessions/${encodeURIComponent(s.id)}`);
            say(t('sessions.loggedOutOne', { device: deviceName(s.user_agent) }));
            const next = li.nextElementSibling ?? li.previousElementSibling;
            li.remove();
            focus(next ?? list);
          } catch (error) {
            if (error.status === 404) li.remove();
            say(describeError(error), true);
          }
        }),
      );
    }
    const li = h(
      'li',
      { class: ['session', s.current && 'is-current'] },
      h(
        'div',
        { class: 'session-text' },
        h('strong', {}, deviceName(s.user_agent)),
        h(
          'span',
          { class: 'session-meta' },
          t('sessions.signedIn', { time: formatDateTime(s.created_at) }),
          ' · ',
          t('sessions.lastSeen', { time: formatDateTime(s.last_seen_at) }),
          s.ip ? ` · ${s.ip}` : '',
        ),
      ),
      revoke,
    );
    return li;
  }

  function say(text, isError = false) {
    status.className = isError ? 'form-alert' : 'form-alert is-success';
    status.replaceChildren(h('p', {}, text));
  }

  async function load(cursor) {
    try {
      const page = await api.get('/api/v1/sessions', { query: { cursor }, signal: ctx.signal });
      if (!cursor) {
        list.replaceChildren();
        body.replaceChildren(list, footer);
      }
      const before = list.children.length;
      list.append(...page.items.map(row));
      footer.replaceChildren();
      if (page.next_cursor) {
        const more = moreButton(async () => {
          more.disabled = true;
          await load(page.next_cursor);
          focus(list.children[before + page.items.length]);
        });
        footer.append(more);
      }
    } catch (error) {
      if (isAbort(error) || error.status === 401) return;
      body.replaceChildren(loadFailed(error, () => load()));
    }
  }

  async function logOutHere() {
    try {
      await api.delete('/api/v1/sessions/current');
    } catch (error) {
      if (error.status !== 401) return say(describeError(error), true);
    }
    session.clear();
    notice(t('sessions.loggedOut'), 'success');
    navigate('/login', { replace: true });
  }

  async function logOutOthers() {
    try {
      const { revoked } = await api.delete('/api/v1/sessions');
      say(tn('sessions.loggedOutOthers', revoked));
      await load();
    } catch (error) {
      if (error.status !== 401) say(describeError(error), true);
    }
  }

  load();
}
