// History-API routing over the paths of routes.js. Links to those paths are handled in the
// page; anything else is a normal navigation. The app decides what each path shows.
import { isRoute } from './routes.js';

let onChange = () => {};

export function currentPath() {
  return location.pathname + location.search;
}

/** The login screen, coming back to `next` (this page by default) afterwards. */
export function loginUrl(next = currentPath()) {
  return next && next !== '/' ? `/login?next=${encodeURIComponent(next)}` : '/login';
}

export function navigate(to, { replace = false } = {}) {
  const url = new URL(to, location.origin);
  if (url.origin !== location.origin) {
    location.assign(url.href);
    return;
  }
  const target = url.pathname + url.search + url.hash;
  if (replace) history.replaceState(null, '', target);
  else if (target !== currentPath()) history.pushState(null, '', target);
  onChange({ replaced: replace });
}

/**
 * A local path that is one of our routes, else null: what a `next` parameter may send us to
 * (the server checks it too; this keeps us from following anything else).
 */
export function safeNext(next) {
  if (typeof next !== 'string' || !next.startsWith('/') || next.startsWith('//')) return null;
  if (/[\\\s\u0000-\u001f]/.test(next)) return null;
  try {
    const url = new URL(next, location.origin);
    if (url.origin !== location.origin || !isRoute(url.pathname)) return null;
    return url.pathname + url.search;
  } catch {
    return null;
  }
}

function onClick(event) {
  if (event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const link = event.target.closest?.('a[href]');
  if (!link || link.target || link.hasAttribute('download')) return;
  const url = new URL(link.href);
  if (url.origin !== location.origin || !isRoute(url.pathname)) return;
  // A jump within this page (the skip link): the browser's own business.
  if (url.hash && url.pathname === location.pathname && url.search === location.search) return;
  event.preventDefault();
  navigate(url.pathname + url.search);
}

export function start(handler) {
  let shown = null;
  onChange = (change) => {
    shown = currentPath();
    handler(change);
  };
  window.addEventListener('popstate', () => {
    // Only the #fragment changed (the skip link): same screen, nothing to do.
    if (currentPath() === shown) return;
    onChange({ replaced: false, popped: true });
  });
  document.addEventListener('click', onClick);
  onChange({ initial: true });
}
