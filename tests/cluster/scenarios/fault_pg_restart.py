"""Fault: PostgreSQL restarted (`pg_ctl restart -m fast`) under the load."""
import time

from harness.faults import load_customers, run_fault


def run(cl):
    load_phones = load_customers(cl, "pg")

    def action(ledger):
        t_fault = time.monotonic()
        cl.h.pg.restart_fast()
        took = time.monotonic() - t_fault
        ready = {i.name: i.wait_ready(30) for i in cl.h.instances}
        return t_fault, [f"pg_ctl restart -m fast took {took:.1f}s; instances ready again: {ready} "
                         f"after {time.monotonic() - t_fault:.1f}s"]
    run_fault(cl, "PostgreSQL restart (pg_ctl restart -m fast)", load_phones, action)
