"""Reports from the streaming replica, stamps from the primary.

Every instance runs with STAMPCARD_REPLICA_URL naming the harness's hot standby (made with
`pg_basebackup -R`). The primary's pg_stat_replication must show it streaming. Then, as an admin
through HAProxy, with replay paused on the replica (`pg_wal_replay_pause()`): a stamp made through
HAProxy answers 201 with the new balance and the customer's card shows it at once, on every
instance and through HAProxy (stamps are never read from the replica); the daily report, the staff
report and the CSV export, asked on every instance and through HAProxy, do not include it (they
read from the replica, which is behind: a report lagging is acceptable). Once replay resumes
(`pg_wal_replay_resume()`), the reports and the export show it within a few seconds.

`after_faults` (scenarios/replica_after_faults.py) checks, once the faults are over, that the
replica reconnected by itself after the primary's restart and that the reports count every stamp.
"""
import csv
import datetime
import io
import time
import urllib.parse
import uuid

from stampcard_tools.httpc import request

from harness.cluster import SRC_LB, e164
from harness.report import check, guarded, section

# How long the reports may take to show a stamp once replay resumes ("a few seconds").
CATCH_UP_S = 10.0
# The stamp made while replay is paused.
COUNT = 3


# --- shared with replica_after_faults -------------------------------------------------------

def admin_jar(cl):
    """A fresh login of the run's admin through HAProxy (created here the first time): a fresh
    login is the password proof the CSV export needs."""
    if not getattr(cl, "admin", None):
        username, password = f"owner_{cl.run_id}", f"Owner-{uuid.uuid4().hex[:16]}"
        r = cl.h.cli("user", "create", "--username", username, "--role", "admin", password=password)
        if r.returncode != 0:
            raise RuntimeError(f"stampcard user create --role admin failed: {r.stderr}")
        cl.admin = (username, password)
    r, jar = cl.login(cl.lb, *cl.admin, SRC_LB)
    if r.status != 201:
        raise RuntimeError(f"admin login answered {r.status}: {r.raw[:300]!r}")
    return jar


def days_around_today(cl, jar):
    """(yesterday, tomorrow, time zone) in the server's STAMPCARD_TIMEZONE: a range that still
    holds the stamps of this run if the cafe's midnight passes during it."""
    r = request(cl.lb, "GET", "/api/v1/reports/daily", jar=jar.copy(), source=SRC_LB)
    if r.status != 200:
        raise RuntimeError(f"GET /api/v1/reports/daily answered {r!r}: {r.raw[:300]!r}")
    today = datetime.date.fromisoformat(r.json["to"])
    return (today - datetime.timedelta(days=1)).isoformat(), (today + datetime.timedelta(days=1)).isoformat(), \
        r.json["time_zone"]


class Reports:
    """The three reports of a range as one admin sees them on one base URL."""

    def __init__(self, base, source, jar, days):
        self.base, self.source, self.jar = base, source, jar
        self.query = urllib.parse.urlencode({"from": days[0], "to": days[1]})

    def get(self, path):
        r = request(self.base, "GET", f"{path}?{self.query}", jar=self.jar.copy(), source=self.source)
        if r.status != 200:
            raise RuntimeError(f"GET {path} on {self.base} answered {r!r}: {r.raw[:300]!r}")
        return r

    def daily_stamps(self):
        """Stamps summed over the range's days (and the days that had any, for the detail)."""
        items = self.get("/api/v1/reports/daily").json["items"]
        return sum(i["stamps"] for i in items), {i["date"]: i["stamps"] for i in items if i["stamps"]}

    def staff_stamps(self, username):
        items = self.get("/api/v1/reports/staff").json["items"]
        return sum(i["stamps"] for i in items if (i.get("user") or {}).get("username") == username)

    def csv_rows(self):
        r = self.get("/api/v1/reports/events.csv")
        if not (r.header("Content-Type") or "").startswith("text/csv"):
            raise RuntimeError(f"the export's Content-Type is {r.header('Content-Type')!r}")
        return {row["id"]: row for row in csv.DictReader(io.StringIO(r.raw.decode("utf-8")))}


def streaming(cl):
    """The primary's pg_stat_replication rows: (application_name, state, client_addr, replay lag)."""
    return cl.h.pg.query("SELECT application_name, state, client_addr, coalesce(replay_lag::text, '-') "
                         "FROM pg_stat_replication")


def wait_streaming(cl, timeout):
    deadline = time.monotonic() + timeout
    rows = streaming(cl)
    while not any(r[1] == "streaming" for r in rows) and time.monotonic() < deadline:
        time.sleep(0.2)
        rows = streaming(cl)
    return rows


def wait_caught_up(cl, timeout):
    """The replica's replay lag in bytes behind the primary once it is 0, or when time runs out."""
    deadline = time.monotonic() + timeout
    lag = cl.h.replica.lag_bytes()
    while lag > 0 and time.monotonic() < deadline:
        time.sleep(0.1)
        lag = cl.h.replica.lag_bytes()
    return lag


# --- the check group --------------------------------------------------------------------------

def run(cl):
    section("reports from the streaming replica, stamps from the primary")
    check_streaming(cl)
    check_lagging_reports(cl)


@guarded("replica: the primary's pg_stat_replication shows the standby streaming")
def check_streaming(cl):
    rows = wait_streaming(cl, 10)
    standby = cl.h.replica.query("SELECT pg_is_in_recovery(), current_setting('hot_standby'), "
                                 "current_setting('primary_slot_name')")[0]
    slot = cl.h.pg.query("SELECT slot_name, active FROM pg_replication_slots")
    check("replica: the primary's pg_stat_replication shows the standby streaming",
          len(rows) == 1 and rows[0][1] == "streaming" and standby[:2] == ["t", "on"],
          f"pg_stat_replication (application_name, state, client_addr, replay_lag): {rows}; "
          f"on the replica pg_is_in_recovery, hot_standby, primary_slot_name: {standby}; slots {slot}")


@guarded("replica: a stamp made while replay is paused is read from the primary at once")
def check_lagging_reports(cl):
    jar = admin_jar(cl)
    days = days_around_today(cl, jar)
    username, phone = cl.new_customer("replica")
    staff = cl.staff_jar()
    _, customer = cl.login(cl.lb, username, cl.customer_password, SRC_LB)
    # Every instance and HAProxy: each instance must read its reports from the replica.
    everywhere = [(label, Reports(base, src, jar, days)) for label, base, src in cl.targets()]
    lb = everywhere[-1][1]
    lag = wait_caught_up(cl, 10)
    print(f"     range {days[0]} to {days[1]} ({days[2]}); the replica {lag} bytes behind before the pause")

    replica = cl.h.replica
    replica.query("SELECT pg_wal_replay_pause()")
    try:
        deadline = time.monotonic() + 5
        while not replica.replay_paused() and time.monotonic() < deadline:
            time.sleep(0.05)
        state = replica.query("SELECT pg_get_wal_replay_pause_state()")[0][0]
        before = {label: (rep.daily_stamps()[0], rep.staff_stamps(cl.staff_user)) for label, rep in everywhere}
        rows_before = lb.csv_rows()

        # The stamp, through HAProxy, and the card read back at once everywhere.
        t_stamp = time.monotonic()
        op = cl.stamp_once(staff, phone, count=COUNT)
        body = op.final.json
        event_id = body["event"]["id"]
        cards = {}
        for label, base, src in cl.targets():
            r = request(base, "GET", "/api/v1/stamps", jar=customer.copy(), source=src)
            cards[label] = r.json.get("balance") if r.status == 200 and isinstance(r.json, dict) else repr(r)
        read_at_once = time.monotonic() - t_stamp
        on_primary = cl.h.pg.query(f"SELECT count(*) FROM stamp_events WHERE id = '{event_id}'")[0][0]
        on_replica = replica.query(f"SELECT count(*) FROM stamp_events WHERE id = '{event_id}'")[0][0]
        check("replica: a stamp made while replay is paused is read from the primary at once",
              op.final.status == 201 and body["card"]["balance"] == COUNT and body["event"]["count"] == COUNT
              and all(b == COUNT for b in cards.values()) and on_primary == "1",
              f"replay {state}; the stamp of {COUNT} answered {op.final.status}, balance {body['card']['balance']}; "
              f"the customer's GET /api/v1/stamps (balance) {cards}, all within {read_at_once:.2f}s; "
              f"event {event_id}: {on_primary} row on the primary, {on_replica} on the replica")

        # The reports, asked everywhere while replay stays paused: the stamp is not in them.
        after = {label: (rep.daily_stamps()[0], rep.staff_stamps(cl.staff_user)) for label, rep in everywhere}
        rows_paused = {label: rep.csv_rows() for label, rep in everywhere}
        still_paused = replica.query("SELECT pg_get_wal_replay_pause_state()")[0][0] != "not paused"
        on_replica = replica.query(f"SELECT count(*) FROM stamp_events WHERE id = '{event_id}'")[0][0]
        daily_same = {k: (before[k][0], after[k][0]) for k in before}
        staff_same = {k: (before[k][1], after[k][1]) for k in before}
        check("replica: the daily report lags while replay is paused (it reads the replica, on every instance)",
              all(b == a for b, a in daily_same.values()) and on_replica == "0" and still_paused,
              f"stamps in {days[0]}..{days[1]} (before the stamp, after it): {daily_same}")
        check("replica: the staff report lags while replay is paused (it reads the replica, on every instance)",
              all(b == a for b, a in staff_same.values()) and on_replica == "0" and still_paused,
              f"{cl.staff_user}'s stamps (before the stamp, after it): {staff_same}")
        holding = sorted(label for label, rows in rows_paused.items() if event_id in rows)
        check("replica: the CSV export lags while replay is paused (it reads the replica, on every instance)",
              not holding and all(rows.keys() == rows_before.keys() for rows in rows_paused.values())
              and on_replica == "0",
              f"{len(rows_before)} rows before the stamp, after it {({k: len(v) for k, v in rows_paused.items()})}; "
              f"the stamp's event is in the export of: {holding or 'none'}")
    finally:
        replica.query("SELECT pg_wal_replay_resume()")

    # Resumed: within a few seconds the reports and the export show the stamp.
    t0 = time.monotonic()
    want_daily, want_staff = before["haproxy"][0] + COUNT, before["haproxy"][1] + COUNT
    seen = {}
    while time.monotonic() - t0 < CATCH_UP_S:
        if "daily" not in seen and lb.daily_stamps()[0] == want_daily:
            seen["daily"] = time.monotonic() - t0
        if "staff" not in seen and lb.staff_stamps(cl.staff_user) == want_staff:
            seen["staff"] = time.monotonic() - t0
        if "csv" not in seen:
            row = lb.csv_rows().get(event_id)
            if row is not None:
                seen["csv"] = time.monotonic() - t0
                csv_row = row
        if len(seen) == 3:
            break
        time.sleep(0.2)
    row_ok = "csv" in seen and csv_row["kind"] == "earned" and csv_row["count"] == str(COUNT) \
        and csv_row["phone"] == e164(phone) and csv_row["by"] == cl.staff_user
    check(f"replica: once replay resumes the reports and the CSV show the stamp within {CATCH_UP_S:.0f}s",
          len(seen) == 3 and row_ok,
          "seen after " + ", ".join(f"{k} {v:.1f}s" for k, v in seen.items())
          + (f"; not seen: {sorted({'daily', 'staff', 'csv'} - set(seen))}" if len(seen) < 3 else "")
          + (f"; its CSV row: {dict((k, csv_row[k]) for k in ('kind', 'count', 'phone', 'by'))}"
             if "csv" in seen else ""))

