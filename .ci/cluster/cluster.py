#!/usr/bin/env python3
"""The cluster test: one PostgreSQL, three `stampcard serve` instances, HAProxy in front.

Started by .ci/cluster/run.sh, which prepares the environment and cleans up after it. Prints one
PASS/FAIL/SKIP line per check and the figures table of the faults; exits 1 if any check failed.
See docs/operations.md for what each check and each fault means.
"""
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import traceback
import uuid

import client
from client import Ledger, Op, run_op
from infra import HAProxy, Harness, Instance, LockHolder, haproxy_stats, tail
from stampcard_tools.httpc import Conn, ConnError, Jar, request

# Loopback source addresses, so that the client address the server sees is known: HAProxy talks
# to the instances from 127.0.0.1 (the trusted proxy); the test's clients never use that one.
SRC_LB = "127.0.0.2"        # clients that go through HAProxy
SRC_DIRECT = "127.0.0.3"    # clients that talk straight to an instance
SRC_BURST = "127.0.0.5"     # the password-guessing burst (its own per-IP count)

# A key in flight when its instance dies should resolve "within the proxy's retry time" (issue
# #13): a few seconds. This is the bar the fault checks hold the server to.
RESOLVE_WITHIN_S = 10.0
# How long the harness keeps retrying an unresolved key, to measure when it does resolve.
LATE_RESOLVE_FOR_S = 95.0

RESULTS = []
T0 = time.monotonic()


def spawn(target, args=()):
    """A daemon thread: a run cut short (SIGTERM, Ctrl-C) never waits for the client threads."""
    return threading.Thread(target=target, args=args, daemon=True)


def section(title):
    print(f"\n===== {title} ({time.monotonic() - T0:.0f}s) =====", flush=True)


def result(name, status, detail=""):
    RESULTS.append((name, status, detail))
    print(f"{status} {name}" + (f"\n     {detail}" if detail else ""), flush=True)
    return status == "PASS"


def check(name, ok, detail=""):
    return result(name, "PASS" if ok else "FAIL", detail)


def guarded(name):
    """Runs a check function; an exception in it is that check's FAIL, not the end of the run."""
    def wrap(fn):
        def run(*a, **kw):
            try:
                return fn(*a, **kw)
            except Exception as e:  # noqa: BLE001 - reported, then the next check runs
                result(name, "FAIL", f"the check itself failed: {type(e).__name__}: {e}\n"
                       + traceback.format_exc(limit=4))
                return None
        return run
    return wrap


def e164(phone):
    """010-5001-1001 -> +821050011001 (Korean mobile numbers, as the server stores them)."""
    digits = re.sub(r"\D", "", phone)
    return "+82" + digits[1:]


def error_lines(path, n=4):
    """The lines of an instance's latest start that are not INFO logs (what it said when it failed)."""
    try:
        text = open(path, errors="replace").read()
    except OSError:
        return []
    last = text.rsplit("===== harness: start", 1)[-1].splitlines()[1:]
    return [line.rstrip() for line in last
            if line.strip() and " INFO " not in line and '"level":"INFO"' not in line.replace(" ", "")][:n]


class Cluster:
    def __init__(self, h):
        self.h = h
        self.run_id = uuid.uuid4().hex[:6]
        self.staff_user = f"barista_{self.run_id}"
        self.staff_password = f"Brew-{uuid.uuid4().hex[:16]}"
        self.customer_password = f"Latte-{uuid.uuid4().hex[:16]}"
        self.customers = {}        # name -> (username, phone)
        self.next_phone = 0
        self.ledgers = []          # every fault's Ledger
        self.figures = []          # rows of the figures table
        self.resolvers = []        # background threads that finish resolving keys
        self.setup_ops = {}        # phone -> the stamps made to prepare a check (acknowledged writes too)

    # --- helpers ------------------------------------------------------------------------------

    @property
    def A(self):
        return self.h.instances[0]

    @property
    def lb(self):
        return self.h.haproxy.url

    def targets(self):
        """(label, base URL, source address) for every instance and for HAProxy."""
        out = [(i.name, i.url, SRC_DIRECT) for i in self.h.instances]
        out.append(("haproxy", self.lb, SRC_LB))
        return out

    def login(self, base, username, password, source, retries=20):
        jar = Jar()
        for attempt in range(retries):
            try:
                r = request(base, "POST", "/api/v1/sessions", body={"username": username, "password": password},
                            jar=jar, source=source)
            except ConnError:
                time.sleep(0.2)
                continue
            if r.status == 503:
                time.sleep(client.backoff(attempt, r.header("Retry-After")))
                continue
            return r, jar.session_only()
        raise RuntimeError(f"could not log {username} in through {base}")

    def new_customer(self, label):
        i = self.next_phone
        self.next_phone += 1
        phone = f"010-5{i:03d}-{7000 + i:04d}"
        username = f"{label}_{self.run_id}_{i}"
        for attempt in range(20):
            try:
                r = request(self.lb, "POST", "/api/v1/users", source=SRC_LB,
                            body={"username": username, "password": self.customer_password, "phone": phone})
            except ConnError:
                time.sleep(0.2)
                continue
            if r.status == 503:
                time.sleep(client.backoff(attempt, r.header("Retry-After")))
                continue
            if r.status != 201:
                raise RuntimeError(f"signup of {username} ({phone}) answered {r.status}: {r.raw[:300]!r}")
            self.customers[label] = (username, phone)
            return username, phone
        raise RuntimeError(f"signup of {username} kept failing")

    def staff_jar(self, base=None, source=SRC_LB):
        r, jar = self.login(base or self.lb, self.staff_user, self.staff_password, source)
        if r.status != 201:
            raise RuntimeError(f"staff login answered {r.status}: {r.raw[:300]!r}")
        return jar

    def stamp_once(self, jar, phone, count=1):
        op = Op("stamp", key=f"setup-{uuid.uuid4()}", phone=phone, body={"phone": phone, "count": count})
        run_op(Conn(self.lb, source=SRC_LB), op, jar, "haproxy")
        if op.final is None or op.final.status != 201:
            raise RuntimeError(f"setup stamp for {phone} failed: {op.final!r}")
        self.setup_ops.setdefault(phone, []).append(op)
        return op

    def db_events(self, phones):
        """{E.164 phone: [(event id, kind, count)]} from stamp_events."""
        plist = ",".join("'" + e164(p) + "'" for p in phones)
        rows = self.h.pg.query(
            "SELECT u.phone, e.id, e.kind, e.count FROM stamp_events e JOIN users u ON u.id = e.user_id "
            f"WHERE u.phone IN ({plist}) ORDER BY e.seq")
        out = {e164(p): [] for p in phones}
        for phone, eid, kind, count in rows:
            out[phone].append((eid, kind, int(count)))
        return out

    def card_row(self, phone):
        rows = self.h.pg.query(
            "SELECT c.balance, c.total_earned, c.total_redeemed FROM cards c JOIN users u ON u.id = c.user_id "
            f"WHERE u.phone = '{e164(phone)}'")
        return tuple(int(x) for x in rows[0]) if rows else None

    def waiting_on_locks(self):
        return int(self.h.pg.query(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = 'stampcard' AND wait_event_type = 'Lock'")[0][0])

    def lock_cards(self, phones):
        plist = ",".join("'" + e164(p) + "'" for p in phones)
        return LockHolder(self.h.pg, "SELECT c.user_id FROM cards c JOIN users u ON u.id = c.user_id "
                                     f"WHERE u.phone IN ({plist}) FOR UPDATE OF c")

    # --- 1. start-up ---------------------------------------------------------------------------

    def verify_deploy_files(self):
        section("deploy/: the systemd unit and the HAProxy configuration")
        unit = os.path.join(self.h.root, "deploy", "stampcard.service")
        if subprocess.run(["sh", "-c", "command -v systemd-analyze"], capture_output=True).returncode != 0:
            result("deploy/stampcard.service: systemd-analyze verify", "SKIP", "systemd-analyze is not installed")
        else:
            # verify wants ExecStart's binary to exist: check a copy that names the binary under test.
            copy = os.path.join(self.h.tmp, "unit", "stampcard.service")
            os.makedirs(os.path.dirname(copy), exist_ok=True)
            text = open(unit).read()
            text, n = re.subn(r"^ExecStart=/usr/local/bin/stampcard ", f"ExecStart={self.h.bin} ", text, flags=re.M)
            with open(copy, "w") as f:
                f.write(text)
            r = subprocess.run(["systemd-analyze", "verify", copy], capture_output=True, text=True)
            complaints = [line for line in (r.stdout + r.stderr).splitlines() if "stampcard.service" in line]
            check("deploy/stampcard.service: systemd-analyze verify", n == 1 and r.returncode == 0 and not complaints,
                  "; ".join(complaints) or (f"exit {r.returncode}" if r.returncode else ""))
            sec = subprocess.run(["systemd-analyze", "security", "--offline=yes", copy], capture_output=True,
                                 text=True)
            m = re.search(r"Overall exposure level for \S+: (.*)", sec.stdout + sec.stderr)
            if m:
                print(f"     systemd-analyze security: exposure {m.group(1).strip()}")
        u = self.h.unit
        print(f"     the harness starts instances as `{self.h.bin} {' '.join(u.args)}` and stops them with "
              f"{signal.Signals(u.kill_signal).name}, SIGKILL after {u.stop_timeout:g}s (from the unit)")
        ok, out = self.h.haproxy.check_config()
        check("deploy/haproxy.cfg (ports and paths rewritten): haproxy -c", ok, "" if ok else out)
        if not ok:
            raise SystemExit("cannot go on without a valid HAProxy configuration")

    def start_instances(self):
        section("three instances started at the same moment on an empty database")
        self.h.pg.start()
        env = self.h.server_env()
        barrier = threading.Barrier(len(self.h.instances))

        def go(inst):
            barrier.wait()
            inst.start()
        threads = [spawn(target=go, args=(i,)) for i in self.h.instances]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        up = {}
        deadline = time.monotonic() + 40
        for inst in self.h.instances:
            up[inst.name] = inst.wait_ready(max(1, deadline - time.monotonic()))
        dead = [i for i in self.h.instances if not up[i.name]]
        detail = []
        for inst in dead:
            status = inst.exit_status()
            detail.append(f"{inst.name} {'exited with ' + str(status) if status is not None else 'never became ready'}: "
                          + " | ".join(error_lines(inst.log)))
        check("3 instances started at the same moment on an empty database all come up", not dead,
              "\n     ".join(detail))
        if dead:
            print("     fallback: starting the failed instances again, one after another, so the other checks run")
            for inst in dead:
                if inst.alive():
                    inst.stop()
                inst.start()
                if not inst.wait_ready(40):
                    raise SystemExit(f"{inst.name} does not come up even alone:\n{tail(inst.log)}")
        applied = self.h.pg.query("SELECT count(*), count(DISTINCT version) FROM __diesel_schema_migrations")[0]
        expected = len([d for d in os.listdir(os.path.join(self.h.root, "migrations"))
                        if os.path.isdir(os.path.join(self.h.root, "migrations", d))])
        check("every migration applied exactly once", applied[0] == applied[1] == str(expected),
              f"{applied[0]} rows, {applied[1]} versions, {expected} migrations in migrations/")
        del env

    def start_haproxy(self):
        section("HAProxy from deploy/haproxy.cfg")
        self.h.haproxy.start()
        ok, st = self.h.haproxy.wait_all_up(20)
        check("HAProxy's /readyz health checks see every instance UP", ok, f"{st}")
        if not ok:
            raise SystemExit(f"HAProxy is not routing:\n{tail(self.h.haproxy.log)}")

    def create_users(self):
        section("users")
        r = self.h.cli("user", "create", "--username", self.staff_user, "--role", "staff",
                       password=self.staff_password)
        if r.returncode != 0:
            raise SystemExit(f"stampcard user create failed: {r.stderr}")
        print(f"     staff {self.staff_user} created with `stampcard user create`; customers sign up through HAProxy")

    # --- 2. one service out of several instances ----------------------------------------------

    @guarded("a session made on one instance works on every other and through HAProxy")
    def check_session_sharing(self):
        section("sessions, logout and revocation across instances")
        username, _ = self.new_customer("share")
        bad = []
        for origin, base, src in self.targets():
            r, jar = self.login(base, username, self.customer_password, src)
            if r.status != 201 or not jar.cookies:
                bad.append(f"login on {origin}: {r.status}, cookies {list(jar.cookies)}")
                continue
            sid = r.json["session"]["id"]
            for label, other, osrc in self.targets():
                w = request(other, "GET", "/api/v1/sessions/current", jar=jar.copy(), source=osrc)
                if w.status != 200 or w.json["session"]["id"] != sid or w.json["user"]["username"] != username:
                    bad.append(f"made on {origin}, used on {label}: {w!r}")
        print(f"     session cookie(s) set by a login: {sorted(jar.cookies)} (Secure; sent back by hand)")
        check("a session made on one instance works on every other and through HAProxy", not bad, "; ".join(bad))

    @guarded("a logout on one instance is seen at once by the others")
    def check_logout(self):
        username, _ = self.new_customer("logout")
        bad = []
        insts = self.h.instances
        for n, (origin, base, src) in enumerate(self.targets()):
            r, jar = self.login(base, username, self.customer_password, src)
            old = jar.copy()
            # Log out on the next instance round the ring, then replay the old cookie everywhere.
            where = insts[(n + 1) % len(insts)]
            d = request(where.url, "DELETE", "/api/v1/sessions/current", jar=jar, source=SRC_DIRECT)
            if d.status != 204:
                bad.append(f"logout on {where.name}: {d!r}")
            for label, other, osrc in self.targets():
                w = request(other, "GET", "/api/v1/sessions/current", jar=old.copy(), source=osrc)
                if w.status != 401:
                    bad.append(f"made on {origin}, logged out on {where.name}, replayed on {label}: {w!r}")
        check("a logout on one instance is seen at once by the others", not bad, "; ".join(bad))

    @guarded("a revocation on one instance is seen at once by the others")
    def check_revocation(self):
        username, _ = self.new_customer("revoke")
        A, B, C = self.h.instances
        bad = []
        rx, x = self.login(A.url, username, self.customer_password, SRC_DIRECT)
        ry, y = self.login(C.url, username, self.customer_password, SRC_DIRECT)
        d = request(B.url, "DELETE", f"/api/v1/sessions/{ry.json['session']['id']}", jar=x, source=SRC_DIRECT)
        if d.status != 204:
            bad.append(f"DELETE /api/v1/sessions/{{id}} on {B.name}: {d!r}")
        for label, base, src in self.targets():
            w = request(base, "GET", "/api/v1/sessions/current", jar=y.copy(), source=src)
            if w.status != 401:
                bad.append(f"revoked session on {label}: {w!r}")
            w = request(base, "GET", "/api/v1/sessions/current", jar=x.copy(), source=src)
            if w.status != 200:
                bad.append(f"the revoking session on {label}: {w!r}")
        # "Log out everywhere else" on one instance.
        _, z1 = self.login(self.lb, username, self.customer_password, SRC_LB)
        _, z2 = self.login(A.url, username, self.customer_password, SRC_DIRECT)
        live = request(B.url, "GET", "/api/v1/sessions?limit=100", jar=z1, source=SRC_DIRECT)
        others = len(live.json["items"]) - 1 if live.status == 200 else None   # x, z2 and the signup's
        d = request(C.url, "DELETE", "/api/v1/sessions", jar=z1, source=SRC_DIRECT)
        if d.status != 200 or (d.json or {}).get("revoked") != others:
            bad.append(f"DELETE /api/v1/sessions on {C.name}: {d!r} {d.raw[:100]!r}, {others} other live sessions")
        for label, base, src in self.targets():
            for who, jar, want in (("x", x, 401), ("z2", z2, 401), ("z1", z1, 200)):
                w = request(base, "GET", "/api/v1/sessions/current", jar=jar.copy(), source=src)
                if w.status != want:
                    bad.append(f"session {who} on {label} after 'revoke all others': {w!r}, wanted {want}")
        check("a revocation on one instance is seen at once by the others", not bad, "; ".join(bad))

    @guarded("the client address: HAProxy's X-Forwarded-For entry is believed, a forged one is not")
    def check_forwarded_for(self):
        username, _ = self.new_customer("xff")
        A = self.A
        forged = {"X-Forwarded-For": "203.0.113.9"}
        seen = {}
        for label, base, src, headers in (("through HAProxy", self.lb, SRC_LB, None),
                                          ("through HAProxy, forged header", self.lb, SRC_LB, forged),
                                          (f"straight to {A.name}, forged header", A.url, SRC_DIRECT, forged)):
            jar = Jar()
            r = request(base, "POST", "/api/v1/sessions", jar=jar, source=src, headers=headers,
                        body={"username": username, "password": self.customer_password})
            seen[label] = (r.json or {}).get("session", {}).get("ip") if r.status == 201 else repr(r)
        want = {"through HAProxy": SRC_LB, "through HAProxy, forged header": SRC_LB,
                f"straight to {A.name}, forged header": SRC_DIRECT}
        check("the client address: HAProxy's X-Forwarded-For entry is believed, a forged one is not",
              seen == want, f"session ip seen: {seen}; expected {want}")

    @guarded("the login lockout counts across instances")
    def check_lockout(self):
        section("the login lockout across instances")
        username, _ = self.new_customer("lockout")
        targets = [(label, base) for label, base, _ in self.targets()]
        n = 60
        barrier = threading.Barrier(n)
        answers = [None] * n

        def guess(i):
            label, base = targets[i % len(targets)]
            conn = Conn(base, source=SRC_BURST)
            conn.open()
            barrier.wait()
            try:
                r = conn.request("POST", "/api/v1/sessions", body={"username": username, "password": f"wrong-{i}"})
                answers[i] = (label, r.status, r.code, r.header("Retry-After"))
            except ConnError as e:
                answers[i] = (label, "conn", str(e), None)
            conn.close()
        threads = [spawn(target=guess, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        n401 = sum(1 for a in answers if a[1] == 401 and a[2] == "invalid_credentials")
        n429 = sum(1 for a in answers if a[1] == 429 and a[2] == "too_many_attempts")
        no_retry_after = sum(1 for a in answers if a[1] == 429 and not a[3])
        other = [a for a in answers if not ((a[1] == 401 and a[2] == "invalid_credentials")
                                            or (a[1] == 429 and a[2] == "too_many_attempts"))]
        per = {label: {} for label, _ in targets}
        for label, status, _, _ in answers:
            per[label][status] = per[label].get(status, 0) + 1
        # Then the right password, on yet another path: still locked.
        r, _ = self.login(self.h.instances[1].url, username, self.customer_password, SRC_BURST)
        detail = (f"{n} wrong passwords at once over {len(targets)} paths: {n401}x 401 invalid_credentials, "
                  f"{n429}x 429 too_many_attempts, other {other}; per path {per}; "
                  f"then the right password: {r!r}")
        check("the login lockout counts across instances", 1 <= n401 <= 10 and n401 + n429 == n and not other
              and no_retry_after == 0 and r.status == 429, detail)

    @guarded("one Idempotency-Key sent to two instances at the same moment has one effect")
    def check_idempotency_race(self):
        section("one Idempotency-Key on two instances at once")
        _, phone = self.new_customer("idem")
        jar = self.staff_jar()
        insts = self.h.instances
        rounds = 24
        bad, replays, in_progress = [], 0, 0
        effect_ids = []
        for k in range(rounds):
            pair = (insts[k % 3], insts[(k + 1) % 3])
            key = f"race-{uuid.uuid4()}"
            body = {"phone": phone, "count": 1}
            conns = [Conn(i.url, source=SRC_DIRECT) for i in pair]
            for c in conns:
                c.open()
            barrier = threading.Barrier(2)
            out = [None, None]

            def send(j):
                barrier.wait()
                try:
                    out[j] = conns[j].request("POST", "/api/v1/stamps", body=body, jar=jar.copy(),
                                              headers={"Idempotency-Key": key})
                except ConnError as e:
                    out[j] = e
            ts = [spawn(target=send, args=(j,)) for j in (0, 1)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            if any(isinstance(o, ConnError) for o in out):
                bad.append(f"{key}: {out}")
                continue
            firsts = [o for o in out if o.status == 201 and o.header("Idempotent-Replayed") != "true"]
            if len(firsts) != 1:
                bad.append(f"{key}: {len(firsts)} first answers ({out})")
                continue
            first = firsts[0]
            effect_ids.append(first.json["event"]["id"])
            other = out[1] if out[0] is first else out[0]
            if other.status == 201 and other.header("Idempotent-Replayed") == "true":
                replays += 1
                if other.json != first.json:
                    bad.append(f"{key}: the replay's body differs")
            elif other.status == 409 and other.code == "idempotency_key_in_progress":
                in_progress += 1
                # Once the first has finished, the same request is a replay.
                again = request(pair[1].url, "POST", "/api/v1/stamps", body=body, jar=jar.copy(),
                                headers={"Idempotency-Key": key}, source=SRC_DIRECT)
                if again.status != 201 or again.header("Idempotent-Replayed") != "true" or again.json != first.json:
                    bad.append(f"{key}: after 409 in progress, the retry answered {again!r}")
            else:
                bad.append(f"{key}: the duplicate answered {other!r}")
        events = self.db_events([phone])[e164(phone)]
        ids = [e[0] for e in events]
        if sorted(ids) != sorted(effect_ids) or len(events) != rounds:
            bad.append(f"{len(events)} events in the history for {rounds} keys; ids match the answers: "
                       f"{sorted(ids) == sorted(effect_ids)}")
        card = self.card_row(phone)
        if card is None or card[0] != rounds:
            bad.append(f"card balance {card}, expected {rounds}")
        check("one Idempotency-Key sent to two instances at the same moment has one effect", not bad,
              f"{rounds} keys: the duplicate got the replay {replays}x, 409 idempotency_key_in_progress "
              f"{in_progress}x; {len(events)} events" + ("; " + "; ".join(bad[:5]) if bad else ""))

    @guarded("20 parallel redemptions over the instances spend exactly one reward")
    def check_redemptions(self):
        section("20 parallel redemptions of one reward")
        _, phone = self.new_customer("redeem")
        jar = self.staff_jar()
        self.stamp_once(jar, phone, count=10)
        targets = [(label, base, src) for label, base, src in self.targets()]
        n = 20
        barrier = threading.Barrier(n)
        out = [None] * n

        def redeem(i):
            label, base, src = targets[i % len(targets)]
            c = Conn(base, source=src)
            c.open()
            barrier.wait()
            try:
                out[i] = (label, c.request("POST", "/api/v1/stamps/redemptions", body={"phone": phone}, jar=jar.copy()))
            except ConnError as e:
                out[i] = (label, e)
        ts = [spawn(target=redeem, args=(i,)) for i in range(n)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        won = [(label, r) for label, r in out if not isinstance(r, ConnError) and r.status == 201]
        refused = [r for _, r in out if not isinstance(r, ConnError) and r.status == 409 and r.code == "insufficient_stamps"]
        other = [(label, r) for label, r in out if isinstance(r, ConnError) or r.status not in (201, 409)
                 or (r.status == 409 and r.code != "insufficient_stamps")]
        card = self.card_row(phone)
        nred = self.h.pg.query(f"SELECT count(*) FROM redemptions r JOIN users u ON u.id = r.user_id "
                               f"WHERE u.phone = '{e164(phone)}'")[0][0]
        check("20 parallel redemptions over the instances spend exactly one reward",
              len(won) == 1 and len(refused) == n - 1 and not other and card == (0, 10, 10) and nred == "1",
              f"{len(won)}x 201 (on {[label for label, _ in won]}), {len(refused)}x 409 insufficient_stamps, other {other}; "
              f"card (balance, earned, redeemed) = {card}, {nred} redemption row(s)")

    @guarded("HAProxy's Prometheus exporter")
    def check_haproxy_metrics(self):
        r = request(f"http://127.0.0.1:{self.h.haproxy.monitoring_port}", "GET", "/metrics", timeout=5)
        text = r.raw.decode(errors="replace")
        names = ("haproxy_backend_retry_warnings_total", "haproxy_backend_redispatch_warnings_total",
                 "haproxy_server_status", "haproxy_backend_http_responses_total")
        missing = [n for n in names if n not in text]
        check("HAProxy's Prometheus exporter (frontend monitoring) serves the backend's series",
              r.status == 200 and not missing, f"{r.status}; missing {missing}")

    @guarded("metrics")
    def check_metrics(self):
        section("/metrics on STAMPCARD_METRICS_ADDR")
        A = self.A
        murl = f"http://127.0.0.1:{A.metrics_port}"
        try:
            before = request(murl, "GET", "/metrics", timeout=5)
        except ConnError as e:
            result("metrics: the request counter moves", "SKIP",
                   f"not served by this binary (STAMPCARD_METRICS_ADDR=127.0.0.1:{A.metrics_port}: {e})")
            return
        pub = request(A.url, "GET", "/metrics", source=SRC_DIRECT)
        check("metrics: /metrics is not served on the public address", pub.status == 404, f"{pub!r}")

        def requests_total(resp):
            """The sum of the HTTP request counter's samples: a `*http*request*_total` counter, or
            else the `_count` of an `*http*request*` histogram (both count requests)."""
            sums = {"_total": [0.0, set()], "_count": [0.0, set()]}
            for line in resp.raw.decode(errors="replace").splitlines():
                if line.startswith("#") or not line.strip():
                    continue
                m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)", line)
                if not m or "http" not in m.group(1) or "request" not in m.group(1):
                    continue
                for suffix, acc in sums.items():
                    if m.group(1).endswith(suffix):
                        acc[0] += float(m.group(3))
                        acc[1].add(m.group(1))
            return tuple(sums["_total"]) if sums["_total"][1] else tuple(sums["_count"])
        n0, names = requests_total(before)
        for _ in range(5):
            request(A.url, "GET", "/api/v1/preferences", source=SRC_DIRECT)
        after = request(murl, "GET", "/metrics", timeout=5)
        n1, _ = requests_total(after)
        check("metrics: the request counter moves", before.status == 200 and n1 - n0 >= 5,
              f"{sorted(names) or 'no *http*request*_total series'}: {n0:g} -> {n1:g} after 5 requests; "
              f"Content-Type {before.header('Content-Type')}")

    # --- 3. faults under load -----------------------------------------------------------------

    class Load:
        """Client threads through HAProxy: stamps with Idempotency-Keys, and whoami."""

        def __init__(self, cl, ledger, phones, stampers=4, whoamis=2):
            self.cl, self.ledger, self.phones = cl, ledger, phones
            self.stop = threading.Event()
            self.threads = [spawn(target=self.stamper, args=(i,)) for i in range(stampers)]
            self.threads += [spawn(target=self.whoami, args=(stampers + i,)) for i in range(whoamis)]
            self.jars = [cl.staff_jar() for _ in self.threads]

        def start(self):
            for t in self.threads:
                t.start()
            return self

        def stamper(self, i):
            jar = self.jars[i]
            conn = Conn(self.cl.lb, source=SRC_LB)
            n = 0
            while not self.stop.is_set():
                phone = self.phones[(i + n) % len(self.phones)]
                n += 1
                op = self.ledger.add(Op("stamp", key=f"{self.ledger.name}-{uuid.uuid4()}", phone=phone,
                                        body={"phone": phone, "count": 1}))
                run_op(conn, op, jar, "haproxy")
                time.sleep(0.005)

        def whoami(self, i):
            jar = self.jars[i]
            conn = Conn(self.cl.lb, source=SRC_LB)
            while not self.stop.is_set():
                op = self.ledger.add(Op("whoami", path="/api/v1/sessions/current"))
                run_op(conn, op, jar, "haproxy")
                time.sleep(0.005)

        def finish(self):
            self.stop.set()
            for t in self.threads:
                t.join()

    def pinned(self, ledger, inst, phones, jar, per_phone=1):
        """Stamps sent straight to `inst` for customers whose cards are locked, so that they are
        certainly in flight there; on a connection error the client retries through HAProxy."""
        ops, threads = [], []
        for phone in phones:
            for _ in range(per_phone):
                op = ledger.add(Op("stamp", key=f"{ledger.name}-pinned-{uuid.uuid4()}", phone=phone,
                                   body={"phone": phone, "count": 1}))
                op.pinned = True
                ops.append(op)

        def go(op):
            direct = Conn(inst.url, source=SRC_DIRECT)
            headers = {"Idempotency-Key": op.key}
            t_sent = time.monotonic()
            try:
                resp = direct.request("POST", "/api/v1/stamps", body=op.body, jar=jar.copy(), headers=headers)
            except ConnError as e:
                resp = e
            op.record(t_sent, resp, inst.name)
            if not client.retryable(resp):
                op.settle(resp)
                return
            op.retried_from = time.monotonic()
            run_op(Conn(self.lb, source=SRC_LB), op, jar.copy(), "haproxy")
        for op in ops:
            t = spawn(target=go, args=(op,))
            t.start()
            threads.append(t)
        return ops, threads

    def wait_locked(self, n, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.waiting_on_locks() >= n:
                return True
            time.sleep(0.05)
        return False

    def haproxy_counters(self):
        """Backend retries and redispatches, and 5xx answers per server, from HAProxy's stats."""
        s = {}
        try:
            for row in haproxy_stats.rows(self.h.haproxy.sock):
                if row.get("svname") == "BACKEND":
                    s["retries"] = int(row.get("wretr") or 0)
                    s["redispatches"] = int(row.get("wredis") or 0)
                    s["5xx"] = int(row.get("hrsp_5xx") or 0)
        except (OSError, ValueError, IndexError):
            pass
        return s

    def late_resolve(self, ledger, t_fault):
        """Keeps retrying, through HAProxy, every key the client gave up on, to measure when it
        resolves (the client's own retries are bounded; this is not)."""
        def run():
            jar = self.staff_jar()
            conn = Conn(self.lb, source=SRC_LB)
            deadline = t_fault + LATE_RESOLVE_FOR_S
            while time.monotonic() < deadline:
                open_ops = [op for op in ledger.snapshot() if op.kind == "stamp" and op.final is None and op.gave_up]
                if not open_ops and ledger.done:
                    return
                for op in open_ops:
                    try:
                        resp = conn.request("POST", "/api/v1/stamps", body=op.body, jar=jar,
                                            headers={"Idempotency-Key": op.key})
                    except ConnError as e:
                        resp = e
                    op.late = getattr(op, "late", 0) + 1
                    if not client.retryable(resp):
                        op.settle(resp)
                time.sleep(1.0)
        t = spawn(target=run)
        t.start()
        self.resolvers.append(t)

    def fault(self, name, phones, action, pinned_phones=()):
        """Runs the load through HAProxy, applies `action` (which returns the fault's moment and
        notes), lets the cluster recover, stops the load; verification comes at the end."""
        section(f"fault: {name}")
        ledger = Ledger(name)
        ledger.done = False
        ledger.t_fault = None
        ledger.notes = []
        self.ledgers.append(ledger)
        before = self.haproxy_counters()
        load = self.Load(self, ledger, phones).start()
        ledger.load_phones = list(phones)
        ledger.pinned_phones = list(pinned_phones)
        time.sleep(3)
        try:
            ledger.t_fault, notes = action(ledger)
            ledger.notes += notes
        except Exception as e:  # noqa: BLE001
            result(f"{name}: the fault ran", "FAIL", f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=5)}")
            ledger.t_fault = ledger.t_fault or time.monotonic()
        ok, st = self.h.haproxy.wait_all_up(30)
        if not ok:
            ledger.notes.append(f"not every instance was UP again: {st}")
        time.sleep(3)
        load.finish()
        for t in getattr(ledger, "pinned_threads", []):
            t.join()
        after = self.haproxy_counters()
        ledger.haproxy = {k: after.get(k, 0) - before.get(k, 0) for k in after}
        ledger.done = True
        self.late_resolve(ledger, ledger.t_fault)
        for note in ledger.notes:
            print(f"     {note}")
        sent = sum(len(op.attempts) for op in ledger.snapshot())
        print(f"     {len(ledger.snapshot())} operations, {sent} requests; the summary follows at the end")

    def pinned_customers(self, prefix):
        """Four customers for the steady load, and three whose cards will be locked so that their
        stamps are in flight on the victim when the fault strikes."""
        load_phones = [self.new_customer(f"{prefix}load{i}")[1] for i in range(4)]
        pin = [self.new_customer(f"{prefix}pin{i}")[1] for i in range(3)]
        jar = self.staff_jar()
        for p in pin:
            self.stamp_once(jar, p)      # the card row exists, so it can be locked
        return load_phones, pin, jar

    def pin_on(self, ledger, victim, pin, jar, notes):
        """Locks the pinned cards and sends their stamps to `victim`, where they wait on the locks."""
        lock = self.lock_cards(pin)
        ops, threads = self.pinned(ledger, victim, pin, jar)
        ledger.pinned_threads = threads
        if not self.wait_locked(len(pin)):
            notes.append("the pinned stamps were not seen waiting on their locks")
        return lock, ops, threads

    def restart(self, victim, t_fault, did, after):
        victim.start()
        ready = victim.wait_ready(30)
        up = self.h.haproxy.wait_status(self.h.haproxy.by_instance[victim.name], "UP", 20)
        return (f"{victim.name} {did}: ready {ready}, UP in HAProxy {up} "
                f"{time.monotonic() - t_fault:.1f}s after {after}")

    def fault_kill9(self):
        A, B, C = self.h.instances
        victim = B
        load_phones, pin, jar = self.pinned_customers("k9")

        def action(ledger):
            notes = []
            lock, ops, threads = self.pin_on(ledger, victim, pin, jar, notes)
            victim.kill9()
            t_fault = time.monotonic()
            notes.append(f"kill -9 of {victim.name} (pid {victim.proc.pid}) with {len(pin)} stamps in flight on it "
                         "(their cards locked by a psql session, released 0.3 s after the kill)")
            time.sleep(0.3)
            lock.release()
            time.sleep(1.7)
            notes.append(self.restart(victim, t_fault, "restarted", "the kill"))
            return t_fault, notes
        self.fault("kill -9 of one instance", load_phones, action, pin)

    def fault_sigterm(self):
        A, B, C = self.h.instances
        victim = A
        load_phones, pin, jar = self.pinned_customers("term")

        def action(ledger):
            notes = []
            lock, ops, threads = self.pin_on(ledger, victim, pin, jar, notes)
            t_fault = time.monotonic()
            stopper = {}

            def stop():
                stopper["status"], stopper["took"] = victim.stop()
            st = spawn(target=stop)
            st.start()
            time.sleep(1.0)
            lock.release()
            st.join()
            for t in threads:
                t.join()
            first_try = [op for op in ops if op.attempts and op.attempts[0].outcome == "2xx"]
            check(f"SIGTERM: the requests in flight on {victim.name} finish (201 on their first attempt)",
                  len(first_try) == len(ops),
                  f"{len(first_try)}/{len(ops)}: " + ", ".join(op.attempts[0].outcome for op in ops))
            check(f"SIGTERM: {victim.name} exits 0 within TimeoutStopSec ({self.h.unit.stop_timeout:g}s)",
                  stopper.get("status") == 0, f"exit {stopper.get('status')} after {stopper.get('took', 0):.1f}s")
            notes.append(f"SIGTERM of {victim.name} with {len(pin)} stamps in flight on it (cards locked, released "
                         f"after 1 s); it exited {stopper.get('status')} after {stopper.get('took', 0):.1f}s")
            notes.append(self.restart(victim, t_fault, "started again (a rolling restart)", "the SIGTERM"))
            return t_fault, notes
        self.fault("SIGTERM of one instance (rolling restart)", load_phones, action, pin)

    def fault_pg_restart(self):
        load_phones = [self.new_customer(f"pgload{i}")[1] for i in range(4)]

        def action(ledger):
            t_fault = time.monotonic()
            self.h.pg.restart_fast()
            took = time.monotonic() - t_fault
            ready = {i.name: i.wait_ready(30) for i in self.h.instances}
            return t_fault, [f"pg_ctl restart -m fast took {took:.1f}s; instances ready again: {ready} "
                             f"after {time.monotonic() - t_fault:.1f}s"]
        self.fault("PostgreSQL restart (pg_ctl restart -m fast)", load_phones, action)

    def fault_pool(self):
        A, B, C = self.h.instances
        victim = C
        pool, timeout_ms, slow = 2, 300, 6
        load_phones = [self.new_customer(f"poolload{i}")[1] for i in range(4)]
        pin = [self.new_customer(f"poolpin{i}")[1] for i in range(slow)]
        jar = self.staff_jar()
        for p in pin:
            self.stamp_once(jar, p)
        # A rolling restart of one instance with a small pool and a short wait for a connection.
        status, took = victim.stop()
        # (Also JSON logs, checked afterwards by check_json_logs.)
        victim.start(STAMPCARD_DB_POOL_SIZE=pool, STAMPCARD_DB_TIMEOUT_MS=timeout_ms, STAMPCARD_LOG_FORMAT="json")
        if not victim.wait_ready(30):
            raise RuntimeError(f"{victim.name} with a pool of {pool} did not come up:\n{tail(victim.log)}")
        self.h.haproxy.wait_status(self.h.haproxy.by_instance[victim.name], "UP", 20)

        def action(ledger):
            notes = [f"{victim.name} restarted with STAMPCARD_DB_POOL_SIZE={pool} STAMPCARD_DB_TIMEOUT_MS={timeout_ms}"]
            lock = self.lock_cards(pin)
            t_fault = time.monotonic()
            ops, threads = self.pinned(ledger, victim, pin, jar)
            ledger.pinned_threads = threads
            time.sleep(3.0)
            held = self.waiting_on_locks()
            lock.release()
            notes.append(f"{slow} slow stamps (cards locked for 3 s by a psql session) sent straight to {victim.name}, "
                         f"{held} of them waiting in PostgreSQL with the pool held; the load through HAProxy went on")
            for t in threads:
                t.join()
            first = [op.attempts[0].outcome for op in ops if op.attempts]
            notes.append(f"the slow stamps' first answers: {first}")
            check(f"pool exhausted: {victim.name} answers 503 with Retry-After to the requests beyond its pool",
                  first.count("2xx") <= pool and first.count("503_retry_after") >= slow - pool,
                  f"first answers {first}; pool {pool}")
            return t_fault, notes
        self.fault("pool exhausted on one instance", load_phones, action, pin)

    @guarded("JSON logs")
    def check_json_logs(self):
        """The instance last started with STAMPCARD_LOG_FORMAT=json: one JSON object per line, the
        request lines with method, route, status and duration. Skipped while the binary ignores it."""
        section("STAMPCARD_LOG_FORMAT=json")
        inst = next((i for i in self.h.instances if i.env_extra.get("STAMPCARD_LOG_FORMAT") == "json"), None)
        if inst is None:
            result("JSON logs: one object per line, request lines complete", "SKIP", "no instance ran with json logs")
            return
        text = open(inst.log, errors="replace").read().rsplit("===== harness: start", 1)[-1]
        lines = [line for line in text.splitlines()[1:] if line.strip()]
        parsed, bad = [], []
        for line in lines:
            try:
                parsed.append(json.loads(line))
            except ValueError:
                bad.append(line)
        if not parsed:
            result("JSON logs: one object per line, request lines complete", "SKIP",
                   f"not supported by this binary: {inst.name} ran with STAMPCARD_LOG_FORMAT=json and wrote "
                   f"{len(lines)} plain lines, e.g. {lines[:1]}")
            return

        def keys(obj, prefix=""):
            out = set()
            if isinstance(obj, dict):
                for k, v in obj.items():
                    out.add(k.lower())
                    out |= keys(v)
            elif isinstance(obj, list):
                for v in obj:
                    out |= keys(v)
            return out
        wanted = {"method": ("method",), "route": ("route", "path"), "status": ("status",),
                  "duration": ("duration", "duration_ms", "latency", "latency_ms", "elapsed"),
                  "request id": ("request_id", "id", "requestid"), "level": ("level",),
                  "time": ("time", "timestamp", "ts")}
        request_lines = [k for k in (keys(o) for o in parsed) if "method" in k and "status" in k]
        missing = sorted(name for name, alts in wanted.items()
                         if not request_lines or not any(a in request_lines[0] for a in alts))
        check("JSON logs: one object per line, request lines complete", not bad and request_lines and not missing,
              f"{len(parsed)} JSON lines, {len(bad)} other lines {bad[:2]}; {len(request_lines)} request lines; "
              f"missing {missing}; keys of the first request line: {sorted(request_lines[0]) if request_lines else '-'}")

    # --- 4. verification and figures ----------------------------------------------------------

    def verify(self):
        section("no lost and no duplicated write")
        print(f"     waiting for the keys still being resolved (up to {LATE_RESOLVE_FOR_S:.0f}s after each fault)...",
              flush=True)
        for t in self.resolvers:
            t.join()
        for ledger in self.ledgers:
            ops = ledger.snapshot()
            stamps = [op for op in ops if op.kind == "stamp"]
            phones = sorted(set(ledger.load_phones) | set(ledger.pinned_phones))
            events = self.db_events(phones)
            # Setup stamps for these customers (pinned ones got one each) are acknowledged writes too.
            setup = self.setup_ops
            acked, unresolved = {}, []
            per_customer_acked = {e164(p): 0 for p in phones}
            for op in stamps + [o for p in phones for o in setup.get(p, [])]:
                if op.final is not None and op.final.status == 201:
                    acked.setdefault(op.event_id, []).append(op.key)
                    per_customer_acked[e164(op.phone)] += 1
                elif op.final is None:
                    unresolved.append(op)
            db_ids = {eid for evs in events.values() for eid, kind, _ in evs if kind == "earned"}
            lost = [eid for eid in acked if eid not in db_ids]
            shared_ids = [eid for eid, keys in acked.items() if len(keys) > 1]
            orphans = [eid for eid in db_ids if eid not in acked]
            per_customer_extra = {p: len([e for e in evs if e[1] == "earned"]) - per_customer_acked[p]
                                  for p, evs in events.items()}
            duplicated = max(0, len(orphans) - len(unresolved)) + len(shared_ids)
            bad_final = [op for op in stamps if op.final is not None and op.final.status != 201]
            c = {"2xx": 0, "503_retry_after": 0, "409_in_progress": 0}
            other = {}
            proxy_503 = sum(1 for op in ops for a in op.attempts if a.proxy)
            for op in ops:
                for a in op.attempts:
                    if a.outcome in c:
                        c[a.outcome] += 1
                    else:
                        other[a.outcome] = other.get(a.outcome, 0) + 1
            # How long keys took to resolve: those whose request was in flight at the fault or
            # failed after it, measured from the fault to their definite answer.
            t_fault = ledger.t_fault
            affected = [op for op in stamps
                        if getattr(op, "pinned", False) or any(a.outcome != "2xx" for a in op.attempts)]
            resolve_times = sorted(op.t_definite - t_fault for op in affected if op.t_definite is not None)
            pinned = [op for op in stamps if getattr(op, "pinned", False)]
            pinned_times = sorted(op.t_definite - t_fault for op in pinned if op.t_definite is not None)
            gave_up = [op for op in stamps if op.gave_up]
            row = {
                "fault": ledger.name, "requests": sum(len(op.attempts) for op in ops),
                "ops": len(ops), "stamps": len(stamps),
                "2xx": c["2xx"], "503_retry_after": c["503_retry_after"], "409_in_progress": c["409_in_progress"],
                "503_from_haproxy": proxy_503,
                "failed_otherwise": sum(other.values()), "other": other,
                "gave_up": len(gave_up), "unresolved_end": len(unresolved),
                "lost": len(lost), "duplicated": duplicated,
                "resolve_max": resolve_times[-1] if resolve_times else None,
                "resolve_n": len(resolve_times), "affected": len(affected),
                "pinned_times": pinned_times, "haproxy": ledger.haproxy,
            }
            self.figures.append(row)
            check(f"{ledger.name}: no lost and no duplicated write",
                  not lost and duplicated == 0 and not bad_final and all(v == 0 for v in per_customer_extra.values())
                  and not unresolved,
                  f"{len(acked)} stamps acknowledged, {len(db_ids)} events for these {len(phones)} customers; "
                  f"lost {len(lost)}, events without an acknowledged request {len(orphans)}, keys sharing an event "
                  f"{len(shared_ids)}, still unresolved {len(unresolved)}, other final answers "
                  f"{[repr(op.final) for op in bad_final][:5]}, events minus acknowledged per customer "
                  f"{per_customer_extra}")
            slow = [t for t in resolve_times if t > RESOLVE_WITHIN_S]
            check(f"{ledger.name}: every key in flight at the fault resolves within {RESOLVE_WITHIN_S:g}s",
                  not slow and not unresolved,
                  f"{len(affected)} keys affected; resolved after (s from the fault): "
                  f"{', '.join(f'{t:.1f}' for t in resolve_times[-8:]) or '-'}; the client gave up on {len(gave_up)} "
                  f"(budget {client.RETRY_BUDGET_S}s); pinned keys resolved after "
                  f"{', '.join(f'{t:.1f}' for t in pinned_times) or '-'}s; 409 idempotency_key_in_progress "
                  f"answers: {c['409_in_progress']}")
        # Every card, not only the faults': balance = sum of its events.
        mismatched = self.h.pg.query(
            "SELECT u.phone, c.balance, c.total_earned, c.total_redeemed, coalesce(e.net, 0), coalesce(e.earned, 0) "
            "FROM cards c JOIN users u ON u.id = c.user_id LEFT JOIN ("
            "  SELECT user_id, sum(CASE kind WHEN 'earned' THEN count ELSE -count END) AS net,"
            "         sum(CASE kind WHEN 'earned' THEN count ELSE 0 END) AS earned FROM stamp_events GROUP BY user_id"
            ") e ON e.user_id = c.user_id "
            "WHERE c.balance <> coalesce(e.net, 0) OR c.total_earned <> coalesce(e.earned, 0)")
        ncards = self.h.pg.query("SELECT count(*), coalesce(sum(balance), 0) FROM cards")[0]
        check("every card's balance equals the sum of its events", not mismatched,
              f"{ncards[0]} cards, {ncards[1]} stamps on them; mismatched: {mismatched[:5]}")

    def print_figures(self):
        section("figures")
        head = ("| fault | requests sent | answered 2xx | 503 with Retry-After | 409 key in progress | "
                "failed otherwise | keys unresolved after the client's retries | lost / duplicated writes | "
                "slowest key resolved after | HAProxy retries / redispatches |")
        lines = [head, "|" + "---|" * 10]
        for r in self.figures:
            other = ", ".join(f"{k} {v}" for k, v in sorted(r["other"].items()))
            lines.append(
                f"| {r['fault']} | {r['requests']} | {r['2xx']} | {r['503_retry_after']}"
                f"{' (%d from HAProxy)' % r['503_from_haproxy'] if r['503_from_haproxy'] else ''} | {r['409_in_progress']} | "
                f"{r['failed_otherwise']}{' (' + other + ')' if other else ''} | {r['gave_up']} | "
                f"{r['lost']} / {r['duplicated']} | "
                f"{'%.1f s' % r['resolve_max'] if r['resolve_max'] is not None else '-'} | "
                f"{r['haproxy'].get('retries', '?')} / {r['haproxy'].get('redispatches', '?')} |")
        table = "\n".join(lines)
        print(table)
        print("\n(requests: every HTTP request the clients sent, retries included: stamps with Idempotency-Keys and "
              "whoami, through HAProxy, plus the stamps pinned straight to the faulty instance. 'slowest key "
              "resolved after': from the fault to the definite answer of the slowest key that was in flight at "
              "the fault or failed after it. 'failed otherwise': conn_error = no HTTP answer, 503_bare = a 503 "
              "without Retry-After, other codes as numbers.)")
        out = os.environ.get("CLUSTER_FIGURES")
        if out:
            with open(out, "w") as f:
                json.dump({"table": table, "rows": self.figures, "results": RESULTS}, f, indent=1, default=str)


class Interrupted(BaseException):
    pass


def interrupted(*_):
    raise Interrupted()


def main():
    # SIGTERM (a CI timeout, run.sh's trap) ends the run through the cleanup below.
    signal.signal(signal.SIGTERM, interrupted)
    root = os.environ["CLUSTER_ROOT"]
    tmp = os.environ["CLUSTER_TMP"]
    h = Harness(root, tmp, os.environ["STAMPCARD_BIN"], os.environ["CLUSTER_PGBIN"])
    env = h.server_env()
    h.instances = [Instance(h, f"app{i + 1}", env) for i in range(3)]
    h.haproxy = HAProxy(h, os.path.join(root, "deploy", "haproxy.cfg"), h.instances)
    cl = Cluster(h)
    try:
        cl.verify_deploy_files()
        cl.start_instances()
        cl.start_haproxy()
        cl.create_users()
        cl.check_session_sharing()
        cl.check_logout()
        cl.check_revocation()
        cl.check_forwarded_for()
        cl.check_lockout()
        cl.check_idempotency_race()
        cl.check_redemptions()
        cl.check_metrics()
        cl.check_haproxy_metrics()
        for fault in (cl.fault_kill9, cl.fault_sigterm, cl.fault_pg_restart, cl.fault_pool):
            try:
                fault()
            except Exception as e:  # noqa: BLE001
                result(f"{fault.__name__}", "FAIL", f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=6)}")
        cl.check_json_logs()
        cl.verify()
        cl.print_figures()
        section("server logs")
        for inst in h.instances:
            panics = [line for line in open(inst.log, errors="replace") if "panicked" in line]
            check(f"{inst.name}: no panic in its log", not panics, " | ".join(panics[:3]))
    except SystemExit as e:
        result("the cluster could not be set up", "FAIL", str(e))
    except (Interrupted, KeyboardInterrupt):
        result("the run was interrupted", "FAIL", "SIGTERM or Ctrl-C")
    finally:
        for t in cl.resolvers:
            t.join(0)
        h.cleanup()
    section("summary")
    for name, status, _ in RESULTS:
        print(f"{status:4} {name}")
    failed = [r for r in RESULTS if r[1] == "FAIL"]
    print(f"\ncluster: {sum(1 for r in RESULTS if r[1] == 'PASS')} passed, {len(failed)} failed, "
          f"{sum(1 for r in RESULTS if r[1] == 'SKIP')} skipped in {time.monotonic() - T0:.0f}s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
