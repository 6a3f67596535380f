#!/usr/bin/env python3
"""S3, login under load: CLIENTS clients log in in a loop (POST /api/v1/sessions, each as a
different customer, no cookie) while an open-loop probe sends GET /api/v1/users/me at RATE
requests per second. S4 adds a guessing burst: at the start of the window, BURST connections
each send one wrong-password login for BURST_USER at the same moment; how many of them were
evaluated (answered 401 rather than 429) is reported. A probe's latency runs from its *scheduled* send time to the end of its
response, so time spent queueing (in the server, or waiting for the probe's turn) counts.

The login clients start WARMUP seconds before the measured window so that the window sees
the steady state; logins/s counts the logins completed inside the window. Prints JSON.
"""
import argparse
import asyncio
import json
import statistics
import time
import urllib.parse

from percentile import pct

IDLE_REUSE_S = 4.0  # below the server's keep-alive timeout (5 s)


class Conn:
    """One keep-alive HTTP/1.1 connection (asyncio streams)."""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def request(self, method, path, headers=(), body=b""):
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(body)}"]
        head += [f"{k}: {v}" for k, v in headers]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("connection closed by the server")
        status = int(status_line.split()[1])
        length, chunked, close = 0, False, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.partition(b":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value:
                chunked = True
            elif name == b"connection" and value == b"close":
                close = True
        if chunked:
            data = b""
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                data += chunk[:-2]
        else:
            data = await self.reader.readexactly(length)
        if close:
            self.close()
        return status, data

    def close(self):
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def main(args):
    url = urllib.parse.urlsplit(args.base)
    users = json.load(open(args.users))
    customers = users["customers"]
    probe_cookie = customers[-1]["cookie"]
    loop = asyncio.get_running_loop()
    cpu0 = time.process_time()

    start = loop.time() + args.warmup
    end = start + args.seconds
    stop = asyncio.Event()
    logins = []  # (done_at, latency_s, status)
    login_errors = []

    async def login_client(k):
        conn = Conn(url.hostname, url.port)
        body = json.dumps({"username": customers[k]["username"], "password": args.password}).encode()
        headers = [("Content-Type", "application/json"), ("Accept", "application/json")]
        while not stop.is_set():
            t0 = loop.time()
            try:
                status, data = await conn.request("POST", "/api/v1/sessions", headers, body)
            except (OSError, ConnectionError, asyncio.IncompleteReadError) as e:
                login_errors.append(repr(e))
                conn.close()
                continue
            t1 = loop.time()
            logins.append((t1, t1 - t0, status))
            if status != 201:
                login_errors.append(f"{status}: {data[:200]!r}")
        conn.close()

    idle = []  # keep-alive probe connections not in use: (conn, idle since)
    probes = []  # (latency_s, send_lag_s, status)
    probe_errors = []

    def idle_conn():
        # The server closes a keep-alive connection after 5 s idle (actix-web's default); a
        # connection left idle that long (after a spike of overlapping probes) is closed here
        # rather than reused, as HTTP clients' pools do, so that the race between the server's
        # close and a new request on it is not counted as a server error.
        while idle:
            conn, since = idle.pop()
            if loop.time() - since < IDLE_REUSE_S:
                return conn
            conn.close()
        return Conn(url.hostname, url.port)

    async def probe(scheduled):
        conn = idle_conn()
        sent = loop.time()
        try:
            status, data = await conn.request(
                "GET", "/api/v1/users/me", [("Cookie", f"stampcard_session={probe_cookie}"), ("Accept", "application/json")])
        except (OSError, ConnectionError, asyncio.IncompleteReadError) as e:
            probe_errors.append(repr(e))
            conn.close()
            return
        probes.append((loop.time() - scheduled, sent - scheduled, status))
        if status != 200:
            probe_errors.append(f"{status}: {data[:200]!r}")
        idle.append((conn, loop.time()))

    async def prober():
        tasks = []
        n = int(args.seconds * args.rate)
        for k in range(n):
            scheduled = start + k / args.rate
            delay = scheduled - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(probe(scheduled)))
        await asyncio.gather(*tasks)

    burst = {"sent": args.burst, "statuses": {}, "errors": 0}

    async def guess(conn, body):
        try:
            status, _ = await conn.request("POST", "/api/v1/sessions", [("Content-Type", "application/json")], body)
            burst["statuses"][str(status)] = burst["statuses"].get(str(status), 0) + 1
        except (OSError, ConnectionError, asyncio.IncompleteReadError):
            burst["errors"] += 1
        finally:
            conn.close()

    async def burster():
        # Connected first, then all sent at once: the server sees them within milliseconds.
        conns = [Conn(url.hostname, url.port) for _ in range(args.burst)]
        for conn in conns:
            conn.reader, conn.writer = await asyncio.open_connection(conn.host, conn.port)
        await asyncio.sleep(max(0, start - loop.time()))
        t0 = loop.time()
        await asyncio.gather(*(guess(conn, json.dumps({"username": args.burst_user, "password": f"guess {k}"}).encode())
                               for k, conn in enumerate(conns)))
        burst["elapsed_ms"] = 1000 * (loop.time() - t0)

    clients = [asyncio.create_task(login_client(k)) for k in range(args.clients)]
    bursting = asyncio.create_task(burster()) if args.burst else None
    # A few probe connections, opened before the window so that connecting is not measured.
    warm = [Conn(url.hostname, url.port) for _ in range(4)]
    for conn in warm:
        await conn.request("GET", "/healthz")
        idle.append((conn, loop.time()))
    await prober()
    remaining = end - loop.time()
    if remaining > 0:
        await asyncio.sleep(remaining)
    stop.set()
    await asyncio.gather(*clients)
    if bursting:
        await bursting
    for conn, _ in idle:
        conn.close()

    in_window = [(t, lat) for t, lat, status in logins if start <= t <= end and status == 201]
    latencies = [p[0] for p in probes]
    lags = [p[1] for p in probes]
    login_lat = [lat for _, lat in in_window]
    out = {
        "seconds": args.seconds,
        "warmup_s": args.warmup,
        "login_clients": args.clients,
        "logins_in_window": len(in_window),
        "logins_per_s": len(in_window) / args.seconds,
        "login_latency_ms": {"p50": 1000 * pct(login_lat, 50), "p99": 1000 * pct(login_lat, 99),
                             "mean": 1000 * statistics.fmean(login_lat)} if login_lat else None,
        "logins_total": len(logins),
        "login_errors": len(login_errors),
        "probe_rate": args.rate,
        "probes": len(probes),
        "probe_latency_ms": {
            "p50": 1000 * pct(latencies, 50), "p90": 1000 * pct(latencies, 90),
            "p99": 1000 * pct(latencies, 99), "max": 1000 * max(latencies),
        } if latencies else None,
        "probe_send_lag_ms": {"p50": 1000 * pct(lags, 50), "p99": 1000 * pct(lags, 99),
                              "max": 1000 * max(lags)} if lags else None,
        "probe_errors": len(probe_errors),
        "error_samples": (login_errors + probe_errors)[:5],
        "generator_cpu_s": time.process_time() - cpu0,
    }
    if args.burst:
        burst["evaluated"] = burst["statuses"].get("401", 0)
        out["burst"] = burst
    print(json.dumps(out))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--users", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--rate", type=float, default=20)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--warmup", type=float, default=3)
    ap.add_argument("--burst", type=int, default=0)
    ap.add_argument("--burst-user")
    asyncio.run(main(ap.parse_args()))
