"""HTTP for the cluster test: standard library only.

Cookies are handled by hand, as the server's are `Secure` outside dev mode (and will be named
`__Host-...`): a cookie jar that follows the rules would not send them over plain http. The jar
keeps whatever cookies the server sets, whatever their names, and sends them all back.
"""
import http.client
import json
import random
import socket
import threading
import time
import urllib.parse


class ConnError(Exception):
    """No HTTP answer: refused, reset, closed before the answer, or timed out."""


class Response:
    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = headers          # list of (name, value)
        self.raw = raw
        try:
            self.json = json.loads(raw) if raw else None
        except ValueError:
            self.json = None

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    @property
    def code(self):
        return self.json.get("code") if isinstance(self.json, dict) else None

    def __repr__(self):
        return f"{self.status} {self.code or ''}".strip()


class Jar:
    """Cookies by name, as set by the server; Max-Age=0 or an empty value deletes one."""

    def __init__(self):
        self.cookies = {}

    def update(self, resp):
        for k, v in resp.headers:
            if k.lower() != "set-cookie":
                continue
            first, *attrs = v.split(";")
            name, _, value = first.strip().partition("=")
            attrs = {a.strip().split("=", 1)[0].lower(): a.strip().partition("=")[2] for a in attrs}
            if value == "" or attrs.get("max-age") == "0" or value == '""':
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value

    def header(self):
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def copy(self):
        j = Jar()
        j.cookies = dict(self.cookies)
        return j

    def session_only(self):
        """The cookies other than the preference cookie: the session, whatever its name."""
        j = Jar()
        j.cookies = {k: v for k, v in self.cookies.items() if k != "stampcard_prefs"}
        return j


class Conn:
    """One keep-alive connection to one base URL, from a chosen loopback source address."""

    def __init__(self, base, source=None, timeout=20):
        u = urllib.parse.urlsplit(base)
        self.host, self.port, self.source, self.timeout = u.hostname, u.port, source, timeout
        self.c = None

    def close(self):
        if self.c is not None:
            self.c.close()
            self.c = None

    def open(self):
        if self.c is None:
            self.c = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout,
                                                source_address=(self.source, 0) if self.source else None)
            self.c.connect()

    def request(self, method, path, body=None, jar=None, headers=None):
        h = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        if jar is not None and jar.cookies:
            h["Cookie"] = jar.header()
        if headers:
            h.update(headers)
        try:
            self.open()
            self.c.request(method, path, body=data, headers=h)
            res = self.c.getresponse()
            raw = res.read()
        except (OSError, http.client.HTTPException) as e:
            self.close()
            raise ConnError(f"{type(e).__name__}: {e}") from None
        resp = Response(res.status, res.getheaders(), raw)
        if res.will_close:
            self.close()
        if jar is not None:
            jar.update(resp)
        return resp


def request(base, method, path, body=None, jar=None, headers=None, source=None, timeout=20):
    """One request on a fresh connection."""
    c = Conn(base, source=source, timeout=timeout)
    try:
        return c.request(method, path, body=body, jar=jar, headers=headers)
    finally:
        c.close()


# --- the retrying client of the fault tests --------------------------------------------------

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
