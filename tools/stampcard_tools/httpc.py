"""HTTP/1.1 JSON requests for the cluster test and the benchmark: standard library only.

Cookies are handled by hand, as the server's are `Secure` outside dev mode (and will be named
`__Host-...`): a cookie jar that follows the rules would not send them over plain http. The jar
keeps whatever cookies the server sets, whatever their names, and sends them all back.

A `Conn` is one keep-alive connection from a chosen source address (the cluster test's clients
use 127.0.0.2 and up, so that the client address the server sees is known); `request` is one
request on a fresh connection. No answer at all (refused, reset, timed out) is a `ConnError`,
never retried here: the callers count and retry those themselves.
"""
import http.client
import json
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

    def __init__(self, cookies=None):
        self.cookies = dict(cookies or {})

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
        return Jar(self.cookies)

    def session_only(self):
        """The cookies other than the preference cookie: the session, whatever its name."""
        return Jar({k: v for k, v in self.cookies.items() if k != "stampcard_prefs"})


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
