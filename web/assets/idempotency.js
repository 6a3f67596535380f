// One Idempotency-Key per submission (a stamp, a redemption, a void), kept for its retries.
//
// A submission is "the same" while its body is the same: pressing the button again after a
// failure that left the outcome unknown (no answer, 5xx, still in progress) resends the same
// key, so the server applies it at most once. Once the server gave a final answer (success, or
// an error that it stored such as 404 customer_not_found), the next press is a new submission.
//
// A submission whose outcome is unknown outlives the screen that made it: the counter is
// rebuilt by "Try again" on the offline banner, by a language switch and by a reload, and a
// retry from the rebuilt screen must carry the same key (else a lost answer becomes a second
// stamp). So a named Submission keeps its pending key in sessionStorage (this tab only, gone
// with it), and the screen restores the form from `pendingBody`.
import { NetworkError } from './api.js';

/** crypto.randomUUID(), with a fallback for pages served over plain http on a LAN address
 * (randomUUID exists only in secure contexts; getRandomValues everywhere). */
export function newKey() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const PREFIX = 'stampcard.submission.';

function stored(name) {
  if (!name) return null;
  try {
    const value = JSON.parse(sessionStorage.getItem(PREFIX + name) ?? 'null');
    return value && typeof value.fingerprint === 'string' && typeof value.key === 'string' ? value : null;
  } catch {
    return null; // storage refused (private mode) or garbled: nothing pending
  }
}

export class Submission {
  #name;
  #pending;

  /** `name`: keep the pending key across screens and reloads of this tab under this name. */
  constructor(name = null) {
    this.#name = name;
    this.#pending = stored(name);
  }

  #save() {
    if (!this.#name) return;
    try {
      if (this.#pending) sessionStorage.setItem(PREFIX + this.#name, JSON.stringify(this.#pending));
      else sessionStorage.removeItem(PREFIX + this.#name);
    } catch {
      // No storage: the key still lives as long as this object.
    }
  }

  /** The key for this body: the pending one if it is a retry of the same body, else a new one. */
  keyFor(body) {
    const fingerprint = JSON.stringify(body ?? null);
    if (!this.#pending || this.#pending.fingerprint !== fingerprint) {
      this.#pending = { fingerprint, key: newKey() };
      this.#save();
    }
    return this.#pending.key;
  }

  /** Call with the outcome: undefined for success, or the error. Keeps the key only when the
   * outcome is unknown, so the next press is a retry of the same submission. */
  settle(error) {
    const unknownOutcome = error instanceof NetworkError || error?.retryable === true;
    if (!unknownOutcome) {
      this.#pending = null;
      this.#save();
    }
  }

  /** Whether a retry is waiting (the UI says so). */
  get pending() {
    return this.#pending !== null;
  }

  /** The body of the submission waiting for its retry (to fill the form in again), or null. */
  get pendingBody() {
    return this.#pending ? JSON.parse(this.#pending.fingerprint) : null;
  }
}
