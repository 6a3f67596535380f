"""Fault: SIGTERM of one instance (a rolling restart) with stamps in flight on it.

The in-flight stamps (cards locked, released 1 s after the signal) must answer 201 on their first
attempt, and the instance must exit 0 within the unit's TimeoutStopSec; then it is started again.
"""
import time

from harness.faults import pinned_fault, restart
from harness.report import check, spawn


def run(cl):
    victim = cl.h.instances[0]

    def strike(ledger, lock, ops, threads, notes):
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
        check(f"SIGTERM: {victim.name} exits 0 within TimeoutStopSec ({cl.h.unit.stop_timeout:g}s)",
              stopper.get("status") == 0, f"exit {stopper.get('status')} after {stopper.get('took', 0):.1f}s")
        notes.append(f"SIGTERM of {victim.name} with {len(ops)} stamps in flight on it (cards locked, released "
                     f"after 1 s); it exited {stopper.get('status')} after {stopper.get('took', 0):.1f}s")
        notes.append(restart(cl, victim, t_fault, "started again (a rolling restart)", "the SIGTERM"))
        return t_fault
    pinned_fault(cl, "SIGTERM of one instance (rolling restart)", "term", victim, strike)
