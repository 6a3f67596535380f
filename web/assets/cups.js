// The stamp card drawn as cups: `stamps_per_reward` of them (from the API, not a constant),
// as many filled as the balance, all of them when a free coffee is ready.
import { h } from './dom.js';
import { t, tn } from './i18n.js';
import * as icons from './icons.js';

/** How a card reads: stamps toward the next reward, and whether one is ready. */
export function progress(card) {
  const perReward = Math.max(1, card.stamps_per_reward);
  const ready = card.rewards_available > 0;
  const towardNext = card.balance - card.rewards_available * perReward;
  return { perReward, ready, towardNext, filled: ready ? perReward : towardNext };
}

export function describe(card) {
  const p = progress(card);
  if (p.ready) return tn('card.readyCount', card.rewards_available);
  return t('card.progress', { balance: p.filled, total: p.perReward });
}

export function cups(card, { compact = false } = {}) {
  const p = progress(card);
  const columns = p.perReward <= 4 ? `cols-${p.perReward}` : 'cols-5';
  return h(
    'div',
    {
      class: ['cups', columns, p.ready && 'is-ready', compact && 'is-compact'],
      role: 'img',
      'aria-label': describe(card),
    },
    Array.from({ length: p.perReward }, (_, i) => h('span', { class: 'cup-slot' }, icons.cup(i < p.filled))),
  );
}
