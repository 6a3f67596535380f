"""Fault: kill -9 of one instance with stamps in flight on it, then it is started again.

Three stamps are sent straight to the victim for customers whose card rows a psql session holds
locked, released 0.3 s after the kill; their client then retries through HAProxy. What must hold
(no acknowledged write lost or doubled, every key resolved within the proxy's retry time) is
checked for every fault at the end (harness/verify.py).
"""
import time

from harness.faults import pinned_fault, restart


def run(cl):
    victim = cl.h.instances[1]

    def strike(ledger, lock, ops, threads, notes):
        victim.kill9()
        t_fault = time.monotonic()
        notes.append(f"kill -9 of {victim.name} (pid {victim.proc.pid}) with {len(ops)} stamps in flight on it "
                     "(their cards locked by a psql session, released 0.3 s after the kill)")
        time.sleep(0.3)
        lock.release()
        time.sleep(1.7)
        notes.append(restart(cl, victim, t_fault, "restarted", "the kill"))
        return t_fault
    pinned_fault(cl, "kill -9 of one instance", "k9", victim, strike)
