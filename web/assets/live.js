// The customer's card as the server announces it: GET /api/v1/stamps/stream (Server-Sent
// Events) sends a `card` event when the stream opens and after every change of the card, from
// whichever instance made it. EventSource reconnects by itself after a dropped connection; when
// the server refuses the stream (it closes it for good: a 401, a 5xx) this opens a new one after
// a growing pause. While no stream is open, the card is polled, so a stamp still shows.
const STREAM = '/api/v1/stamps/stream';
const POLL_MS = 15_000;
const RETRY_MS = [2_000, 5_000, 15_000, 30_000];

/**
 * Calls `onCard(card)` for every card the stream sends, `poll()` every 15 s while there is no
 * open stream (and when the page becomes visible again without one), until `signal` aborts.
 */
export function liveCard({ signal, onCard, poll }) {
  if (typeof EventSource !== 'function') {
    const timer = setInterval(() => document.visibilityState === 'visible' && poll(), POLL_MS);
    signal.addEventListener('abort', () => clearInterval(timer));
    return;
  }
  let source = null;
  let failures = 0;
  let retry = null;
  let pollTimer = null;

  const open = () => source?.readyState === EventSource.OPEN;
  function startPolling() {
    pollTimer ??= setInterval(() => {
      if (!open() && document.visibilityState === 'visible') poll();
    }, POLL_MS);
  }
  function stopPolling() {
    clearInterval(pollTimer);
    pollTimer = null;
  }

  function connect() {
    source = new EventSource(STREAM, { withCredentials: true });
    source.addEventListener('open', () => {
      failures = 0;
      stopPolling();
    });
    source.addEventListener('card', (event) => {
      try {
        onCard(JSON.parse(event.data));
      } catch {
        // A garbled event: the next one (or the poll) brings the card.
      }
    });
    source.addEventListener('error', () => {
      startPolling();
      // CONNECTING: the browser tries again itself. CLOSED: it gave up; so do we, for a while.
      if (source.readyState !== EventSource.CLOSED) return;
      const wait = RETRY_MS[Math.min(failures, RETRY_MS.length - 1)];
      failures += 1;
      clearTimeout(retry);
      retry = setTimeout(() => {
        if (signal.aborted) return;
        poll(); // also finds out whether the session ended (a 401 leads to the login screen)
        connect();
      }, wait);
    });
  }

  const onVisible = () => {
    if (document.visibilityState === 'visible' && !open()) poll();
  };
  document.addEventListener('visibilitychange', onVisible);
  signal.addEventListener('abort', () => {
    source?.close();
    clearTimeout(retry);
    stopPolling();
    document.removeEventListener('visibilitychange', onVisible);
  });
  connect();
}
