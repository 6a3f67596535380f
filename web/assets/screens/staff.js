// The counter: built for speed. A phone number in any format, a count, one big button; after
// each stamp the customer's new balance and, when earned, "free coffee ready" with a redeem
// button. Every stamp and redemption carries its own Idempotency-Key, reused only when the same
// submission is retried after an unknown outcome, and the button is disabled while it is in
// flight: a double tap or a retry on a flaky connection stamps once.
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

export const titleKey = 'staff.title';

const MAX_COUNT = 10;

export function mount(root, ctx) {
  const stamps = new Submission();
  const redemptions = new Submission();

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
  const phoneField = field({
    name: 'phone',
    label: t('staff.phone'),
    type: 'tel',
    hint: t('staff.phoneHint'),
    attrs: { inputmode: 'tel', autocomplete: 'off', required: true, enterkeyhint: 'send' },
  });
  const phoneInput = phoneField.querySelector('input');
  const retryNote = h('p', { class: 'retry-note', role: 'status' });
  const form = h(
    'form',
    { class: 'panel form counter', novalidate: true, id: 'stamp-form' },
    formAlert(),
    phoneField,
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
  label();

  function showCard(card, what) {
    const p = progress(card);
    const parts = [
      h('h2', { id: 'result-title' }, t('staff.customer', { phone: formatPhone(card.phone) })),
      what ? h('p', { class: 'result-what' }, what) : null,
      h('p', { class: 'result-balance' }, tnParts('staff.onCard', card.balance, { count: h('strong', {}, formatNumber(card.balance)) })),
      cups(card, { compact: true }),
    ];
    if (p.ready) {
      const redeem = h('button', { type: 'button', class: 'button reward wide', id: 'redeem-for' }, icons.gift(), h('span', {}, t('staff.redeem')));
      redeem.addEventListener('click', () => whileBusy(redeem, () => redeemFor(card.phone)));
      parts.push(h('p', { class: 'reward-ready' }, tn('staff.rewardReady', card.rewards_available)), redeem);
    } else {
      parts.push(h('p', { class: 'to-go' }, tn('card.toGo', p.perReward - p.towardNext)));
    }
    parts.push(h('div', { class: 'form-alert', role: 'alert', id: 'result-alert' }));
    result.classList.toggle('is-ready', p.ready);
    fill(result, ...parts);
    // On a small phone the answer may be below the fold: bring it up.
    reveal(result);
  }

  function placeholder() {
    result.classList.remove('is-ready');
    result.replaceChildren(
      h('h2', { id: 'result-title', class: 'visually-hidden' }, t('staff.resultTitle')),
      h('p', { class: 'placeholder' }, t('staff.placeholder')),
    );
  }

  function addRecent(text) {
    recent.prepend(h('li', {}, h('time', {}, formatTime(new Date().toISOString())), ' ', text));
    while (recent.children.length > 5) recent.lastElementChild.remove();
  }

  function phoneError(error) {
    // Nobody with this number: said once, next to the number.
    if (error.code === 'customer_not_found') return showFieldError(form, 'phone', describeError(error));
    showError(form, error);
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    whileBusy(stampButton, async () => {
      if (!checkRequired(form)) return;
      const body = { phone: phoneInput.value.trim(), count: count() };
      const key = stamps.keyFor(body);
      retryNote.textContent = '';
      try {
        const { card, event: stamped } = await api.post('/api/v1/stamps', body, { idempotencyKey: key, signal: ctx.signal });
        stamps.settle();
        clearErrors(form);
        showCard(card, tn('staff.stamped', stamped.count));
        addRecent(`${formatPhone(card.phone)} · ${tn('staff.stamped', stamped.count)} → ${describe(card)}`);
        announce(`${tn('staff.stamped', stamped.count)}. ${describe(card)}`);
        setCount(1);
      } catch (error) {
        stamps.settle(error);
        if (isAbort(error) || error.status === 401) return;
        phoneError(error);
        if (stamps.pending) retryNote.textContent = t('common.retrySafe');
      }
    });
  });

  lookupButton.addEventListener('click', () =>
    whileBusy(lookupButton, async () => {
      if (!checkRequired(form)) return;
      try {
        const card = await api.get('/api/v1/stamps', { query: { phone: phoneInput.value.trim() }, signal: ctx.signal });
        clearErrors(form);
        showCard(card, null);
      } catch (error) {
        if (isAbort(error) || error.status === 401) return;
        phoneError(error);
      }
    }),
  );

  async function redeemFor(phone) {
    const body = { phone };
    const key = redemptions.keyFor(body);
    try {
      const { card } = await api.post('/api/v1/stamps/redemptions', body, { idempotencyKey: key, signal: ctx.signal });
      redemptions.settle();
      showCard(card, t('staff.redeemed'));
      addRecent(`${formatPhone(card.phone)} · ${t('staff.redeemed')} → ${describe(card)}`);
      announce(`${t('staff.redeemed')}. ${describe(card)}`);
      focus(result.querySelector('h2'));
    } catch (error) {
      redemptions.settle(error);
      if (isAbort(error) || error.status === 401) return;
      const alert = result.querySelector('#result-alert');
      if (alert) fill(
        alert,
        h('p', {}, describeError(error)),
        redemptions.pending ? h('p', {}, t('common.retrySafe')) : null,
      );
    }
  }

  placeholder();
  root.append(
    heading(t('staff.heading')),
    // Phone: form, answer, tools, one under the other. Wider: the answer beside the form.
    h('div', { class: 'counter-layout' }, form, result, tools),
  );
}
