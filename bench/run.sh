#!/usr/bin/env bash
# The stampcard load benchmark (issue 6). See docs/performance.md for the method and targets,
# and bench/README.md for what each folder holds and how to add a scenario.
#
#   bench/run.sh                    # 20 s per scenario
#   BENCH_SECONDS=5 bench/run.sh    # a quick, provisional run
#
# It builds the release binary, starts a throwaway PostgreSQL (fsync and synchronous_commit
# on), starts `stampcard serve`, creates a staff user and 64 customers, runs S1 whoami (and,
# not a target, S1 over all 64 sessions), S2 stamp, S3 login under load, S4 a guessing burst
# during S3's load, and the pgbench/bcrypt references; then S5: a second instance on the same
# database and HAProxy in front of both (deploy/haproxy.cfg), S1 and S2 through it and, right
# next to them, directly against the first instance (on 2 cores that measures what the proxy
# and a second instance cost, not scaling). It checks that nothing was lost, prints every
# figure and writes them to bench/results/latest.json.
#
# Settings (environment):
#   BENCH_SECONDS      seconds per measured scenario (default 20)
#   BENCH_WARMUP       seconds of untimed whoami load before S1 (default 3)
#   BENCH_CONNECTIONS  connections for S1, S2 and pgbench (default 64)
#   BENCH_RUST_LOG     the server's RUST_LOG (default info, the production default)
#   BENCH_SERVER_ENV   extra "NAME=value NAME=value" settings for the server (e.g. STAMPCARD_DB_POOL_SIZE=32)
#   STAMPCARD_BIN      the server binary to measure (default: target/release/stampcard, built first)
#   BENCH_BCRYPT_BIN   the bcrypt_verify example (default: target/release/examples/bcrypt_verify, built first)
#   BENCH_SKIP_BUILD   1: build nothing; use the binaries above as they are
#   BENCH_PERF         1: record a machine-wide `perf` profile during S1 and S2 (needs linux-perf);
#                      BENCH_PERF_CALLGRAPH=dwarf (or fp, lbr) adds call graphs
#   BENCH_HOLD         1: set everything up, write bench/results/hold.env (URL, cookies, ports) and
#                      wait until interrupted, for profiling by hand
#   BENCH_STRICT       1: exit 3 when a performance target is missed (correctness failures always exit 1)
#   BENCH_OUT          the JSON file to write (default bench/results/latest.json)
#   BENCH_S5           0: skip S5 (two instances behind HAProxy); default 1
#   BENCH_KEEP         1: keep the temporary directory (the parts report.py read, the logs)
#   PG_BIN             PostgreSQL binaries (default: the newest /usr/lib/postgresql/*/bin)
# Requires: cargo (unless both binaries are given), python3 (standard library only), wrk
# (apt-get install wrk), pgbench/initdb/pg_ctl (apt-get install postgresql), htpasswd (apt-get
# install apache2-utils), haproxy for S5 (apt-get install haproxy; Debian 12's 2.6, as
# deploy/haproxy.cfg says).
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"
PY="$BENCH_DIR/py" WRK="$BENCH_DIR/wrk" SQL="$BENCH_DIR/sql"
# tools/ holds the Python shared with the cluster test (stampcard_tools).
export PYTHONPATH="$ROOT/tools${PYTHONPATH:+:$PYTHONPATH}"
SECONDS_PER_RUN="${BENCH_SECONDS:-20}"
WARMUP="${BENCH_WARMUP:-3}"
CONNS="${BENCH_CONNECTIONS:-64}"
CUSTOMERS=64
LOGIN_CLIENTS=8
PROBE_RATE=20
OUT="${BENCH_OUT:-$BENCH_DIR/results/latest.json}"
RESULTS_DIR="$(dirname "$OUT")"
RUN_LOGS="$RESULTS_DIR/last-run"
STARTED_AT=$(date +%s)
RUN_S5="${BENCH_S5:-1}"

exec 3>&2  # the original stderr: messages reach it even from inside a redirected command
. "$BENCH_DIR/lib/common.sh"     # log, die, tools, as_pg, stop_pid, term_and_wait, cleanup
. "$BENCH_DIR/lib/setup.sh"      # binaries, PostgreSQL, the server and its users, BENCH_HOLD
. "$BENCH_DIR/lib/measure.sh"    # run_wrk, run_pgbench, CPU and statement accounting
for scenario in "$BENCH_DIR"/scenarios/*.sh; do . "$scenario"; done

check_tools

# Everything the run starts is stopped by the cleanup trap, also on failure or Ctrl-C.
WORK="$(mktemp -d /tmp/stampcard-bench.XXXXXX)"
SERVER_PID="" SERVER2_PID="" HAPROXY_PID="" PERF_PID="" PG_STARTED=0
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$RESULTS_DIR" "$WORK/parts"
rm -f "$RESULTS_DIR"/failed-*.tail
rm -rf "$RUN_LOGS"; mkdir -p "$RUN_LOGS"
python3 "$PY/machine.py" before >"$WORK/parts/machine.json"

# ---------------------------------------------------------------- setting up
find_binaries
start_postgres
server_settings
start_server
TARGET="$BASE"  # where run_wrk sends its load
phase setup
python3 "$PY/machine.py" sample "$SERVER_PID" "$WORK/phase" 0.25 >"$WORK/parts/rss_samples.jsonl" &
create_users
[[ "${BENCH_HOLD:-0}" != 1 ]] || hold
# The reference tables: a session-sized row and the stamp-like write.
psql_q -d reference -f "$SQL/reference.sql" >/dev/null

# ---------------------------------------------------------------- the scenarios
# In this order, so that each app figure is taken right next to its reference. A new scenario:
# a file in scenarios/ with its function, its line here, its figures in py/report.py.
scenario_s1_whoami
scenario_s2_stamp
scenario_s3_login_under_load
scenario_s4_guessing_burst
reference_bcrypt
# The first instance's memory over S1..S4 (S5's phases are in the samples, labelled s5_*).
python3 "$PY/machine.py" status "$SERVER_PID" >"$WORK/parts/rss.json"
[[ "$RUN_S5" != 1 ]] || scenario_s5_two_instances

# ---------------------------------------------------------------- stop, start-up time, report
log "stopping the server (SIGTERM) and measuring /readyz after restarts"
term_and_wait SERVER_PID "$WORK/parts/server_exit"
non_2xx "$WORK/server.log" "$RUN_LOGS/server-non2xx.log" "$WORK/parts/server_non2xx"
python3 "$PY/readyz_time.py" --runs 3 --url "http://127.0.0.1:$APP_PORT/readyz" --log "$WORK/server.log" \
    --cwd "$WORK" -- "${server_env[@]}" "$BIN" serve >"$WORK/parts/readyz.json"

python3 "$PY/machine.py" after >"$WORK/parts/machine_after.json"
tail -n 200 "$WORK/server.log" >"$RUN_LOGS/server.log.tail"
cp "$WORK/pg.log" "$RUN_LOGS/postgresql.log"

set +e
python3 "$PY/report.py" --parts "$WORK/parts" --out "$OUT" --seconds "$SECONDS_PER_RUN" \
    --connections "$CONNS" --customers "$CUSTOMERS" --login-clients "$LOGIN_CLIENTS" --probe-rate "$PROBE_RATE" \
    --started "$STARTED_AT" --pg-bin "$PG_BIN"
RC=$?
set -e
log "results: $OUT (logs of this run: $RUN_LOGS)"
log "total runtime $(( $(date +%s) - STARTED_AT ))s"
if [[ $RC -eq 3 && "${BENCH_STRICT:-0}" != 1 ]]; then RC=0; fi
exit $RC
