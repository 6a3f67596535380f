// Voiding at the counter, for admins: the card's history with "Void…" on every event that can
// be voided, and a dialog that asks for the reason. A void is a new event that takes the stamps
// back (or returns a redemption's), never an edit; the server decides what is allowed (staff:
// their own events for 10 minutes; admins: any, once).
import { api, isAbort } from '../api.js';
import { fill, h } from '../dom.js';
import { describeError } from '../errors.js';
import { clearErrors, showError, whileBusy } from '../forms.js';
import { formatDateTime, t, tn } from '../i18n.js';
import { Submission } from '../idempotency.js';

const REASON_MAX = 200;

/** "reason: …", the reason (what a person typed: data, not our words) in an element of its own. */
export function reasonText(reason) {
  return t('void.because', { reason: '\u0001' })
    .split(/(\u0001)/)
    .filter(Boolean)
    .map((part) => (part === '\u0001' ? h('q', { class: 'reason' }, reason) : part));
}

/** What an event was, in a few words. */
export function eventText(event) {
  if (event.kind === 'earned') return tn('history.earned', event.count);
  if (event.kind === 'redeemed') return tn('history.redeemed', event.count);
  return tn('history.voidedEvent', event.count);
}

/**
 * The reason dialog, one per screen. `ask(event, send)` opens it; `send(reason)` makes the
 * request (its failure is shown in the dialog, which stays open to try again).
 */
export function voidDialog() {
  const reason = h('textarea', { id: 'void-reason', name: 'reason', maxlength: String(REASON_MAX), rows: '3', 'aria-describedby': 'void-reason-hint void-reason-error' });
  const what = h('p', { id: 'void-text' });
  const confirm = h('button', { type: 'submit', class: 'button danger', id: 'void-confirm' }, t('void.confirm'));
  const cancel = h('button', { type: 'button', class: 'button secondary' }, t('common.cancel'));
  const form = h(
    'form',
    { class: 'form', novalidate: true },
    h('h2', { id: 'void-title' }, t('void.title')),
    what,
    h('div', { class: 'form-alert', role: 'alert' }),
    h(
      'div',
      { class: 'field', dataset: { field: 'reason' } },
      h('label', { for: 'void-reason' }, t('void.reason')),
      h('p', { class: 'hint', id: 'void-reason-hint' }, t('void.reasonHint', { max: REASON_MAX })),
      reason,
      h('p', { class: 'field-error', id: 'void-reason-error' }),
    ),
    h('div', { class: 'dialog-actions' }, cancel, confirm),
  );
  const element = h('dialog', { class: 'dialog', id: 'void-dialog', 'aria-labelledby': 'void-title', 'aria-describedby': 'void-text' }, form);
  let send = null;
  cancel.addEventListener('click', () => element.close());
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    whileBusy(confirm, async () => {
      try {
        await send(reason.value.trim());
        element.close();
      } catch (error) {
        if (isAbort(error) || error.status === 401) return element.close();
        showError(form, error);
      }
    });
  });
  return {
    element,
    ask(event, sender) {
      send = sender;
      clearErrors(form);
      reason.value = '';
      what.textContent = t('void.text', { what: eventText(event), time: formatDateTime(event.created_at) });
      element.showModal();
      reason.focus();
    },
  };
}

/** The card's last events, newest first, each voidable from the dialog. */
export function cardHistory({ who, voider, signal, onVoided }) {
  const list = h('ol', { class: 'events card-history' });
  const section = h(
    'section',
    { class: 'history-panel', 'aria-labelledby': 'card-history-title' },
    h('h3', { id: 'card-history-title' }, t('void.history')),
    list,
  );
  const submissions = new Map(); // event id -> Submission: a retried void keeps its key

  function item(event) {
    const by = event.by?.username;
    const li = h(
      'li',
      { class: ['event', `is-${event.kind}`, event.voided && 'is-voided'], dataset: { event: event.id } },
      h(
        'span',
        { class: 'event-text' },
        h('strong', {}, eventText(event)),
        h(
          'span',
          { class: 'event-meta' },
          h('time', { datetime: event.created_at }, formatDateTime(event.created_at)),
          by ? ` · ${t('void.by', { username: by })}` : null,
          event.reason ? [' · ', reasonText(event.reason)] : null,
        ),
      ),
      event.voided ? h('span', { class: 'badge' }, t('void.voided')) : null,
    );
    if (event.kind !== 'voided' && !event.voided) {
      const button = h('button', { type: 'button', class: 'button secondary small' }, t('void.button'));
      button.setAttribute('aria-label', t('void.buttonFor', { what: eventText(event), time: formatDateTime(event.created_at) }));
      button.addEventListener('click', () =>
        voider.ask(event, async (reason) => {
          const body = reason ? { reason } : {};
          const submission = submissions.get(event.id) ?? new Submission();
          submissions.set(event.id, submission);
          try {
            const answer = await api.post(`/api/v1/stamps/events/${encodeURIComponent(event.id)}/void`, body, {
              idempotencyKey: submission.keyFor(body),
              signal,
            });
            submission.settle();
            onVoided(answer.card);
          } catch (error) {
            submission.settle(error);
            throw error;
          }
        }),
      );
      li.append(button);
    }
    return li;
  }

  (async () => {
    try {
      const page = await api.get('/api/v1/stamps/events', { query: { ...who, limit: 10 }, signal });
      fill(list, page.items.length ? page.items.map(item) : h('li', { class: 'empty' }, t('history.emptyCard')));
    } catch (error) {
      if (isAbort(error) || error.status === 401) return;
      fill(list, h('li', { class: 'load-failed' }, describeError(error)));
    }
  })();
  return section;
}
