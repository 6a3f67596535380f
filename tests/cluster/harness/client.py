"""The clients of the checks: requests sent at the same moment (`at_once`), and the retrying
client of the fault tests, which keeps every logical request (an `Op`) with all its attempts.

Plain HTTP (connections, cookies, `ConnError`) is stampcard_tools.httpc, shared with the benchmark.
"""
import random
import threading
import time

from stampcard_tools.httpc import ConnError

from harness.report import spawn


def at_once(conns, send):
    """Opens every connection, then runs `send(i, conn)` on all of them at the same moment (one
    thread each, released together), and returns what each returned, in order: a Response, or
    the ConnError it met."""
    for conn in conns:
        conn.open()
    barrier = threading.Barrier(len(conns))
    out = [None] * len(conns)

    def go(i):
        barrier.wait()
        try:
            out[i] = send(i, conns[i])
        except ConnError as e:
            out[i] = e
        conns[i].close()
    threads = [spawn(target=go, args=(i,)) for i in range(len(conns))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


RETRY_BUDGET_S = 15        # a client gives up on a request after this long ...
MAX_ATTEMPTS = 10          # ... or this many attempts
BACKOFF_FIRST_S = 0.1
BACKOFF_MAX_S = 2.0


def backoff(attempt, retry_after=None):
    """Exponential backoff with full jitter; a Retry-After is honoured up to the cap."""
    if retry_after is not None:
        try:
            return min(float(retry_after), BACKOFF_MAX_S) * (0.5 + random.random() / 2)
        except ValueError:
            pass
    return min(BACKOFF_FIRST_S * 2 ** attempt, BACKOFF_MAX_S) * random.random()


def classify(resp):
    """How the fault table counts one attempt."""
    if isinstance(resp, ConnError):
        return "conn_error"
    if 200 <= resp.status < 300:
        return "2xx"
    if resp.status == 503:
        return "503_retry_after" if resp.header("Retry-After") else "503_bare"
    if resp.status == 409 and resp.code == "idempotency_key_in_progress":
        return "409_in_progress"
    return f"{resp.status}"


def retryable(resp):
    if isinstance(resp, ConnError):
        return True
    if resp.status in (502, 503, 504):
        return True
    return resp.status == 409 and resp.code == "idempotency_key_in_progress"


def from_proxy(resp):
    """A 503 HAProxy made itself (no server up), as deploy/haproxy.cfg words it."""
    return (not isinstance(resp, ConnError) and resp.status == 503 and isinstance(resp.json, dict)
            and str(resp.json.get("detail", "")).startswith("No server is available"))


class Attempt:
    __slots__ = ("t_sent", "t_done", "outcome", "status", "replayed", "via", "proxy")

    def __init__(self, t_sent, t_done, outcome, status, replayed, via, proxy):
        self.t_sent, self.t_done, self.outcome, self.status, self.replayed, self.via, self.proxy = (
            t_sent, t_done, outcome, status, replayed, via, proxy)


class Op:
    """One logical request (a stamp with its Idempotency-Key, or a whoami) and all its attempts."""

    def __init__(self, kind, key=None, phone=None, body=None, path=None):
        self.kind, self.key, self.phone, self.body, self.path = kind, key, phone, body, path
        self.attempts = []
        self.final = None          # the definite Response, or None while unresolved
        self.t_definite = None
        self.gave_up = False       # the client's own retry budget ran out without a definite answer
        self.event_id = None

    def record(self, t_sent, resp, via):
        self.attempts.append(Attempt(t_sent, time.monotonic(), classify(resp),
                                     None if isinstance(resp, ConnError) else resp.status,
                                     (not isinstance(resp, ConnError)) and resp.header("Idempotent-Replayed") == "true",
                                     via, from_proxy(resp)))

    def settle(self, resp):
        self.final = resp
        self.t_definite = time.monotonic()
        if self.kind == "stamp" and resp.status == 201 and isinstance(resp.json, dict):
            self.event_id = (resp.json.get("event") or {}).get("id")


def run_op(conn, op, jar, via, budget_s=RETRY_BUDGET_S, max_attempts=MAX_ATTEMPTS, stop=None):
    """Sends `op` until it has a definite answer (anything but a connection error, 502/503/504 or
    409 idempotency_key_in_progress) or the retry budget is spent. The same Idempotency-Key and
    body every time."""
    t0 = time.monotonic()
    attempt = 0
    while True:
        headers = {"Idempotency-Key": op.key} if op.key else None
        t_sent = time.monotonic()
        try:
            if op.kind == "stamp":
                resp = conn.request("POST", "/api/v1/stamps", body=op.body, jar=jar, headers=headers)
            else:
                resp = conn.request("GET", op.path, jar=jar)
        except ConnError as e:
            resp = e
        op.record(t_sent, resp, via)
        if not retryable(resp):
            op.settle(resp)
            return op
        attempt += 1
        if attempt >= max_attempts or time.monotonic() - t0 > budget_s or (stop is not None and stop.is_set()):
            op.gave_up = True
            return op
        time.sleep(backoff(attempt, None if isinstance(resp, ConnError) else resp.header("Retry-After")))


class Ledger:
    """Every operation of one fault phase, shared by its client threads."""

    def __init__(self, name):
        self.name = name
        self.ops = []
        self.lock = threading.Lock()

    def add(self, op):
        with self.lock:
            self.ops.append(op)
        return op

    def snapshot(self):
        with self.lock:
            return list(self.ops)
