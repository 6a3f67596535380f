#!/usr/bin/env python3
"""The cluster test: one PostgreSQL and its streaming replica, three `stampcard serve` instances,
HAProxy in front.

Started by tests/cluster/run.sh, which prepares the environment and cleans up after it. Runs the
scenarios below in order, one PASS/FAIL/SKIP line per check, then the figures table of the faults;
exits 1 if any check failed. README.md here says how to add a scenario; docs/operations.md what
each check and each fault means.
"""
import os
import signal
import sys

from harness.cluster import Cluster
from harness.report import failed, result, summary
from harness.services import HAProxy, Harness, Instance
from harness.verify import print_figures, verify
from scenarios import (client_address, deploy_files, fault_kill9, fault_pg_restart, fault_pool, fault_sigterm,
                       idempotency, json_logs, lockout, metrics, no_panic, redemptions, replica, replica_after_faults,
                       sessions, startup, stream)

# Setting up: an exception here ends the run (SystemExit: "the cluster could not be set up").
SETUP = (deploy_files, startup)
# One service out of three instances: each check is guarded, a failure does not stop the run.
CHECKS = (sessions, client_address, lockout, idempotency, redemptions, stream, replica, metrics)
# Faults under load, one after another; an exception is the fault's FAIL, the next one runs.
FAULTS = (fault_kill9, fault_sigterm, fault_pg_restart, fault_pool)
# After the faults (json_logs reads the log of the instance fault_pool restarted;
# replica_after_faults needs the replica back after fault_pg_restart); then the verification of
# every fault's writes, the figures, and the instances' logs.
AFTER = (json_logs, replica_after_faults)
LAST = (no_panic,)


class Interrupted(BaseException):
    pass


def interrupted(*_):
    raise Interrupted()


def harness_from_env():
    root = os.environ["CLUSTER_ROOT"]
    h = Harness(root, os.environ["CLUSTER_TMP"], os.environ["STAMPCARD_BIN"], os.environ["CLUSTER_PGBIN"])
    env = h.server_env()
    h.instances = [Instance(h, f"app{i + 1}", env) for i in range(3)]
    h.haproxy = HAProxy(h, os.path.join(root, "deploy", "haproxy.cfg"), h.instances)
    return h


def main():
    # SIGTERM (a CI timeout, run.sh's trap) ends the run through the cleanup below.
    signal.signal(signal.SIGTERM, interrupted)
    h = harness_from_env()
    cl = Cluster(h)
    try:
        for scenario in SETUP + CHECKS:
            scenario.run(cl)
        for fault in FAULTS:
            try:
                fault.run(cl)
            except Exception as e:  # noqa: BLE001
                failed(fault.__name__.rsplit(".", 1)[-1], e, limit=6)
        for scenario in AFTER:
            scenario.run(cl)
        verify(cl)
        print_figures(cl)
        for scenario in LAST:
            scenario.run(cl)
    except SystemExit as e:
        result("the cluster could not be set up", "FAIL", str(e))
    except (Interrupted, KeyboardInterrupt):
        result("the run was interrupted", "FAIL", "SIGTERM or Ctrl-C")
    finally:
        for t in cl.resolvers:
            t.join(0)
        h.cleanup()
    return 0 if summary() else 1


if __name__ == "__main__":
    sys.exit(main())
