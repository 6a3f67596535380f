// The owner's screens, one route with a view each (`/admin?view=`): the users (the default),
// today and the last 30 days, the audit log, and the poster with the signup link's QR code.
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { heading } from './common.js';
import { mountAudit } from './admin-audit.js';
import { mountOverview } from './admin-overview.js';
import { mountPoster } from './admin-poster.js';
import { mountUsers } from './admin-users.js';

export const titleKey = 'admin.title';

const VIEWS = {
  users: { key: 'admin.viewUsers', mount: mountUsers },
  overview: { key: 'admin.viewOverview', mount: mountOverview },
  audit: { key: 'admin.viewAudit', mount: mountAudit },
  poster: { key: 'admin.viewPoster', mount: mountPoster },
};

export function mount(root, ctx) {
  const name = VIEWS[ctx.query.get('view')] ? ctx.query.get('view') : 'users';
  const view = VIEWS[name];
  const tabs = h(
    'nav',
    { class: 'admin-tabs', 'aria-label': t('admin.views') },
    Object.entries(VIEWS).map(([key, { key: label }]) =>
      h('a', { href: key === 'users' ? '/admin' : `/admin?view=${key}`, 'aria-current': key === name ? 'page' : null }, t(label)),
    ),
  );
  root.append(heading(t(`${view.key}.heading`)), tabs);
  root.classList.toggle('is-poster', name === 'poster');
  ctx.signal.addEventListener('abort', () => root.classList.remove('is-poster'));
  view.mount(root, ctx);
}
