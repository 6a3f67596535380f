// The audit log: who changed what, newest first, a page at a time, filtered by who did it and
// by the kind of change. Entries name people as they are called now (the server looks the
// names up when it answers); an account that is gone has no name any more.
import { api, isAbort } from '../api.js';
import { focus, h } from '../dom.js';
import { formatDateTime, t } from '../i18n.js';
import { loadFailed, moreButton, skeleton } from './common.js';
import { reasonText } from './voids.js';

export const ACTIONS = [
  'user.created',
  'user.role_changed',
  'user.deactivated',
  'user.reactivated',
  'user.username_changed',
  'user.email_changed',
  'user.phone_changed',
  'user.password_changed',
  'user.password_reset',
  'user.deleted',
  'account.locked',
  'stamp.voided',
  'sessions.revoked',
];

function who(entry) {
  if (entry.actor) return entry.actor.username ?? t('audit.goneAccount');
  return entry.detail?.via === 'cli' ? t('audit.cli') : t('audit.system');
}

/** "By {actor}, for {target}", each name in an element of its own (it is data, not our words). */
function byOn(entry) {
  const name = (text, username) => h('span', { class: 'audit-name', dataset: username ? { username } : {} }, text);
  const actor = entry.actor ? name(entry.actor.username ?? t('audit.goneAccount'), entry.actor.username) : name(who(entry));
  const target = entry.target ? name(entry.target.username ?? t('audit.goneAccount'), entry.target.username) : name('–');
  return t('audit.byOn', { actor: '\u0001', target: '\u0002' })
    .split(/([\u0001\u0002])/)
    .filter(Boolean)
    .map((part) => (part === '\u0001' ? actor : part === '\u0002' ? target : part));
}

function details(entry) {
  const d = entry.detail ?? {};
  switch (entry.action) {
    case 'user.role_changed':
      return t('audit.roleChange', { from: t(`role.${d.from}`), to: t(`role.${d.to}`) });
    case 'user.created':
      return d.role ? t(`role.${d.role}`) : null;
    case 'stamp.voided':
      return [t('audit.voidCount', { count: d.count }), d.reason ? [' · ', reasonText(d.reason)] : null];
    default:
      return null;
  }
}

export function mountAudit(root, ctx) {
  const actor = h('select', { id: 'audit-actor', name: 'actor' }, h('option', { value: '' }, t('audit.anyone')));
  const action = h(
    'select',
    { id: 'audit-action', name: 'action' },
    h('option', { value: '' }, t('audit.anything')),
    ACTIONS.map((name) => h('option', { value: name }, t(`audit.action.${name}`))),
  );
  const form = h(
    'form',
    { class: 'panel form audit-filters', role: 'search' },
    h('div', { class: 'field' }, h('label', { for: 'audit-actor' }, t('audit.actor')), actor),
    h('div', { class: 'field' }, h('label', { for: 'audit-action' }, t('audit.action')), action),
  );
  const list = h('ol', { class: 'audit-list', 'aria-label': t('audit.listLabel') });
  const footer = h('div', { class: 'list-foot' });
  const body = h('div', { class: 'panel list-panel' }, skeleton(5));
  root.append(form, body);

  // Who can be chosen: the staff and admins, and anyone else who acted (the staff report).
  api.get('/api/v1/reports/staff', { signal: ctx.signal }).then(
    (report) => {
      for (const item of report.items) if (item.user.username) actor.append(h('option', { value: item.user.id }, item.user.username));
    },
    () => {}, // the list still works without the names to choose from
  );

  function item(entry) {
    const more = details(entry);
    return h(
      'li',
      { class: 'audit-entry', dataset: { action: entry.action } },
      h('strong', {}, t(`audit.action.${entry.action}`, {}) ),
      h('span', { class: 'audit-who' }, byOn(entry)),
      more ? h('span', { class: 'audit-detail' }, more) : null,
      h('span', { class: 'event-meta' }, h('time', { datetime: entry.at }, formatDateTime(entry.at)), entry.ip ? ` · ${entry.ip}` : null),
    );
  }

  let token = 0;
  async function load(cursor) {
    const mine = cursor ? token : ++token;
    try {
      const page = await api.get('/api/v1/audit', {
        query: { limit: 20, cursor, actor: actor.value, action: action.value },
        signal: ctx.signal,
      });
      if (mine !== token) return;
      if (!cursor) {
        list.replaceChildren();
        body.replaceChildren(page.items.length ? list : h('p', { class: 'empty' }, t('audit.empty')), footer);
      }
      const before = list.children.length;
      list.append(...page.items.map(item));
      footer.replaceChildren();
      if (page.next_cursor) {
        const button = moreButton(async () => {
          button.disabled = true;
          await load(page.next_cursor);
          focus(list.children[before + page.items.length]);
        });
        footer.append(button);
      }
    } catch (error) {
      if (isAbort(error) || error.status === 401) return;
      body.replaceChildren(loadFailed(error, () => load(cursor)));
    }
  }
  actor.addEventListener('change', () => load());
  action.addEventListener('change', () => load());
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    load();
  });
  load();
}
