"""How a fault phase runs: load through HAProxy, the fault, the recovery, more load; and the
helpers the fault scenarios share (customers whose stamps are pinned in flight on the victim,
starting the victim again).

A fault scenario (scenarios/fault_*.py) calls `run_fault` with an `action`, or `pinned_fault`
with a `strike`; the ledger it leaves is verified with the others at the end (harness/verify.py).
"""
import time

from stampcard_tools import haproxy_stats

from harness.client import Ledger
from harness.load import Load, late_resolve, pinned
from harness.report import failed, section


def haproxy_counters(cl):
    """Backend retries and redispatches, and its 5xx answers, from HAProxy's stats."""
    try:
        be = haproxy_stats.show(cl.h.haproxy.sock).get("BACKEND")
    except (OSError, ValueError, IndexError):
        return {}
    if be is None:
        return {}
    return {"retries": be["wretr"] or 0, "redispatches": be["wredis"] or 0, "5xx": be["hrsp_5xx"] or 0}


def run_fault(cl, name, phones, action, pinned_phones=()):
    """Runs the load through HAProxy, applies `action(ledger)` (which returns the fault's moment
    and notes), lets the cluster recover, stops the load; verification comes at the end."""
    section(f"fault: {name}")
    ledger = Ledger(name)
    ledger.done = False
    ledger.t_fault = None
    ledger.notes = []
    cl.ledgers.append(ledger)
    before = haproxy_counters(cl)
    load = Load(cl, ledger, phones).start()
    ledger.load_phones = list(phones)
    ledger.pinned_phones = list(pinned_phones)
    time.sleep(3)
    try:
        ledger.t_fault, notes = action(ledger)
        ledger.notes += notes
    except Exception as e:  # noqa: BLE001
        failed(f"{name}: the fault ran", e, limit=5)
        ledger.t_fault = ledger.t_fault or time.monotonic()
    ok, st = cl.h.haproxy.wait_all_up(30)
    if not ok:
        ledger.notes.append(f"not every instance was UP again: {st}")
    time.sleep(3)
    load.finish()
    for t in getattr(ledger, "pinned_threads", []):
        t.join()
    after = haproxy_counters(cl)
    ledger.haproxy = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    ledger.done = True
    late_resolve(cl, ledger, ledger.t_fault)
    for note in ledger.notes:
        print(f"     {note}")
    sent = sum(len(op.attempts) for op in ledger.snapshot())
    print(f"     {len(ledger.snapshot())} operations, {sent} requests; the summary follows at the end")


def load_customers(cl, prefix, n=4):
    """The customers the steady load stamps for, during one fault."""
    return [cl.new_customer(f"{prefix}load{i}")[1] for i in range(n)]


def stamped_customers(cl, prefix, n):
    """Customers with one stamp each (so that their card row exists and can be locked), and a
    staff session to stamp for them."""
    phones = [cl.new_customer(f"{prefix}pin{i}")[1] for i in range(n)]
    jar = cl.staff_jar()
    for p in phones:
        cl.stamp_once(jar, p)
    return phones, jar


def pin_on(cl, ledger, victim, pin, jar, notes):
    """Locks the pinned cards and sends their stamps to `victim`, where they wait on the locks."""
    lock = cl.lock_cards(pin)
    ops, threads = pinned(cl, ledger, victim, pin, jar)
    ledger.pinned_threads = threads
    if not cl.wait_locked(len(pin)):
        notes.append("the pinned stamps were not seen waiting on their locks")
    return lock, ops, threads


def pinned_fault(cl, name, prefix, victim, strike):
    """A fault on `victim` with three stamps certainly in flight on it: four customers under load,
    and three whose cards a psql session locks while their stamps, sent straight to `victim`,
    wait on the locks. `strike(ledger, lock, ops, threads, notes)` strikes, releases `lock` when
    it sees fit, and returns the fault's moment."""
    load_phones = load_customers(cl, prefix)
    pin, jar = stamped_customers(cl, prefix, 3)

    def action(ledger):
        notes = []
        lock, ops, threads = pin_on(cl, ledger, victim, pin, jar, notes)
        return strike(ledger, lock, ops, threads, notes), notes
    run_fault(cl, name, load_phones, action, pin)


def restart(cl, victim, t_fault, did, after):
    """Starts `victim` again and waits until HAProxy sees it UP; returns the note that says so."""
    victim.start()
    ready = victim.wait_ready(30)
    up = cl.h.haproxy.wait_status(cl.h.haproxy.by_instance[victim.name], "UP", 20)
    return (f"{victim.name} {did}: ready {ready}, UP in HAProxy {up} "
            f"{time.monotonic() - t_fault:.1f}s after {after}")
