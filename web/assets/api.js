// The one way the app talks to the server: same-origin fetch with the session cookie (which the
// app never sees: it is HttpOnly), JSON in and out, problem+json errors turned into ApiError.
import { emit } from './events.js';

/** An answer with an error status: `problem` is the RFC 9457 body (detail, code, errors[]). */
export class ApiError extends Error {
  constructor(status, problem, headers) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem && typeof problem === 'object' ? problem : {};
    this.code = this.problem.code ?? null;
    const retryAfter = Number.parseInt(headers?.get('Retry-After') ?? '', 10);
    this.retryAfter = Number.isFinite(retryAfter) ? retryAfter : null;
  }

  /** `[{field, code, message}]` from a 422 (or a 409 `*_taken`). */
  get fieldErrors() {
    return Array.isArray(this.problem.errors) ? this.problem.errors : [];
  }

  /**
   * Whether the same submission may be sent again with the same Idempotency-Key: the server
   * had no final answer (5xx, or the first attempt is still running).
   */
  get retryable() {
    return this.status >= 500 || this.code === 'idempotency_key_in_progress';
  }
}

/** No answer at all: offline, server unreachable, connection dropped. */
export class NetworkError extends Error {
  constructor(cause) {
    super('network error');
    this.name = 'NetworkError';
    this.cause = cause;
    this.retryable = true;
  }
}

export function isAbort(error) {
  return error?.name === 'AbortError';
}

let inFlight = 0;
function setInFlight(delta) {
  inFlight += delta;
  emit('busy', inFlight);
}

/**
 * request('POST', '/api/v1/stamps', {body, idempotencyKey, signal})
 * `quiet401`: a 401 is an expected answer here (who-am-I at start-up), not a session that ended.
 */
export async function request(method, path, options = {}) {
  const { body, query, idempotencyKey, signal, quiet401 = false } = options;
  let url = path;
  if (query) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
    }
    const text = params.toString();
    if (text) url += `?${text}`;
  }
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store', signal };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (idempotencyKey) headers['Idempotency-Key'] = idempotencyKey;

  let response;
  let payload = null;
  setInFlight(1);
  try {
    response = await fetch(url, init);
    const type = response.headers.get('Content-Type') ?? '';
    if (response.status !== 204 && /json/i.test(type)) payload = await response.json();
  } catch (error) {
    if (isAbort(error)) throw error;
    emit('connection', false);
    throw new NetworkError(error);
  } finally {
    setInFlight(-1);
  }
  emit('connection', true);

  if (response.ok) return payload;
  const error = new ApiError(response.status, payload, response.headers);
  if (error.status === 401 && error.code === 'unauthenticated' && !quiet401) {
    emit('unauthenticated', error);
  }
  throw error;
}

export const api = {
  get: (path, options) => request('GET', path, options),
  post: (path, body, options) => request('POST', path, { ...options, body }),
  put: (path, body, options) => request('PUT', path, { ...options, body }),
  patch: (path, body, options) => request('PATCH', path, { ...options, body }),
  delete: (path, body, options) => request('DELETE', path, { ...options, body }),
};
