// The card's history, newest first, a page at a time (`next_cursor`).
import { api, isAbort } from '../api.js';
import { focus, h } from '../dom.js';
import { formatDateTime, formatNumber, t, tn } from '../i18n.js';
import * as icons from '../icons.js';
import { heading, loadFailed, moreButton, skeleton } from './common.js';

export const titleKey = 'history.title';

const PAGE = 20;

export function mount(root, ctx) {
  const list = h('ol', { class: 'events', 'aria-label': t('history.listLabel') });
  const footer = h('div', { class: 'list-foot' });
  const body = h('div', { class: 'panel list-panel' }, skeleton(5));
  root.append(heading(t('history.heading')), body);

  function item(event) {
    const earned = event.kind === 'earned';
    const text = event.kind === 'voided'
      ? tn('history.voidedEvent', event.count)
      : earned ? tn('history.earned', event.count) : tn('history.redeemed', event.count);
    return h(
      'li',
      { class: ['event', `is-${event.kind}`, event.voided && 'is-voided'] },
      h('span', { class: 'event-icon' }, event.kind === 'redeemed' ? icons.gift() : icons.cup(earned)),
      h(
        'span',
        { class: 'event-text' },
        h('strong', {}, text),
        h(
          'span',
          { class: 'event-meta' },
          h('time', { datetime: event.created_at }, formatDateTime(event.created_at)),
          event.voided ? ` · ${t('history.cancelled')}` : null,
        ),
      ),
      h('span', { class: 'event-balance' }, t('history.balanceAfter', { balance: formatNumber(event.balance_after) })),
    );
  }

  async function load(cursor) {
    try {
      const page = await api.get('/api/v1/stamps/events', { query: { limit: PAGE, cursor }, signal: ctx.signal });
      if (!cursor) {
        body.replaceChildren(page.items.length ? list : h('p', { class: 'empty' }, t('history.empty')), footer);
      }
      list.append(...page.items.map(item));
      footer.replaceChildren();
      if (page.next_cursor) {
        const more = moreButton(async () => {
          more.disabled = true;
          const before = list.children.length;
          await load(page.next_cursor);
          // The button is gone: keep the keyboard where the new entries begin.
          focus(list.children[before]);
        });
        footer.append(more);
      }
    } catch (error) {
      if (isAbort(error) || error.status === 401) return;
      if (!cursor) body.replaceChildren(loadFailed(error, () => load()));
      else footer.replaceChildren(loadFailed(error, () => load(cursor)));
    }
  }
  load();
}
