"""Start-up: PostgreSQL and its streaming replica, three instances started at the same moment on the empty database (all
come up, every migration applied once), HAProxy seeing them UP, and the staff user.

When instances die at start, they are started again one after another so that the other checks
still run (and the check stays failed). A cluster that cannot be set up ends the run.
"""
import os
import threading
import time

from harness.processes import tail
from harness.report import check, section, spawn


def run(cl):
    start_instances(cl)
    start_haproxy(cl)
    create_users(cl)


def error_lines(inst, n=4):
    """The lines of an instance's latest start that are not INFO logs (what it said when it failed)."""
    return [line.rstrip() for line in inst.latest_lines()
            if line.strip() and " INFO " not in line and '"level":"INFO"' not in line.replace(" ", "")][:n]


def start_instances(cl):
    section("three instances started at the same moment on an empty database")
    cl.h.pg.start()
    start_replica(cl)
    barrier = threading.Barrier(len(cl.h.instances))

    def go(inst):
        barrier.wait()
        inst.start()
    threads = [spawn(target=go, args=(i,)) for i in cl.h.instances]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    up = {}
    deadline = time.monotonic() + 40
    for inst in cl.h.instances:
        up[inst.name] = inst.wait_ready(max(1, deadline - time.monotonic()))
    dead = [i for i in cl.h.instances if not up[i.name]]
    detail = []
    for inst in dead:
        status = inst.exit_status()
        detail.append(f"{inst.name} {'exited with ' + str(status) if status is not None else 'never became ready'}: "
                      + " | ".join(error_lines(inst)))
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
    applied = cl.h.pg.query("SELECT count(*), count(DISTINCT version) FROM __diesel_schema_migrations")[0]
    expected = len([d for d in os.listdir(os.path.join(cl.h.root, "migrations"))
                    if os.path.isdir(os.path.join(cl.h.root, "migrations", d))])
    check("every migration applied exactly once", applied[0] == applied[1] == str(expected),
          f"{applied[0]} rows, {applied[1]} versions, {expected} migrations in migrations/")


def start_replica(cl):
    """The reporting replica, before the instances: every instance's STAMPCARD_REPLICA_URL names
    it. scenarios/replica.py checks that it streams and that the reports read it."""
    t0 = time.monotonic()
    cl.h.replica.start()
    if cl.h.replica.query("SELECT pg_is_in_recovery()")[0][0] != "t":
        raise SystemExit(f"the replica on port {cl.h.replica.port} is not a standby:\n{tail(cl.h.replica.log())}")
    print(f"     streaming replica made with pg_basebackup -R on port {cl.h.replica.port} (primary {cl.h.pg.port}), "
          f"a hot standby after {time.monotonic() - t0:.1f}s")


def start_haproxy(cl):
    section("HAProxy from deploy/haproxy.cfg")
    cl.h.haproxy.start()
    ok, st = cl.h.haproxy.wait_all_up(20)
    check("HAProxy's /readyz health checks see every instance UP", ok, f"{st}")
    if not ok:
        raise SystemExit(f"HAProxy is not routing:\n{tail(cl.h.haproxy.log)}")


def create_users(cl):
    section("users")
    r = cl.h.cli("user", "create", "--username", cl.staff_user, "--role", "staff",
                 password=cl.staff_password)
    if r.returncode != 0:
        raise SystemExit(f"stampcard user create failed: {r.stderr}")
    print(f"     staff {cl.staff_user} created with `stampcard user create`; customers sign up through HAProxy")
