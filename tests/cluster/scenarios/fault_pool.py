"""Fault: the pool exhausted on one instance.

The victim is restarted (a rolling restart) with STAMPCARD_DB_POOL_SIZE=2 and
STAMPCARD_DB_TIMEOUT_MS=300, and with JSON logs (scenarios/json_logs.py reads them afterwards);
six slow stamps (their cards locked for 3 s) are sent straight to it, more than its connections,
while the load goes on through HAProxy. The requests beyond the pool must get 503 with
Retry-After, and HAProxy must route around the instance.
"""
import time

from harness.faults import load_customers, run_fault, stamped_customers
from harness.load import pinned
from harness.processes import tail
from harness.report import check


def run(cl):
    victim = cl.h.instances[2]
    pool, timeout_ms, slow = 2, 300, 6
    load_phones = load_customers(cl, "pool")
    pin, jar = stamped_customers(cl, "pool", slow)
    # A rolling restart of one instance with a small pool and a short wait for a connection.
    victim.stop()
    victim.start(STAMPCARD_DB_POOL_SIZE=pool, STAMPCARD_DB_TIMEOUT_MS=timeout_ms, STAMPCARD_LOG_FORMAT="json")
    if not victim.wait_ready(30):
        raise RuntimeError(f"{victim.name} with a pool of {pool} did not come up:\n{tail(victim.log)}")
    cl.h.haproxy.wait_status(cl.h.haproxy.by_instance[victim.name], "UP", 20)

    def action(ledger):
        notes = [f"{victim.name} restarted with STAMPCARD_DB_POOL_SIZE={pool} STAMPCARD_DB_TIMEOUT_MS={timeout_ms}"]
        lock = cl.lock_cards(pin)
        t_fault = time.monotonic()
        ops, threads = pinned(cl, ledger, victim, pin, jar)
        ledger.pinned_threads = threads
        time.sleep(3.0)
        held = cl.waiting_on_locks()
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
    run_fault(cl, "pool exhausted on one instance", load_phones, action, pin)
