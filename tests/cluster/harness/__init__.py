"""What the cluster test's scenarios share.

  report      PASS/FAIL/SKIP lines, sections, the guard that turns an exception into a FAIL
  processes   a tracked child process, the throwaway PostgreSQL, a psql session holding locks
  services    the instances (as deploy/stampcard.service runs them), HAProxy (from
              deploy/haproxy.cfg), and the Harness that holds them all
  cluster     the run's state: users, logins, setup stamps, the database's view of a card
  client      requests sent at the same moment; the retrying client of the faults (Op, Ledger)
  load        the clients of a fault phase: load through HAProxy, pinned stamps, late resolving
  faults      how a fault phase runs (load, fault, recovery), and the pinned-fault pattern
  verify      after the faults: acknowledged writes against the database, the figures table

Plain HTTP and the HAProxy helpers shared with the benchmark are in tools/stampcard_tools.
"""
