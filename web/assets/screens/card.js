// The customer's card: cups that fill up, a clear "free coffee ready" state, and redeeming it
// (with its own Idempotency-Key, so a double tap or a retry redeems once). Refreshes itself
// while visible, so a stamp from the counter shows up without a reload.
import { api, isAbort } from '../api.js';
import { cups, describe, progress } from '../cups.js';
import { fill, h } from '../dom.js';
import { describeError } from '../errors.js';
import { formatDateTime, formatNumber, formatTime, t, tn } from '../i18n.js';
import { Submission } from '../idempotency.js';
import * as icons from '../icons.js';
import { announce } from '../shell.js';
import { heading, loadFailed, reveal } from './common.js';

export const titleKey = 'card.title';

const REFRESH_MS = 15000;

/** The card's shape while it loads: a title, the usual ten cups, a line (nothing moves later). */
function cardSkeleton() {
  return h(
    'div',
    { class: 'skeleton card-skeleton', 'aria-hidden': 'true' },
    h('span', { class: 'skeleton-line' }),
    h('div', { class: 'cups' }, Array.from({ length: 10 }, () => h('span', { class: 'cup-slot' }))),
    h('span', { class: 'skeleton-line' }),
  );
}

export function mount(root, ctx) {
  const redemption = new Submission();
  let card = null;

  const panel = h('section', { class: 'panel card-panel', 'aria-labelledby': 'card-status' });
  const message = h('div', { class: 'card-message', role: 'status' });
  const stats = h('dl', { class: 'stats' });
  const refresh = h('button', { type: 'button', class: 'button secondary small', onclick: () => load() }, t('card.refresh'));
  const updated = h('p', { class: 'updated' });
  const dialog = confirmDialog();

  fill(
    root,
    heading(t('card.heading')),
    panel,
    message,
    stats,
    h('div', { class: 'card-foot' }, updated, refresh),
    ctx.user.phone ? null : h('p', { class: 'aside' }, t('card.noPhone'), ' ', h('a', { href: '/profile' }, t('card.addPhone'))),
    dialog.element,
  );
  panel.append(cardSkeleton());
  drawStats(null);
  updated.textContent = '\u00a0';

  /** The three numbers; dashes until the card is here, so nothing below moves when it comes. */
  function drawStats(c) {
    const value = (n) => (c ? formatNumber(n) : '–');
    stats.replaceChildren(
      h('div', {}, h('dt', {}, t('card.balance')), h('dd', {}, value(c?.balance))),
      h('div', {}, h('dt', {}, t('card.totalEarned')), h('dd', {}, value(c?.total_earned))),
      h('div', {}, h('dt', {}, t('card.totalRedeemed')), h('dd', {}, value(c?.total_redeemed))),
    );
  }

  function draw() {
    const p = progress(card);
    const status = h('h2', { id: 'card-status', class: 'card-status' }, describe(card));
    let action;
    if (p.ready) {
      action = h(
        'div',
        { class: 'card-action' },
        h('p', { class: 'ready-note' }, icons.gift(), t('card.readyNote')),
        p.towardNext > 0 ? h('p', { class: 'to-go' }, tn('card.extra', p.towardNext)) : null,
        h('button', { type: 'button', class: 'button primary wide', id: 'redeem', onclick: () => dialog.open() }, t('card.redeem')),
      );
    } else {
      const left = p.perReward - p.towardNext;
      action = h('div', { class: 'card-action' }, h('p', { class: 'to-go' }, tn('card.toGo', left)));
    }
    panel.classList.toggle('is-ready', p.ready);
    fill(panel, status, cups(card), action);
    drawStats(card);
    updated.textContent = card.updated_at ? t('card.updatedAt', { time: formatDateTime(card.updated_at) }) : t('card.neverStamped');
  }

  async function load({ quiet = false } = {}) {
    try {
      const fresh = await api.get('/api/v1/stamps', { signal: ctx.signal });
      const changed = card && fresh.balance !== card.balance;
      card = fresh;
      if (message.classList.contains('is-error')) fill(message);
      draw();
      if (changed) announce(describe(card));
    } catch (error) {
      if (isAbort(error) || error.status === 401) return;
      if (!card) return panel.replaceChildren(loadFailed(error, () => load()));
      // The card on screen stays (it is the last known state); say why it is not fresher.
      if (!quiet) {
        message.className = 'card-message is-error';
        fill(message, h('p', {}, describeError(error)));
      }
    }
  }

  async function redeem(button) {
    if (button.disabled) return;
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    const key = redemption.keyFor({});
    try {
      const result = await api.post('/api/v1/stamps/redemptions', {}, { idempotencyKey: key });
      redemption.settle();
      card = result.card;
      dialog.close();
      draw();
      message.className = 'card-message is-success';
      message.replaceChildren(
        h('p', {}, t('card.redeemed', { time: formatTime(result.redemption.created_at) })),
      );
      reveal(message);
    } catch (error) {
      redemption.settle(error);
      if (error.status === 401) return dialog.close();
      dialog.showError(error, redemption.pending);
      if (error.code === 'insufficient_stamps') load({ quiet: true });
    } finally {
      button.disabled = false;
      button.removeAttribute('aria-busy');
    }
  }

  function confirmDialog() {
    const errorBox = h('div', { class: 'form-alert', role: 'alert' });
    const confirm = h('button', { type: 'button', class: 'button primary', id: 'redeem-confirm' }, t('card.redeemConfirm'));
    const cancel = h('button', { type: 'button', class: 'button secondary' }, t('common.cancel'));
    const element = h(
      'dialog',
      { class: 'dialog', 'aria-labelledby': 'redeem-title', 'aria-describedby': 'redeem-text' },
      h('h2', { id: 'redeem-title' }, t('card.redeemTitle')),
      h('p', { id: 'redeem-text' }, ''),
      errorBox,
      h('div', { class: 'dialog-actions' }, cancel, confirm),
    );
    confirm.addEventListener('click', () => redeem(confirm));
    cancel.addEventListener('click', () => element.close());
    return {
      element,
      open() {
        errorBox.replaceChildren();
        element.querySelector('#redeem-text').textContent = t('card.redeemText', { count: card.stamps_per_reward });
        element.showModal();
        confirm.focus();
      },
      close() {
        if (element.open) element.close();
      },
      showError(error, retrying) {
        fill(errorBox, h('p', {}, describeError(error)), retrying ? h('p', {}, t('common.retrySafe')) : null);
      },
    };
  }

  load();
  const timer = setInterval(() => {
    if (document.visibilityState === 'visible' && !dialog.element.open) load({ quiet: true });
  }, REFRESH_MS);
  const onVisible = () => document.visibilityState === 'visible' && load({ quiet: true });
  document.addEventListener('visibilitychange', onVisible);
  ctx.signal.addEventListener('abort', () => {
    clearInterval(timer);
    document.removeEventListener('visibilitychange', onVisible);
    dialog.close();
  });
}
