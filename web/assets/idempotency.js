// One Idempotency-Key per submission (a stamp, a redemption), kept for its retries.
//
// A submission is "the same" while its body is the same: pressing the button again after a
// failure that left the outcome unknown (no answer, 5xx, still in progress) resends the same
// key, so the server applies it at most once. Once the server gave a final answer (success, or
// an error that it stored such as 404 customer_not_found), the next press is a new submission.
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

export class Submission {
  #pending = null;

  /** The key for this body: the pending one if it is a retry of the same body, else a new one. */
  keyFor(body) {
    const fingerprint = JSON.stringify(body ?? null);
    if (!this.#pending || this.#pending.fingerprint !== fingerprint) {
      this.#pending = { fingerprint, key: newKey() };
    }
    return this.#pending.key;
  }

  /** Call with the outcome: undefined for success, or the error. Keeps the key only when the
   * outcome is unknown, so the next press is a retry of the same submission. */
  settle(error) {
    const unknownOutcome = error instanceof NetworkError || error?.retryable === true;
    if (!unknownOutcome) this.#pending = null;
  }

  /** Whether a retry is waiting (the UI says so). */
  get pending() {
    return this.#pending !== null;
  }
}
