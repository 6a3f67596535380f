"""After the faults: the replica reconnected by itself after the primary's restart (`pg_ctl
restart -m fast` in fault_pg_restart), it holds every event the primary holds, and the daily
report read from it through HAProxy counts every stamp given in its range."""
import time

from harness.cluster import SRC_LB
from harness.report import check, guarded, section
from scenarios.replica import Reports, admin_jar, days_around_today, wait_caught_up, wait_streaming


@guarded("replica: after the faults it streams again and the reports count every stamp")
def run(cl):
    section("the replica after the faults")
    t0 = time.monotonic()
    rows = wait_streaming(cl, 30)
    lag = wait_caught_up(cl, 15)
    took = time.monotonic() - t0
    # Every backend of the primary ended with its restart: a walsender streaming now is the
    # replica's own reconnection, this long after the primary started again.
    reconnected = cl.h.pg.query(
        "SELECT round(extract(epoch FROM backend_start - pg_postmaster_start_time())::numeric, 1) "
        "FROM pg_stat_replication WHERE state = 'streaming'")
    count_sql = "SELECT count(*), coalesce(max(seq), 0) FROM stamp_events"
    primary, replica = cl.h.pg.query(count_sql)[0], cl.h.replica.query(count_sql)[0]
    jar = admin_jar(cl)
    days = days_around_today(cl, jar)
    reported, per_day = Reports(cl.lb, SRC_LB, jar, days).daily_stamps()
    # What the daily report's `stamps` sums, from the primary: earned events (voided or not) on
    # the range's days in the cafe's time zone.
    expected = int(cl.h.pg.query(
        "SELECT coalesce(sum(count), 0) FROM stamp_events WHERE kind = 'earned' "
        f"AND (created_at AT TIME ZONE '{days[2]}')::date BETWEEN '{days[0]}' AND '{days[1]}'")[0][0])
    check("replica: after the faults it streams again and the reports count every stamp",
          any(r[1] == "streaming" for r in rows) and lag <= 0 and primary == replica and reported == expected,
          f"pg_stat_replication {rows}, its walsender started {reconnected[0][0] if reconnected else '?'}s after "
          f"the primary's (re)start; {lag} bytes behind (waited {took:.1f}s); stamp_events (rows, last seq) "
          f"on the primary {primary}, on the replica {replica}; the daily report through HAProxy: {reported} "
          f"stamps {per_day}, the primary's events: {expected}")
