"""The run's state that every scenario shares: the harness (PostgreSQL, instances, HAProxy), the
users it made, and the look-ups the checks make (logins, sign-ups, setup stamps, the database's
view of a customer's card and events, row locks).
"""
import re
import time
import uuid

from stampcard_tools.httpc import Conn, ConnError, Jar, request

from harness import client
from harness.client import Op, run_op
from harness.processes import LockHolder

# Loopback source addresses, so that the client address the server sees is known: HAProxy talks
# to the instances from 127.0.0.1 (the trusted proxy); the test's clients never use that one.
SRC_LB = "127.0.0.2"        # clients that go through HAProxy
SRC_DIRECT = "127.0.0.3"    # clients that talk straight to an instance
SRC_BURST = "127.0.0.5"     # the password-guessing burst (its own per-IP count)


def e164(phone):
    """010-5001-1001 -> +821050011001 (Korean mobile numbers, as the server stores them)."""
    digits = re.sub(r"\D", "", phone)
    return "+82" + digits[1:]


def answered(send, tries=20):
    """The first answer of `send()` that is not a 503, as a patient client would get it: a
    connection error waits 0.2 s, a 503 its Retry-After (with backoff). None if `tries` run out."""
    for attempt in range(tries):
        try:
            r = send()
        except ConnError:
            time.sleep(0.2)
            continue
        if r.status == 503:
            time.sleep(client.backoff(attempt, r.header("Retry-After")))
            continue
        return r
    return None


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

    # --- users --------------------------------------------------------------------------------

    def login(self, base, username, password, source, retries=20):
        jar = Jar()
        r = answered(lambda: request(base, "POST", "/api/v1/sessions", jar=jar, source=source,
                                     body={"username": username, "password": password}), retries)
        if r is None:
            raise RuntimeError(f"could not log {username} in through {base}")
        return r, jar.session_only()

    def new_customer(self, label):
        i = self.next_phone
        self.next_phone += 1
        phone = f"010-5{i:03d}-{7000 + i:04d}"
        username = f"{label}_{self.run_id}_{i}"
        r = answered(lambda: request(self.lb, "POST", "/api/v1/users", source=SRC_LB,
                                     body={"username": username, "password": self.customer_password, "phone": phone}))
        if r is None:
            raise RuntimeError(f"signup of {username} kept failing")
        if r.status != 201:
            raise RuntimeError(f"signup of {username} ({phone}) answered {r.status}: {r.raw[:300]!r}")
        self.customers[label] = (username, phone)
        return username, phone

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

    # --- the database's view ------------------------------------------------------------------

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

    def wait_locked(self, n, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.waiting_on_locks() >= n:
                return True
            time.sleep(0.05)
        return False

    def lock_cards(self, phones):
        plist = ",".join("'" + e164(p) + "'" for p in phones)
        return LockHolder(self.h.pg, "SELECT c.user_id FROM cards c JOIN users u ON u.id = c.user_id "
                                     f"WHERE u.phone IN ({plist}) FOR UPDATE OF c")
