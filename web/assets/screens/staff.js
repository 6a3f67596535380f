// The counter: built for speed. One field takes the customer's card code (scanned with the
// camera, typed by a handheld scanner with Enter, or read aloud: 8 digits) or a phone number;
// a count; one big button. After each stamp the field is empty and focused for the next
// customer, and the answer shows the customer's new balance with the phone masked (the queue
// is listening) and, when earned, a redeem button. This counter's recent events can be undone
// (voided) for 10 minutes; an admin sees the card's history and voids any event with a reason.
//
// Every stamp, redemption and void carries an Idempotency-Key, reused only when the same
// submission is retried after an unknown outcome, even from a rebuilt screen (idempotency.js),
// and the button is disabled while it is in flight: a double tap or a retry stamps once.
import { api, isAbort } from '../api.js';
import { cups, describe, progress } from '../cups.js';
import { fill, focus, h } from '../dom.js';
import { describeError } from '../errors.js';
import { checkRequired, clearErrors, field, formAlert, showError, showFieldError, whileBusy } from '../forms.js';
import { formatNumber, formatPhone, formatTime, t, tn, tnParts } from '../i18n.js';
import { Submission } from '../idempotency.js';
import * as icons from '../icons.js';
import { announce } from '../shell.js';
import { heading, reveal } from './common.js';
import { scanDialog, canScan } from './scanner.js';
import { voidDialog, cardHistory } from './voids.js';

export const titleKey = 'staff.title';

const MAX_COUNT = 10;
/** How long staff may void their own event (the server's rule; it has the last word). */
const UNDO_MS = 10 * 60 * 1000;

// What outlives the screen (a language switch, "Try again" and a reload rebuild it): the
// submissions waiting for a retry, and this counter's recent events with their undo.
const stamps = new Submission('stamp');
const redemptions = new Submission('redemption');
const recentEvents = { owner: null, items: [] };

/** The customer field's text as the API's body: 8 digits are a card code, the rest a phone. */
export function identify(text) {
  const compact = text.replace(/[\s-]/g, '');
  return /^\d{8}$/.test(compact) ? { card_code: compact } : { phone: text.trim() };
}

/** 010-1234-5678 -> 010-****-5678; another country's number keeps its last 4 digits. */
export function maskPhone(e164) {
  if (!e164) return '';
  const shown = formatPhone(e164);
  const parts = shown.split('-');
  if (parts.length === 3) return `${parts[0]}-${'*'.repeat(parts[1].length)}-${parts[2]}`;
  return shown.slice(0, -4).replace(/\d/g, '*') + shown.slice(-4);
}

function customerName(card) {
  return card.phone ? t('staff.customer', { phone: maskPhone(card.phone) }) : t('staff.customerNoPhone');
}

export function mount(root, ctx) {
  if (recentEvents.owner !== ctx.user.id) Object.assign(recentEvents, { owner: ctx.user.id, items: [] });
  const isAdmin = ctx.user.role === 'admin';
  let shown = null; // {who: the body that found the card, card}

  const countInput = h('input', {
    id: 'count',
    name: 'count',
    type: 'number',
    inputmode: 'numeric',
    min: '1',
    max: String(MAX_COUNT),
    value: '1',
    'aria-describedby': 'count-hint count-error',
  });
  const minus = h('button', { type: 'button', class: 'step', 'aria-label': t('staff.fewer') }, '−');
  const plus = h('button', { type: 'button', class: 'step', 'aria-label': t('staff.more') }, '+');
  const stampButton = h('button', { type: 'submit', class: 'button primary huge', id: 'stamp' });
  const lookupButton = h('button', { type: 'button', class: 'button secondary', id: 'lookup' }, t('staff.lookup'));
  const customerField = field({
    name: 'customer',
    label: t('staff.customerField'),
    type: 'text',
    hint: t('staff.customerHint'),
    attrs: { inputmode: 'tel', autocomplete: 'off', required: true, enterkeyhint: 'send', spellcheck: 'false' },
  });
  const customerInput = customerField.querySelector('input');
  const scanButton = canScan()
    ? h('button', { type: 'button', class: 'button secondary', id: 'scan' }, icons.camera(), h('span', {}, t('staff.scan')))
    : null;
  const retryNote = h('p', { class: 'retry-note', role: 'status' });
  const form = h(
    'form',
    { class: 'panel form counter', novalidate: true, id: 'stamp-form' },
    formAlert(),
    customerField,
    scanButton,
    h(
      'div',
      { class: 'field count-field', dataset: { field: 'count' } },
      h('label', { for: 'count' }, t('staff.count')),
      h('p', { class: 'hint', id: 'count-hint' }, t('staff.countHint')),
      h('div', { class: 'stepper' }, minus, countInput, plus),
      h('p', { class: 'field-error', id: 'count-error' }),
    ),
    stampButton,
    retryNote,
  );
  const result = h('section', { class: 'panel result', id: 'result', 'aria-live': 'polite', 'aria-labelledby': 'result-title' });
  const recent = h('ol', { class: 'recent' });
  const tools = h('div', { class: 'counter-tools' },
    h('div', { class: 'actions' }, lookupButton),
    h('section', { class: 'panel recent-panel', 'aria-labelledby': 'recent-title' },
      h('h2', { id: 'recent-title' }, t('staff.recent')),
      recent,
    ),
  );
  const voider = voidDialog();

  function count() {
    const n = Number.parseInt(countInput.value, 10);
    return Number.isFinite(n) ? n : 1;
  }
  function setCount(n) {
    countInput.value = String(Math.min(MAX_COUNT, Math.max(1, n)));
    label();
  }
  function label() {
    stampButton.replaceChildren(icons.cup(true), h('span', {}, tn('staff.stampButton', count())));
  }
  minus.addEventListener('click', () => setCount(count() - 1));
  plus.addEventListener('click', () => setCount(count() + 1));
  countInput.addEventListener('input', label);
  customerInput.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape' || !customerInput.value) return;
    event.preventDefault();
    customerInput.value = '';
    clearErrors(form);
  });
  label();

  /** Ready for the next customer: the field empty and focused, the count back to 1. */
  function nextCustomer() {
    customerInput.value = '';
    setCount(1);
    customerInput.focus({ preventScroll: true });
  }

  function showCard(card, who, what) {
    shown = { who, card };
    const p = progress(card);
    const parts = [
      h('h2', { id: 'result-title' }, customerName(card)),
      what ? h('p', { class: 'result-what' }, what) : null,
      h('p', { class: 'result-balance' }, tnParts('staff.onCard', card.balance, { count: h('strong', {}, formatNumber(card.balance)) })),
      cups(card, { compact: true }),
    ];
    if (p.ready) {
      const redeem = h('button', { type: 'button', class: 'button reward wide', id: 'redeem-for' }, icons.gift(), h('span', {}, t('staff.redeem')));
      redeem.addEventListener('click', () => whileBusy(redeem, () => redeemFor(who, redeem)));
      parts.push(h('p', { class: 'reward-ready' }, tn('staff.rewardReady', card.rewards_available)), redeem);
    } else {
      parts.push(h('p', { class: 'to-go' }, tn('card.toGo', p.perReward - p.towardNext)));
    }
    parts.push(h('div', { class: 'form-alert', role: 'alert', id: 'result-alert' }));
    if (isAdmin) parts.push(cardHistory({ who: card.phone ? { phone: card.phone } : who, voider, signal: ctx.signal, onVoided: (c) => showCard(c, who, t('staff.voided')) }));
    result.classList.toggle('is-ready', p.ready);
    fill(result, ...parts);
    // On a small phone the answer may be below the fold: bring it up (the redeem button too).
    reveal(result);
  }

  function placeholder() {
    result.classList.remove('is-ready');
    result.replaceChildren(
      h('h2', { id: 'result-title', class: 'visually-hidden' }, t('staff.resultTitle')),
      h('p', { class: 'placeholder' }, t('staff.placeholder')),
    );
  }

  function drawRecent() {
    recent.replaceChildren(...recentEvents.items.map(recentItem));
  }

  function recentItem(entry) {
    const { event, card } = entry;
    const what = event.kind === 'redeemed' ? t('staff.redeemed') : tn('staff.stamped', event.count);
    const li = h(
      'li',
      { class: ['recent-item', entry.undone && 'is-undone'] },
      h('time', { datetime: event.created_at }, formatTime(event.created_at)),
      ' ',
      h('span', {}, `${card.phone ? maskPhone(card.phone) : t('staff.noPhone')} · ${what}`),
      entry.undone ? h('span', { class: 'badge' }, t('staff.undone')) : null,
    );
    const left = entry.at + UNDO_MS - Date.now();
    if (event.id && event.kind === 'earned' && !entry.undone && left > 0) {
      const undo = h('button', { type: 'button', class: 'button secondary small undo' }, t('staff.undo'));
      undo.setAttribute('aria-label', t('staff.undoWhat', { what }));
      const alert = h('span', { class: 'recent-alert', role: 'alert' });
      undo.addEventListener('click', () =>
        whileBusy(undo, async () => {
          alert.textContent = '';
          const key = entry.submission.keyFor({});
          try {
            const answer = await api.post(`/api/v1/stamps/events/${encodeURIComponent(event.id)}/void`, {}, { idempotencyKey: key, signal: ctx.signal });
            entry.submission.settle();
            entry.undone = true;
            announce(`${t('staff.undone')}: ${what}. ${describe(answer.card)}`);
            if (shown && sameCustomer(shown.card, answer.card)) showCard(answer.card, shown.who, t('staff.undone'));
            drawRecent();
            focus(recent.querySelector('.recent-item'));
          } catch (error) {
            entry.submission.settle(error);
            if (isAbort(error) || error.status === 401) return;
            if (error.code === 'already_voided') {
              entry.undone = true;
              return drawRecent();
            }
            alert.textContent = describeError(error) + (entry.submission.pending ? ` ${t('common.retrySafe')}` : '');
          }
        }),
      );
      li.append(undo, alert);
      // The allowance ends: the button goes (the server would refuse it).
      const timer = setTimeout(() => undo.isConnected && undo.remove(), left);
      ctx.signal.addEventListener('abort', () => clearTimeout(timer));
    }
    return li;
  }

  function addRecent(event, card) {
    recentEvents.items.unshift({ event, card, at: Date.now(), undone: false, submission: new Submission() });
    recentEvents.items.length = Math.min(recentEvents.items.length, 5);
    drawRecent();
  }

  function customerError(error) {
    // Nobody with this number or code: said once, next to the field.
    if (error.code === 'customer_not_found' || error.code === 'card_code_not_found') {
      return showFieldError(form, 'customer', describeError(error));
    }
    showError(form, error, { phone: 'customer', card_code: 'customer' });
  }

  async function stamp() {
    if (!checkRequired(form)) return;
    const who = identify(customerInput.value);
    const body = { ...who, count: count() };
    const key = stamps.keyFor(body);
    retryNote.textContent = '';
    try {
      const { card, event: stamped } = await api.post('/api/v1/stamps', body, { idempotencyKey: key, signal: ctx.signal });
      stamps.settle();
      clearErrors(form);
      // Cleared before the next tap can reach it: a late second tap finds an empty field.
      nextCustomer();
      showCard(card, who, tn('staff.stamped', stamped.count));
      addRecent(stamped, card);
      announce(`${tn('staff.stamped', stamped.count)}. ${describe(card)}`);
    } catch (error) {
      stamps.settle(error);
      if (isAbort(error) || error.status === 401) return;
      customerError(error);
      if (stamps.pending) retryNote.textContent = t('common.retrySafe');
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    whileBusy(stampButton, stamp);
  });

  lookupButton.addEventListener('click', () =>
    whileBusy(lookupButton, async () => {
      if (!checkRequired(form)) return;
      const who = identify(customerInput.value);
      try {
        const card = await api.get('/api/v1/stamps', { query: who, signal: ctx.signal });
        clearErrors(form);
        showCard(card, who, null);
      } catch (error) {
        if (isAbort(error) || error.status === 401) return;
        customerError(error);
      }
    }),
  );

  scanButton?.addEventListener('click', async () => {
    const code = await scanDialog({ signal: ctx.signal });
    if (!code) return customerInput.focus();
    customerInput.value = code;
    form.requestSubmit();
  });

  async function redeemFor(who, button) {
    const key = redemptions.keyFor(who);
    const alert = result.querySelector('#result-alert');
    try {
      const { card, redemption } = await api.post('/api/v1/stamps/redemptions', who, { idempotencyKey: key, signal: ctx.signal });
      redemptions.settle();
      showCard(card, card.phone && who.card_code ? { phone: card.phone } : who, t('staff.redeemed'));
      // Listed without an undo: the answer names the redemption, not its event (an admin voids
      // it from the card's history).
      addRecent({ kind: 'redeemed', count: redemption.stamps_used, created_at: redemption.created_at }, card);
      announce(`${t('staff.redeemed')}. ${describe(card)}`);
      focus(result.querySelector('h2'));
    } catch (error) {
      redemptions.settle(error);
      if (isAbort(error) || error.status === 401) return;
      if (alert) {
        fill(alert, h('p', {}, describeError(error)), redemptions.pending ? h('p', {}, t('common.retrySafe')) : null);
        reveal(alert);
      }
      if (button.isConnected) button.focus({ preventScroll: true });
    }
  }

  placeholder();
  drawRecent();
  // A submission whose answer was lost, from before the screen was rebuilt: the form as it
  // was sent, so that pressing the button again is the same submission (the same key).
  const waiting = stamps.pendingBody;
  if (waiting) {
    customerInput.value = waiting.card_code ?? waiting.phone ?? '';
    setCount(waiting.count ?? 1);
    retryNote.textContent = t('common.retrySafe');
  }
  root.append(
    heading(t('staff.heading')),
    // Phone: form, answer, tools, one under the other. Wider: the answer beside the form.
    h('div', { class: 'counter-layout' }, form, result, tools),
    voider.element,
  );
}

function sameCustomer(a, b) {
  return a.phone && b.phone ? a.phone === b.phone : false;
}
