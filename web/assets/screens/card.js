// The customer's card: cups that fill up, a clear "free coffee ready" state, and the card code
// the barista scans (a QR code and its 8 digits, renewed before it expires). Rewards are
// redeemed at the counter, from the barista's screen: a picture of this one proves nothing.
// The card follows the server's stream (live.js), so a stamp shows while the customer still
// stands at the counter.
import { api, isAbort } from '../api.js';
import { cups, describe, progress } from '../cups.js';
import { fill, h } from '../dom.js';
import { describeError } from '../errors.js';
import { formatDateTime, formatNumber, t, tn } from '../i18n.js';
import * as icons from '../icons.js';
import { liveCard } from '../live.js';
import { qrCode } from '../qr.js';
import { announce } from '../shell.js';
import { heading, loadFailed } from './common.js';

export const titleKey = 'card.title';

/** A new code this long before the old one expires (the barista may be scanning it). */
const RENEW_BEFORE_MS = 20_000;

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

/** 12345678 -> "1234 5678": read aloud in two halves. */
export function spacedCode(code) {
  return `${code.slice(0, 4)} ${code.slice(4)}`;
}

export function mount(root, ctx) {
  let card = null;

  const panel = h('section', { class: 'panel card-panel', 'aria-labelledby': 'card-status' });
  const message = h('div', { class: 'card-message', role: 'status' });
  const stats = h('dl', { class: 'stats' });
  const updated = h('p', { class: 'updated' });
  const refresh = h('button', { type: 'button', class: 'button secondary small', onclick: () => load() }, t('card.refresh'));
  const codePanel = cardCode(ctx);

  fill(
    root,
    heading(t('card.heading')),
    panel,
    codePanel.element,
    message,
    stats,
    h('div', { class: 'card-foot' }, updated, refresh),
    ctx.user.phone ? null : h('p', { class: 'aside' }, t('card.noPhone'), ' ', h('a', { href: '/profile' }, t('card.addPhone'))),
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

  function show(fresh) {
    const before = card;
    card = fresh;
    if (message.classList.contains('is-error')) fill(message);
    draw();
    if (!before) return;
    if (fresh.balance !== before.balance) announce(describe(card));
    // A redemption used the code up: the next one is needed at once.
    if (fresh.total_redeemed !== before.total_redeemed) codePanel.renew();
  }

  async function load({ quiet = false } = {}) {
    try {
      show(await api.get('/api/v1/stamps', { signal: ctx.signal }));
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

  load();
  liveCard({ signal: ctx.signal, onCard: show, poll: () => load({ quiet: true }) });
}

/**
 * The card code: a QR code and its digits, asked for when the screen opens and again before it
 * expires (only while the page is visible: a phone in a pocket makes none).
 */
function cardCode(ctx) {
  const picture = h('div', { class: 'code-picture' }, h('div', { class: 'qr qr-placeholder', 'aria-hidden': 'true' }));
  const digits = h('p', { class: 'code-digits', id: 'card-code' }, '\u00a0');
  const note = h('p', { class: 'code-note', role: 'status' }, t('card.codeNote'));
  const element = h(
    'section',
    { class: 'panel code-panel', 'aria-labelledby': 'code-title' },
    h('h2', { id: 'code-title' }, t('card.codeTitle')),
    picture,
    digits,
    note,
  );
  let timer = null;
  let expiresAt = 0;
  let asking = false;

  function schedule(ms) {
    clearTimeout(timer);
    timer = setTimeout(renew, Math.max(1000, ms));
  }

  async function renew() {
    clearTimeout(timer);
    if (asking || ctx.signal.aborted) return;
    if (document.visibilityState !== 'visible') return; // visibilitychange asks again
    asking = true;
    try {
      const { code, expires_at: expires } = await api.post('/api/v1/stamps/card-code', {}, { signal: ctx.signal });
      expiresAt = Date.parse(expires);
      picture.replaceChildren(qrCode(code, { label: t('card.codeLabel', { code: spacedCode(code) }) }));
      digits.textContent = spacedCode(code);
      note.textContent = t('card.codeNote');
      note.classList.remove('is-error');
      element.classList.remove('is-stale');
      schedule(expiresAt - Date.now() - RENEW_BEFORE_MS);
    } catch (error) {
      if (isAbort(error) || error.status === 401) return;
      note.textContent = describeError(error);
      note.classList.add('is-error');
      if (Date.now() >= expiresAt) element.classList.add('is-stale');
      schedule((error.retryAfter ?? 10) * 1000);
    } finally {
      asking = false;
    }
  }

  const onVisible = () => {
    if (document.visibilityState === 'visible' && Date.now() > expiresAt - RENEW_BEFORE_MS) renew();
  };
  document.addEventListener('visibilitychange', onVisible);
  ctx.signal.addEventListener('abort', () => {
    clearTimeout(timer);
    document.removeEventListener('visibilitychange', onVisible);
  });
  renew();
  return { element, renew };
}
