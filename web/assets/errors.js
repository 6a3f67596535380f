// What the app says when a request fails, in its own words. A problem+json answer carries a
// stable `code`, and a 422 an `errors[]` entry per field with a `code` of its own: those pick a
// sentence of messages.js that says what happened and what to do. The server's `detail` and
// field `message`s are written for developers (they name headers and JSON members) and are
// never shown; a code the app does not know yet falls back to a general sentence.
import { ApiError, NetworkError } from './api.js';
import { formatTime, has, t, tn } from './i18n.js';

// Fields that follow another field's rules (and so share its messages) unless they have their own.
const SAME_RULES = { new_password: 'password', current_password: 'password' };

/**
 * When to try again, from a Retry-After in seconds: "Try again in 5 seconds.", "... in 2
 * minutes.", or for a long wait the clock time ("Try again at 21:40 (in 60 minutes).").
 */
export function waitText(seconds) {
  if (seconds === null || seconds === undefined || !(seconds > 0)) return '';
  if (seconds < 60) return tn('wait.seconds', seconds);
  const minutes = Math.ceil(seconds / 60);
  if (minutes <= 30) return tn('wait.minutes', minutes);
  const at = new Date(Date.now() + seconds * 1000).toISOString();
  return t('wait.at', { time: formatTime(at), minutes });
}

/** The words for one invalid field: its own for this code, its rules' owner's, or any field's. */
export function fieldMessage(field, code) {
  const keys = [`fieldError.${field}.${code}`, `fieldError.${SAME_RULES[field]}.${code}`, `fieldError.${code}`];
  const key = keys.find(has);
  return key ? t(key) : t('fieldError.invalid_format');
}

/** The words for any failure: no answer, or an answer's problem code (and when to retry). */
export function describeError(error) {
  if (error instanceof NetworkError) return t('error.network');
  if (!(error instanceof ApiError)) {
    console.error(error);
    return t('error.unexpected');
  }
  const key = `problem.${error.code}`;
  let text = t(has(key) ? key : error.status >= 500 ? 'problem.internal_error' : 'error.unexpected');
  const wait = waitText(error.retryAfter);
  if (wait) text += ` ${wait}`;
  else if (error.status === 429 || error.status === 503) text += ` ${t('wait.later')}`;
  return text;
}
