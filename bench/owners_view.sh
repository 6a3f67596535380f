#!/usr/bin/env bash
# The owner's view at size: a year's daily and staff reports and a year's CSV export over
# 200,000 customers and 2,000,000 stamp events (loaded with generate_series, not through HTTP),
# timed end to end with curl against a release `serve`, with the server's peak RSS during the
# export and the plans of the report queries. Prints one line per figure; docs/performance.md
# keeps the last run's.
#
#   STAMPCARD_BIN   the binary (default target/release/stampcard)
#   OWNERS_EVENTS   events to load (default 2000000); OWNERS_USERS customers (default 200000)
#   OWNERS_HOLD=1   keep the database and the server running at the end (Ctrl-C ends it)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
BIN="${STAMPCARD_BIN:-target/release/stampcard}"
EVENTS="${OWNERS_EVENTS:-2000000}"
USERS="${OWNERS_USERS:-200000}"
TMP="$(mktemp -d /tmp/stampcard-owners.XXXXXX)"
chmod 755 "$TMP"
SERVER_PID=""
# shellcheck source=.ci/throwaway_pg.sh
. "$ROOT/.ci/throwaway_pg.sh"
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    pg_stop
    rm -rf "$TMP"
}
trap cleanup EXIT

pg_start "$TMP/pg"
export DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/stampcard"
psql() { as_pg "$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -d stampcard -v ON_ERROR_STOP=1 -qAt "$@"; }
"$BIN" migrate >/dev/null
STAMPCARD_PASSWORD='the cafe ledger 2026' "$BIN" user create --username owner --role admin >/dev/null
STAMPCARD_PASSWORD='steamed milk at nine' "$BIN" user create --username barista --role staff >/dev/null

started=$SECONDS
# Customers signed up over the last year; events spread evenly over it, issued by the barista,
# one in ten a redemption, one in a hundred a void of the event before it.
psql <<SQL
INSERT INTO users (id, username, username_key, phone, password_hash, role, created_at)
SELECT gen_random_uuid(), 'c' || i, 'c' || i, '+8210' || lpad(i::text, 8, '0'), 'x', 'customer', now() - (i % 365) * interval '1 day'
FROM generate_series(1, $USERS) AS i;
INSERT INTO stamp_events (id, user_id, kind, count, balance_after, issued_by, created_at)
SELECT gen_random_uuid(), u.id, CASE WHEN i % 10 = 0 THEN 'redeemed' ELSE 'earned' END,
       CASE WHEN i % 10 = 0 THEN 10 ELSE 1 END, 0,
       (SELECT id FROM users WHERE username = 'barista'),
       now() - (i::float8 / $EVENTS) * interval '365 days'
FROM generate_series(1, $EVENTS) AS i
JOIN (SELECT id, row_number() OVER () AS n FROM users WHERE role = 'customer') AS u ON u.n = 1 + i % $USERS;
VACUUM ANALYZE;
SQL
echo "loaded $USERS customers and $(psql -c 'SELECT count(*) FROM stamp_events') events in $((SECONDS - started)) s"

PORT="$(free_port)"
STAMPCARD_ADDR="127.0.0.1:$PORT" STAMPCARD_DEV=1 "$BIN" serve >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 100); do curl -fs "$BASE/readyz" >/dev/null && break; sleep 0.1; done
JAR="$TMP/jar"
curl -fs -c "$JAR" -H 'Content-Type: application/json' \
    -d '{"username":"owner","password":"the cafe ledger 2026"}' "$BASE/api/v1/sessions" >/dev/null

to="$(date -u +%F)"
from="$(date -u -d "$to - 365 days" +%F)"
timed() { # name, path, output file: status, seconds, bytes
    curl -s -b "$JAR" -o "$3" -w "$1: %{http_code} in %{time_total} s, %{size_download} bytes\n" "$BASE$2"
}
month="$(date -u -d "$to - 29 days" +%F)"
for i in 1 2; do
    timed "daily, 30 days (run $i)" "/api/v1/reports/daily?from=$month&to=$to" "$TMP/daily30.json"
    timed "staff, 30 days (run $i)" "/api/v1/reports/staff?from=$month&to=$to" "$TMP/staff30.json"
done
for i in 1 2; do
    timed "daily, 366 days (run $i)" "/api/v1/reports/daily?from=$from&to=$to" "$TMP/daily.json"
    timed "staff, 366 days (run $i)" "/api/v1/reports/staff?from=$from&to=$to" "$TMP/staff.json"
done
rss_before=$(awk '/VmRSS/ {print $2}' "/proc/$SERVER_PID/status")
timed "events.csv, 366 days" "/api/v1/reports/events.csv?from=$from&to=$to" "$TMP/events.csv"
rss_peak=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status")
echo "csv rows: $(($(wc -l <"$TMP/events.csv") - 1)); server RSS before the export ${rss_before} KiB, peak ${rss_peak} KiB"
echo "daily totals: $(python3 -c "import json,sys; d=json.load(open('$TMP/daily.json'))['items']; print(len(d), 'days,', sum(x['stamps'] for x in d), 'stamps,', sum(x['redemptions'] for x in d), 'redemptions')")"
plan() { # the daily report's events part from $1 to today: its scan, its sort, its time
    psql -c "EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) SELECT (created_at AT TIME ZONE 'Asia/Seoul')::date,
        sum(count) FILTER (WHERE kind = 'earned'), count(DISTINCT user_id) FROM stamp_events
        WHERE created_at >= ('$1'::date::timestamp AT TIME ZONE 'Asia/Seoul')
          AND created_at < (('$to'::date + 1)::timestamp AT TIME ZONE 'Asia/Seoul') GROUP BY 1" |
        grep -E "Scan|Sort Method|Execution" | sed 's/^ */  /'
}
echo "== plan, 30 days"
plan "$month"
echo "== plan, 366 days"
plan "$from"
if [ -n "${OWNERS_HOLD:-}" ]; then
    echo "holding: DATABASE_URL=$DATABASE_URL, the server at $BASE (Ctrl-C ends)"
    sleep infinity
fi
