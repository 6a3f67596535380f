// Start-up and the screen switch: preferences, who is logged in, then one screen per route,
// checked against the person's role. A 401 from any call ends up at the login screen, which
// comes back here afterwards.
import { focus } from './dom.js';
import { on } from './events.js';
import { t } from './i18n.js';
import * as prefs from './prefs.js';
import { currentPath, loginUrl, navigate, start } from './router.js';
import * as session from './session.js';
import * as shell from './shell.js';

import * as home from './screens/home.js';
import * as login from './screens/login.js';
import * as signup from './screens/signup.js';
import * as forgotPassword from './screens/forgot-password.js';
import * as resetPassword from './screens/reset-password.js';
import * as verifyEmail from './screens/verify-email.js';
import * as card from './screens/card.js';
import * as historyScreen from './screens/history.js';
import * as sessions from './screens/sessions.js';
import * as profile from './screens/profile.js';
import * as staff from './screens/staff.js';
import * as admin from './screens/admin.js';
import * as notFound from './screens/notfound.js';
import * as forbidden from './screens/forbidden.js';
import * as startupError from './screens/startup-error.js';

// access: public (anyone), guest (logged-out only), user, staff (staff or admin), admin.
// The paths are those of routes.js (a test checks they agree).
const SCREENS = {
  '/': { access: 'public', screen: home },
  '/login': { access: 'guest', screen: login },
  '/signup': { access: 'guest', screen: signup },
  // Public, not guest: a link from the mail must work in a browser logged in to any account (or
  // none: the link that proves an email may be opened anywhere).
  '/forgot-password': { access: 'public', screen: forgotPassword },
  '/reset-password': { access: 'public', screen: resetPassword },
  '/verify-email': { access: 'public', screen: verifyEmail },
  '/card': { access: 'user', screen: card },
  '/history': { access: 'user', screen: historyScreen },
  '/sessions': { access: 'user', screen: sessions },
  '/profile': { access: 'user', screen: profile },
  '/staff': { access: 'staff', screen: staff },
  '/admin': { access: 'admin', screen: admin },
};

let sessionKnown = false;
let controller = null;
let renders = 0;

function allowed(access, user) {
  if (access === 'staff') return session.isStaff(user);
  if (access === 'admin') return user?.role === 'admin';
  return true;
}

async function render({ initial = false, keepFocus = false } = {}) {
  const token = ++renders;
  controller?.abort();
  controller = new AbortController();

  if (!sessionKnown) {
    try {
      await session.load();
      sessionKnown = true;
    } catch {
      if (token !== renders) return;
      return mount(startupError, { keepFocus: true });
    }
    if (token !== renders) return;
  }

  const path = location.pathname;
  const user = session.user();
  const route = SCREENS[path];
  if (!route) return mount(notFound, { initial, keepFocus });
  // A deactivated account lands on the login screen, which says so (not on the start page).
  const deactivated = !user && session.endedBecause() === 'account_deactivated';
  if (deactivated && path !== '/login' && (path === '/' || route.access !== 'public')) {
    return navigate('/login', { replace: true });
  }
  if (route.access === 'guest' && user) return navigate(session.homeFor(user), { replace: true });
  if (path === '/' && user) return navigate(session.homeFor(user), { replace: true });
  if (['user', 'staff', 'admin'].includes(route.access) && !user) {
    return navigate(loginUrl(), { replace: true });
  }
  if (!allowed(route.access, user)) return mount(forbidden, { initial, keepFocus });
  return mount(route.screen, { initial, keepFocus });
}

function mount(screen, { initial = false, keepFocus = false }) {
  const user = session.user();
  shell.setNav(user);
  const root = shell.screen();
  shell.showNotice();
  const title = t(screen.titleKey);
  document.title = `${title} · stampcard`;
  const ctx = {
    signal: controller.signal,
    user,
    query: new URLSearchParams(location.search),
    rerender: () => render({ keepFocus: true }),
  };
  try {
    const done = screen.mount(root, ctx);
    if (done instanceof Promise) done.catch((error) => console.error(error));
  } catch (error) {
    console.error(error);
  }
  if (!initial && !keepFocus) {
    focus(root.querySelector('h1'));
    shell.announce(title);
  }
}

// A session that ended anywhere (revoked from another device, expired): to the login screen,
// and back here afterwards. An account an admin deactivated: to the login screen, which says
// so (no way back: the pages behind it are closed to that account).
on('unauthenticated', (error) => {
  session.ended(error);
  if (session.endedBecause() === 'account_deactivated') {
    navigate('/login', { replace: true });
    return;
  }
  const here = currentPath();
  if (location.pathname === '/login' || location.pathname === '/signup') return;
  shell.notice(t('auth.sessionEnded'), 'warning');
  navigate(loginUrl(here), { replace: true });
});

async function boot() {
  shell.init({
    onPrefsChanged: () => render({ keepFocus: true }),
    retry: () => render({ keepFocus: true }),
  });
  await prefs.load();
  shell.refreshTexts();
  start((change) => render(change));
}

boot();
