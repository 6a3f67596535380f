"""A small blocking HTTP/1.1 JSON client on http.client (standard library), shared by the helpers."""
import http.client
import json
import urllib.parse

COOKIE = "stampcard_session"


class Client:
    def __init__(self, base, timeout=30):
        url = urllib.parse.urlsplit(base)
        self.host, self.port, self.timeout = url.hostname, url.port, timeout
        self.conn = None

    def request(self, method, path, body=None, cookie=None):
        """(status, headers, parsed JSON body or None); reconnects once if the connection dropped."""
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if cookie:
            headers["Cookie"] = f"{COOKIE}={cookie}"
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=data, headers=headers)
                res = self.conn.getresponse()
                raw = res.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        parsed = json.loads(raw) if raw else None
        return res.status, res.getheaders(), parsed


def session_cookie(headers):
    """The value of the stampcard_session cookie set by a response, or None."""
    for name, value in headers:
        if name.lower() == "set-cookie" and value.startswith(COOKIE + "="):
            return value.split(";", 1)[0].split("=", 1)[1]
    return None
