// The frame around every screen: header (brand, language, theme), navigation by role,
// the busy bar, the offline banner, one-off notices, and the screen-reader announcer.
// Every part keeps its size whatever its state, so nothing below it jumps.
import { h } from './dom.js';
import { on } from './events.js';
import { t } from './i18n.js';
import * as icons from './icons.js';
import * as prefs from './prefs.js';
import { isStaff } from './session.js';

const NAV = {
  guest: [
    ['/login', 'nav.login'],
    ['/signup', 'nav.signup'],
  ],
  customer: [
    ['/card', 'nav.card'],
    ['/history', 'nav.history'],
    ['/sessions', 'nav.sessions'],
    ['/profile', 'nav.profile'],
  ],
  staff: [
    ['/staff', 'nav.staff'],
    ['/sessions', 'nav.sessions'],
    ['/profile', 'nav.profile'],
  ],
  admin: [
    ['/staff', 'nav.staff'],
    ['/admin', 'nav.admin'],
    ['/sessions', 'nav.sessions'],
    ['/profile', 'nav.profile'],
  ],
};

const el = {};
let pendingNotice = null;
let busyTimer = null;
let onRetry = () => {};
let lastUser = null;

function navKind(user) {
  if (!user) return 'guest';
  if (user.role === 'admin') return 'admin';
  return isStaff(user) ? 'staff' : 'customer';
}

/** Builds the frame once, into the static elements of index.html. */
export function init({ onPrefsChanged, retry }) {
  onRetry = retry;
  el.header = document.getElementById('app-header');
  el.nav = document.getElementById('app-nav');
  el.main = document.getElementById('main');
  el.busy = document.getElementById('busy');
  el.net = document.getElementById('net');
  el.live = document.getElementById('live');
  el.skip = document.querySelector('.skip-link');

  el.brand = h('a', { class: 'brand', href: '/' }, icons.cup(true), h('span', {}, 'stampcard'));
  el.lang = h('button', { type: 'button', class: 'tool-button', id: 'lang-toggle' });
  el.theme = h('button', { type: 'button', class: 'tool-button icon-button', id: 'theme-toggle' });
  el.lang.addEventListener('click', () => changePrefs({ language: prefs.get().language === 'ko' ? 'en' : 'ko' }));
  el.theme.addEventListener('click', () => changePrefs({ theme: prefs.get().theme === 'dark' ? 'light' : 'dark' }));
  el.header.replaceChildren(el.brand, h('div', { class: 'header-tools' }, el.lang, el.theme));

  el.notice = h('div', { class: 'notice', role: 'status' });
  el.screen = h('div', { class: 'screen' });
  el.main.replaceChildren(el.notice, el.screen);

  on('busy', (count) => {
    clearTimeout(busyTimer);
    if (count > 0) busyTimer = setTimeout(() => el.busy.classList.add('is-busy'), 150);
    else el.busy.classList.remove('is-busy');
  });
  on('connection', (ok) => setOffline(!ok));
  // The theme can change without a press here (a first visit follows the device's).
  on('prefs', () => refreshTexts());
  window.addEventListener('offline', () => setOffline(true));
  window.addEventListener('online', () => setOffline(false));
  if (!navigator.onLine) setOffline(true);

  async function changePrefs(change) {
    try {
      await prefs.save(change);
    } catch {
      // Applied here already; the cookie is written next time the server is reachable.
    }
    refreshTexts();
    // A new language re-renders the screen; a new theme is only CSS (the screen keeps its state).
    if ('language' in change) onPrefsChanged();
  }
  refreshTexts();
}

function setOffline(offline) {
  el.net.classList.toggle('is-visible', offline);
  el.net.replaceChildren(
    ...(offline
      ? [
          icons.offline(),
          h('span', {}, t('offline.message')),
          h('button', { type: 'button', class: 'link-button', onclick: () => onRetry() }, t('offline.retry')),
        ]
      : []),
  );
}

/** Texts that depend on the language (after a switch). */
export function refreshTexts() {
  const { language, theme } = prefs.get();
  el.skip.textContent = t('shell.skip');
  el.brand.setAttribute('aria-label', t('shell.home'));
  el.lang.textContent = language === 'ko' ? 'English' : '한국어';
  el.lang.lang = language === 'ko' ? 'en' : 'ko';
  el.lang.title = t('shell.language');
  el.theme.replaceChildren(theme === 'dark' ? icons.sun() : icons.moon(), h('span', { class: 'visually-hidden' }, t('shell.darkTheme')));
  el.theme.setAttribute('aria-pressed', String(theme === 'dark'));
  el.theme.title = t('shell.darkTheme');
  el.nav.setAttribute('aria-label', t('shell.nav'));
  if (el.net.classList.contains('is-visible')) setOffline(true);
  setNav(lastUser);
}

/** The links for this person, with the current page marked. */
export function setNav(user) {
  lastUser = user;
  const here = location.pathname;
  const links = NAV[navKind(user)].map(([path, key]) =>
    h('a', { href: path, 'aria-current': here === path ? 'page' : null }, t(key)),
  );
  el.nav.replaceChildren(h('div', { class: 'nav-inner' }, links));
  el.nav.dataset.kind = navKind(user);
  document.body.dataset.nav = navKind(user);
}

/** The element screens render into (emptied). */
export function screen() {
  el.screen.replaceChildren();
  el.screen.removeAttribute('aria-busy');
  return el.screen;
}

/** A notice for the next screen ("Your session ended..."), or now if `now`. */
export function notice(text, kind = 'info', now = false) {
  pendingNotice = { text, kind };
  if (now) showNotice();
}

export function showNotice() {
  el.notice.replaceChildren();
  el.notice.className = 'notice';
  if (!pendingNotice) return;
  el.notice.classList.add(`is-${pendingNotice.kind}`);
  el.notice.append(h('p', {}, pendingNotice.text));
  pendingNotice = null;
}

export function announce(text) {
  el.live.textContent = '';
  // A new text node after a tick, so the same words twice are read twice.
  setTimeout(() => {
    el.live.textContent = text;
  }, 50);
}
