"""The clients of a fault phase: steady load through HAProxy, stamps pinned on the instance the
fault strikes, and the resolver that keeps after keys the clients gave up on.

Every request lands in the phase's Ledger (harness/client.py), which harness/verify.py checks
against the database at the end.
"""
import threading
import time
import uuid

from stampcard_tools.httpc import Conn, ConnError

from harness import client
from harness.client import Op, run_op
from harness.cluster import SRC_DIRECT, SRC_LB
from harness.report import spawn

# How long the harness keeps retrying an unresolved key, to measure when it does resolve.
LATE_RESOLVE_FOR_S = 95.0


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


def pinned(cl, ledger, inst, phones, jar, per_phone=1):
    """Stamps sent straight to `inst` for customers whose cards are locked, so that they are
    certainly in flight there; on a connection error the client retries through HAProxy.
    Returns (the ops, their threads)."""
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
        run_op(Conn(cl.lb, source=SRC_LB), op, jar.copy(), "haproxy")
    for op in ops:
        t = spawn(target=go, args=(op,))
        t.start()
        threads.append(t)
    return ops, threads


def late_resolve(cl, ledger, t_fault):
    """Keeps retrying, through HAProxy, every key the client gave up on, to measure when it
    resolves (the client's own retries are bounded; this is not)."""
    def run():
        jar = cl.staff_jar()
        conn = Conn(cl.lb, source=SRC_LB)
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
    cl.resolvers.append(t)
