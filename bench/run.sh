#!/usr/bin/env bash
# The stampcard load benchmark (issue 6). See docs/performance.md for the method and targets.
#
#   bench/run.sh                    # 20 s per scenario
#   BENCH_SECONDS=5 bench/run.sh    # a quick, provisional run
#
# It builds the release binary, starts a throwaway PostgreSQL (fsync and synchronous_commit
# on), starts `stampcard serve`, creates a staff user and 64 customers, runs S1 whoami (and,
# not a target, S1 over all 64 sessions), S2 stamp, S3 login under load, S4 a guessing burst
# during S3's load, and the pgbench/bcrypt
# references; then S5: a second instance on the same database and HAProxy in front of both
# (deploy/haproxy.cfg), S1 and S2 through it and, right next to them, directly against the
# first instance (on 2 cores that measures what the proxy and a second instance cost, not
# scaling). It checks that nothing was
# lost, prints every figure and writes them to bench/results/latest.json.
#
# Settings (environment):
#   BENCH_SECONDS      seconds per measured scenario (default 20)
#   BENCH_WARMUP       seconds of untimed whoami load before S1 (default 3)
#   BENCH_CONNECTIONS  connections for S1, S2 and pgbench (default 64)
#   BENCH_RUST_LOG     the server's RUST_LOG (default info, the production default)
#   BENCH_SERVER_ENV   extra "NAME=value NAME=value" settings for the server (e.g. STAMPCARD_DB_POOL_SIZE=32)
#   BENCH_SKIP_BUILD   1: use the existing target/release/stampcard and examples/bcrypt_verify
#   BENCH_PERF         1: record a machine-wide `perf` profile during S1 and S2 (needs linux-perf);
#                      BENCH_PERF_CALLGRAPH=dwarf (or fp, lbr) adds call graphs
#   BENCH_HOLD         1: set everything up, write bench/results/hold.env (URL, cookies, ports) and
#                      wait until interrupted, for profiling by hand
#   BENCH_STRICT       1: exit 3 when a performance target is missed (correctness failures always exit 1)
#   BENCH_OUT          the JSON file to write (default bench/results/latest.json)
#   BENCH_S5           0: skip S5 (two instances behind HAProxy); default 1
#   PG_BIN             PostgreSQL binaries (default: the newest /usr/lib/postgresql/*/bin)
# Requires: cargo, python3 (standard library only), wrk (apt-get install wrk),
# pgbench/initdb/pg_ctl (apt-get install postgresql), htpasswd (apt-get install apache2-utils),
# haproxy for S5 (apt-get install haproxy; Debian 12's 2.6, as deploy/haproxy.cfg says).
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"
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
STARTED_AT=$(date +%s)
RUN_S5="${BENCH_S5:-1}"

exec 3>&2  # the original stderr: messages reach it even from inside a redirected command
log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&3; }
die() { log "ERROR: $*"; exit 1; }
phase() { echo "$1" >"$WORK/phase"; }  # the label of the memory samples

# ---------------------------------------------------------------- tools
need() { command -v "$1" >/dev/null 2>&1 || die "$1 not found: $2"; }
if [[ -z "${PG_BIN:-}" ]]; then
    PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
fi
[[ -x "${PG_BIN:-}/pgbench" ]] || die "pgbench not found; install postgresql or set PG_BIN"
if ! command -v wrk >/dev/null 2>&1 && [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    log "installing wrk and apache2-utils (htpasswd) with apt-get"
    apt-get install -y -qq wrk apache2-utils >/dev/null 2>&1 \
        || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq wrk apache2-utils >/dev/null 2>&1; } || true
fi
if [[ "$RUN_S5" == 1 ]] && ! command -v haproxy >/dev/null 2>&1 && [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    log "installing haproxy with apt-get (S5)"
    apt-get install -y -qq haproxy >/dev/null 2>&1 \
        || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq haproxy >/dev/null 2>&1; } || true
fi
need wrk "apt-get install wrk"
[[ "$RUN_S5" != 1 ]] || need haproxy "apt-get install haproxy (or BENCH_S5=0 to skip S5)"
need htpasswd "apt-get install apache2-utils"
need python3 "install Python 3"
need cargo "install Rust"

# ---------------------------------------------------------------- cleanup
WORK="$(mktemp -d /tmp/stampcard-bench.XXXXXX)"
SERVER_PID=""
SERVER2_PID=""   # S5: the second instance
HAPROXY_PID=""   # S5
PERF_PID=""
PG_STARTED=0
as_pg() {
    if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}
stop_pid() { # SIGTERM, then SIGKILL after 5 s
    local pid=$1
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
}
cleanup() {
    local rc=$?
    set +e
    if [[ -n "$PERF_PID" ]] && kill -0 "$PERF_PID" 2>/dev/null; then kill -INT "$PERF_PID"; wait "$PERF_PID" 2>/dev/null; fi
    stop_pid "$HAPROXY_PID"
    stop_pid "$SERVER2_PID"
    stop_pid "$SERVER_PID"
    if [[ $PG_STARTED -eq 1 ]]; then as_pg "$PG_BIN/pg_ctl" -D "$WORK/pg" -m immediate -w stop >/dev/null 2>&1; fi
    if [[ $rc -ne 0 ]]; then
        mkdir -p "$RESULTS_DIR"
        [[ -f "$WORK/server.log" ]] && tail -n 40 "$WORK/server.log" >"$RESULTS_DIR/failed-server.log.tail"
        [[ -f "$WORK/pg.log" ]] && tail -n 40 "$WORK/pg.log" >"$RESULTS_DIR/failed-pg.log.tail"
        [[ -f "$WORK/server2.log" ]] && tail -n 40 "$WORK/server2.log" >"$RESULTS_DIR/failed-server2.log.tail"
        [[ -f "$WORK/haproxy.log" ]] && tail -n 40 "$WORK/haproxy.log" >"$RESULTS_DIR/failed-haproxy.log.tail"
        [[ -f "$WORK/server.log" ]] && { log "last lines of the server's log:"; tail -n 5 "$WORK/server.log" >&3; }
        log "failed (exit $rc); last log lines in $RESULTS_DIR/failed-*.tail"
    fi
    rm -rf "$WORK"
    rm -f "$RESULTS_DIR/hold.env"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -m stampcard_tools.ports; }

mkdir -p "$RESULTS_DIR" "$WORK/parts"
RUN_LOGS="$RESULTS_DIR/last-run"
rm -f "$RESULTS_DIR"/failed-*.tail
rm -rf "$RUN_LOGS"; mkdir -p "$RUN_LOGS"
python3 "$BENCH_DIR/machine.py" before >"$WORK/parts/machine.json"

# ---------------------------------------------------------------- 1. build
if [[ "${BENCH_SKIP_BUILD:-0}" != 1 ]]; then
    log "cargo build --release"
    (cd "$ROOT" && cargo build --release --quiet --bin stampcard --example bcrypt_verify)
fi
[[ -x "$ROOT/target/release/stampcard" ]] || die "$ROOT/target/release/stampcard missing"
CRATE_BCRYPT="$ROOT/target/release/examples/bcrypt_verify"
[[ -x "$CRATE_BCRYPT" ]] || die "$CRATE_BCRYPT missing (cargo build --release --example bcrypt_verify)"
# A private copy: a rebuild in the checkout during the run must not change the binary under test.
BIN="$WORK/stampcard"
cp "$ROOT/target/release/stampcard" "$BIN"

# ---------------------------------------------------------------- 2. PostgreSQL
PG_PORT=$(free_port)
chown postgres: "$WORK" 2>/dev/null || true
chmod 0755 "$WORK"
log "initdb + start PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT"
as_pg "$PG_BIN/initdb" -D "$WORK/pg" -U postgres -A trust -E UTF8 --locale=C >"$WORK/initdb.log" 2>&1 \
    || { cat "$WORK/initdb.log" >&2; die "initdb failed"; }
PG_SETTINGS=(
    -c listen_addresses=127.0.0.1 -c "port=$PG_PORT" -c "unix_socket_directories="
    -c fsync=on -c synchronous_commit=on -c full_page_writes=on -c wal_level=replica
    -c max_connections=200 -c shared_buffers=256MB -c max_wal_size=2GB
    -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all
)
as_pg "$PG_BIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg.log" -w -t 60 -o "${PG_SETTINGS[*]}" start >/dev/null \
    || { cat "$WORK/pg.log" >&2; die "PostgreSQL did not start"; }
PG_STARTED=1
psql_q() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"; }
psql_q -d postgres -c "CREATE DATABASE stampcard" -c "CREATE DATABASE reference"
psql_q -d stampcard -c "CREATE EXTENSION pg_stat_statements"
DB_URL="postgres://postgres@127.0.0.1:$PG_PORT/stampcard"

# ---------------------------------------------------------------- 3. the server
APP_PORT=$(free_port)
BASE="http://127.0.0.1:$APP_PORT"
# Only the settings below (and BENCH_SERVER_ENV): STAMPCARD_* of the caller's environment are dropped.
server_env=(env)
for name in $(compgen -e | grep '^STAMPCARD_' || true); do server_env+=(-u "$name"); done
# An explicit cookie key (dev mode would make a random one per process), so that S5's two
# instances accept each other's session cookies; S1..S4 are the same with it.
SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(64))')
server_env+=(
    "DATABASE_URL=$DB_URL" STAMPCARD_DEV=1 STAMPCARD_BCRYPT_COST=12 "STAMPCARD_SECRET_KEY=$SECRET_KEY"
    "STAMPCARD_ADDR=127.0.0.1:$APP_PORT" "RUST_LOG=${BENCH_RUST_LOG:-info}"
)
# shellcheck disable=SC2206
[[ -n "${BENCH_SERVER_ENV:-}" ]] && server_env+=(${BENCH_SERVER_ENV})
start_server() {
    # From the temp dir, so that no .env of the checkout changes the settings.
    (cd "$WORK" && exec "${server_env[@]}" "$BIN" serve >>"$WORK/server.log" 2>&1) &
    SERVER_PID=$!
    python3 -m stampcard_tools.readyz "$BASE/readyz" 60 "$SERVER_PID" || die "the server did not become ready"
}
log "starting stampcard serve on $BASE"
start_server
echo "$SERVER_PID" >"$WORK/server.pid"
log "server pid $SERVER_PID"
phase setup
python3 "$BENCH_DIR/machine.py" sample "$SERVER_PID" "$WORK/phase" 0.25 >"$WORK/parts/rss_samples.jsonl" &

# ---------------------------------------------------------------- 4. users
log "creating the staff user (CLI) and $CUSTOMERS customers (HTTP signup)"
STAFF_PASSWORD="barista-on-duty-$RANDOM-shift"
CUSTOMER_PASSWORD="flat white at dawn $RANDOM"
(cd "$WORK" && "${server_env[@]}" STAMPCARD_PASSWORD="$STAFF_PASSWORD" "$BIN" user create --username staff --role staff) \
    >"$WORK/user-create.log" 2>&1 || { cat "$WORK/user-create.log" >&2; die "user create failed"; }
python3 "$BENCH_DIR/setup_users.py" --base "$BASE" --customers "$CUSTOMERS" \
    --staff-password "$STAFF_PASSWORD" --customer-password "$CUSTOMER_PASSWORD" >"$WORK/users.json"
read -r CUSTOMER_COOKIE STAFF_COOKIE < <(python3 -c '
import json,sys; u=json.load(open(sys.argv[1])); print(u["customers"][0]["cookie"], u["staff_cookie"])' "$WORK/users.json")
python3 -c '
import json,sys; u=json.load(open(sys.argv[1]))
print("phones = {" + ", ".join("\"%s\"" % c["phone"] for c in u["customers"]) + "}")' "$WORK/users.json" >"$WORK/phones.lua"
python3 -c '
import json,sys; u=json.load(open(sys.argv[1]))
print("cookies = {" + ", ".join("\"%s\"" % c["cookie"] for c in u["customers"]) + "}")' "$WORK/users.json" >"$WORK/cookies.lua"

if [[ "${BENCH_HOLD:-0}" == 1 ]]; then
    # For profiling by hand: everything is set up; the environment stays until this script is
    # interrupted (Ctrl-C or SIGTERM), then it is cleaned up as usual.
    {
        echo "BASE=$BASE"
        echo "SERVER_PID=$SERVER_PID"
        echo "PG_BIN=$PG_BIN"
        echo "PG_PORT=$PG_PORT"
        echo "PGDATA=$WORK/pg"
        echo "DATABASE_URL=$DB_URL"
        echo "CUSTOMER_COOKIE=$CUSTOMER_COOKIE"
        echo "STAFF_COOKIE=$STAFF_COOKIE"
        echo "USERS_JSON=$WORK/users.json"
        echo "CUSTOMER_PASSWORD='$CUSTOMER_PASSWORD'"
        echo "PHONES_LUA=$WORK/phones.lua"
        echo "SERVER_LOG=$WORK/server.log"
    } >"$RESULTS_DIR/hold.env"
    psql_q -d reference -f "$BENCH_DIR/reference.sql" >/dev/null
    trap 'exit 0' INT TERM
    log "holding: environment in $RESULTS_DIR/hold.env; interrupt to clean up"
    while kill -0 "$SERVER_PID" 2>/dev/null; do sleep 1; done
    die "the server exited"
fi

# ---------------------------------------------------------------- helpers for the scenarios
pgss_reset() { psql_q -d stampcard -c "SELECT pg_stat_statements_reset()" >/dev/null; }
pgss_dump() { # $1: name. Statement counts of the app database since the last reset.
    psql_q -d stampcard -At -c "
        SELECT coalesce(sum(calls) FILTER (WHERE toplevel), 0), coalesce(sum(calls), 0)
        FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
        WHERE d.datname = 'stampcard' AND query NOT LIKE '%pg_stat_statements%'" >"$WORK/parts/$1.pgss_calls"
    psql_q -d stampcard -c "
        SELECT calls, toplevel, round(mean_exec_time::numeric, 3) AS exec_ms,
               round(total_exec_time::numeric, 1) AS total_exec_ms,
               left(regexp_replace(query, '\s+', ' ', 'g'), 160) AS query
        FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
        WHERE d.datname = 'stampcard' ORDER BY calls DESC LIMIT 12" >"$RUN_LOGS/$1.pg_stat_statements.txt"
    # The tables' sizes and scan counters at the end of the scenario (cumulative since the start).
    psql_q -d stampcard -c "
        SELECT relname, n_live_tup, n_dead_tup, seq_scan, seq_tup_read, idx_scan, n_tup_ins, n_tup_upd,
               n_tup_hot_upd, last_autovacuum::time(0) AS autovacuum, last_autoanalyze::time(0) AS autoanalyze
        FROM pg_stat_user_tables ORDER BY relname" \
        -c "SELECT relname, indexrelname, idx_scan, idx_tup_read, idx_tup_fetch FROM pg_stat_user_indexes
            WHERE idx_scan > 0 ORDER BY relname, indexrelname" >"$RUN_LOGS/$1.tables.txt"
}
CPU_EXTRA=()  # S5: "server2=PID" "haproxy=PID", counted apart from "other work"
cpu_mark() { python3 "$BENCH_DIR/machine.py" cpu "$SERVER_PID" "$WORK/pg" "${CPU_EXTRA[@]}" >"$WORK/parts/$1.cpu"; }
TIMEFORMAT='%U %S'  # `time` below: the load generator's user and system CPU seconds
perf_start() { # the whole machine, so that PostgreSQL, the kernel and the load generator show too
    [[ "${BENCH_PERF:-0}" == 1 ]] || return 0
    perf record -a -F 499 ${BENCH_PERF_CALLGRAPH:+--call-graph "$BENCH_PERF_CALLGRAPH"} -o "$WORK/$1.perf.data" \
        >"$RUN_LOGS/$1.perf.log" 2>&1 &
    PERF_PID=$!
    sleep 0.5
}
perf_stop() {
    [[ -n "$PERF_PID" ]] || return 0
    kill -INT "$PERF_PID" 2>/dev/null || true; wait "$PERF_PID" 2>/dev/null || true; PERF_PID=""
    perf report -i "$WORK/$1.perf.data" --no-children --sort comm,dso --stdio 2>/dev/null \
        | grep -v '^$' | head -n 40 >"$RUN_LOGS/$1.perf-by-process.txt" || true
    perf report -i "$WORK/$1.perf.data" --no-children --pid "$SERVER_PID" --sort dso,sym --stdio 2>/dev/null \
        | grep -v '^$' | head -n 120 >"$RUN_LOGS/$1.perf-server.txt" || true
    perf report -i "$WORK/$1.perf.data" --no-children --comm postgres --sort sym --stdio 2>/dev/null \
        | grep -v '^$' | head -n 60 >"$RUN_LOGS/$1.perf-postgres.txt" || true
}
TARGET="$BASE"  # where run_wrk sends its load (S5: HAProxy, or the first instance)
run_wrk() { # name, lua script, path, extra args...
    local name=$1 script=$2 path=$3; shift 3
    phase "$name"; cpu_mark "$name.before"; pgss_reset; perf_start "$name"
    { time wrk -t2 -c"$CONNS" -d"${SECONDS_PER_RUN}s" --timeout 10s --latency -s "$script" "$@" "$TARGET$path" \
        >"$RUN_LOGS/$name.wrk.txt" 2>&1; } 2>"$WORK/parts/$name.gen_cpu"
    perf_stop "$name"; cpu_mark "$name.after"; pgss_dump "$name"
    grep '^JSON ' "$RUN_LOGS/$name.wrk.txt" | sed 's/^JSON //' >"$WORK/parts/$name.wrk.json" \
        || die "wrk gave no summary for $name (see $RUN_LOGS/$name.wrk.txt)"
}
run_pgbench() { # name, script
    local name=$1 script=$2
    psql_q -d reference -c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null
    phase "$name"; cpu_mark "$name.before"
    { time "$PG_BIN/pgbench" -n -h 127.0.0.1 -p "$PG_PORT" -U postgres -c "$CONNS" -j 2 -T "$SECONDS_PER_RUN" \
        -M prepared -f "$script" reference >"$RUN_LOGS/$name.pgbench.txt" 2>&1; } 2>"$WORK/parts/$name.gen_cpu" \
        || { cat "$RUN_LOGS/$name.pgbench.txt" >&2; die "pgbench $name failed"; }
    cpu_mark "$name.after"
    cp "$RUN_LOGS/$name.pgbench.txt" "$WORK/parts/$name.pgbench.txt"
}

# The reference tables: a session-sized row and the stamp-like write.
psql_q -d reference -f "$BENCH_DIR/reference.sql" >/dev/null

# ---------------------------------------------------------------- 5. scenarios
log "warm-up: ${WARMUP}s of whoami (untimed)"
phase warmup
wrk -t2 -c"$CONNS" -d"${WARMUP}s" -H "Cookie: stampcard_session=$CUSTOMER_COOKIE" "$BASE/api/v1/users/me" >/dev/null 2>&1

log "S1 whoami: ${SECONDS_PER_RUN}s, $CONNS connections"
run_wrk s1 "$BENCH_DIR/wrk_summary.lua" /api/v1/users/me -H "Cookie: stampcard_session=$CUSTOMER_COOKIE"

log "S1 over $CUSTOMERS sessions (not a target): ${SECONDS_PER_RUN}s, $CONNS connections"
cat "$WORK/cookies.lua" "$BENCH_DIR/cycle.lua" "$BENCH_DIR/sessions.lua" "$BENCH_DIR/wrk_summary.lua" >"$WORK/sessions_run.lua"
run_wrk s1_sessions "$WORK/sessions_run.lua" /api/v1/users/me

log "reference (a): pgbench primary-key select, $CONNS clients"
run_pgbench ref_select "$BENCH_DIR/pgbench_select.sql"

log "S2 stamp: ${SECONDS_PER_RUN}s, $CONNS connections, rotating over $CUSTOMERS customers"
cat "$WORK/phones.lua" "$BENCH_DIR/cycle.lua" "$BENCH_DIR/stamp.lua" "$BENCH_DIR/wrk_summary.lua" >"$WORK/stamp_run.lua"
run_wrk s2 "$WORK/stamp_run.lua" /api/v1/stamps -H "Cookie: stampcard_session=$STAFF_COOKIE"

log "reference (b): pgbench stamp-like write, $CONNS clients"
run_pgbench ref_write "$BENCH_DIR/pgbench_write.sql"

log "correctness after S2"
phase checks
psql_q -d stampcard -At -F $'\t' -f "$BENCH_DIR/check.sql" >"$WORK/parts/s2.check.tsv"
psql_q -d stampcard -At -c "SELECT round(avg(pg_column_size(s.*))) FROM sessions s" >"$WORK/parts/session_row_bytes"
psql_q -d reference -At -c "SELECT round(avg(pg_column_size(s.*))) FROM ref_sessions s" >"$WORK/parts/ref_row_bytes"

log "S3 login under load: $LOGIN_CLIENTS login clients + ${PROBE_RATE}/s whoami probe, ${SECONDS_PER_RUN}s"
phase s3; cpu_mark s3.before; pgss_reset
# The generator runs at a higher priority (when allowed) so that its own scheduling lag on the
# shared cores does not count as server latency; it needs ~1% of a core. Its lag is reported.
GEN_NICE=()
if [[ $(id -u) -eq 0 ]]; then GEN_NICE=(nice -n -10); fi
"${GEN_NICE[@]}" python3 "$BENCH_DIR/login_load.py" --base "$BASE" --users "$WORK/users.json" --password "$CUSTOMER_PASSWORD" \
    --clients "$LOGIN_CLIENTS" --rate "$PROBE_RATE" --seconds "$SECONDS_PER_RUN" >"$WORK/parts/s3.json"
cpu_mark s3.after; pgss_dump s3

log "S4 guessing burst: 500 wrong logins for one account at once, with S3's $LOGIN_CLIENTS login clients and probe, ${SECONDS_PER_RUN}s"
phase s4; cpu_mark s4.before; pgss_reset
BURST_USER=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["customers"][-2]["username"])' "$WORK/users.json")
"${GEN_NICE[@]}" python3 "$BENCH_DIR/login_load.py" --base "$BASE" --users "$WORK/users.json" --password "$CUSTOMER_PASSWORD" \
    --clients "$LOGIN_CLIENTS" --rate "$PROBE_RATE" --seconds "$SECONDS_PER_RUN" --burst 500 --burst-user "$BURST_USER" \
    >"$WORK/parts/s4.json"
cpu_mark s4.after; pgss_dump s4

log "reference (c): one bcrypt verify at cost 12 (htpasswd, and the server's bcrypt crate; one core)"
phase bcrypt
python3 "$BENCH_DIR/bcrypt_ref.py" --cost 12 --runs 5 --crate-bin "$CRATE_BCRYPT" >"$WORK/parts/bcrypt.json"

# The first instance's memory over S1..S4 (S5's phases are in the samples, labelled s5_*).
python3 "$BENCH_DIR/machine.py" status "$SERVER_PID" >"$WORK/parts/rss.json"

# ---------------------------------------------------------------- S5 two instances
# A second instance (same binary, settings, environment and database; its own port) and
# HAProxy in front of both, configured from deploy/haproxy.cfg (stampcard_tools.haproxy_cfg). S1 and
# S2 run through HAProxy and, right next to each, directly against the first instance, so that
# the ratio does not carry the machine's drift. On 2 cores the instances, HAProxy, PostgreSQL
# and wrk share the same CPUs: this measures what the proxy and a second instance cost, not
# how the service scales.
if [[ "$RUN_S5" == 1 ]]; then
    log "S5 two instances: a second stampcard serve on the same database, HAProxy $(haproxy -v | awk 'NR==1{print $3}') in front of both"
    phase s5_setup
    APP2_PORT=$(free_port)
    (cd "$WORK" && exec "${server_env[@]}" "STAMPCARD_ADDR=127.0.0.1:$APP2_PORT" "$BIN" serve >>"$WORK/server2.log" 2>&1) &
    SERVER2_PID=$!
    python3 -m stampcard_tools.readyz "http://127.0.0.1:$APP2_PORT/readyz" 60 "$SERVER2_PID" \
        || die "the second instance did not become ready"
    log "second instance pid $SERVER2_PID on 127.0.0.1:$APP2_PORT"
    HAPROXY_PORT=$(free_port)
    python3 -m stampcard_tools.haproxy_cfg "$ROOT/deploy/haproxy.cfg" "$WORK/haproxy.cfg" --tmp "$WORK" \
        --port "$HAPROXY_PORT" --monitoring-port "$(free_port)" "$APP_PORT" "$APP2_PORT" >/dev/null \
        || die "cannot make HAProxy's configuration from deploy/haproxy.cfg"
    cp "$WORK/haproxy.cfg" "$RUN_LOGS/haproxy.cfg"
    haproxy -c -f "$WORK/haproxy.cfg" >"$RUN_LOGS/haproxy-check.txt" 2>&1 \
        || { cat "$RUN_LOGS/haproxy-check.txt" >&3; die "haproxy -c rejects $RUN_LOGS/haproxy.cfg"; }
    # -db: in the foreground, one process (its threads: one per core), logging to stdout.
    haproxy -db -f "$WORK/haproxy.cfg" >"$WORK/haproxy.log" 2>&1 </dev/null &
    HAPROXY_PID=$!
    python3 -m stampcard_tools.haproxy_stats "$WORK/haproxy.sock" wait-up 20 || die "HAProxy's health checks did not pass"
    PROXY="http://127.0.0.1:$HAPROXY_PORT"
    log "HAProxy pid $HAPROXY_PID on $PROXY, both servers UP"
    # The shared key at work: the first instance's session cookie on the second.
    python3 -c '
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)
c.request("GET", "/api/v1/users/me", headers={"Cookie": "stampcard_session=" + sys.argv[2]})
print(c.getresponse().status)' "$APP2_PORT" "$CUSTOMER_COOKIE" >"$WORK/parts/s5_cookie_on_second"

    phase s5_warmup
    wrk -t2 -c"$CONNS" -d"${WARMUP}s" -H "Cookie: stampcard_session=$CUSTOMER_COOKIE" "$PROXY/api/v1/users/me" >/dev/null 2>&1
    CPU_EXTRA=("server2=$SERVER2_PID" "haproxy=$HAPROXY_PID")
    hap_show() { # HAProxy's counters, and how many lines its request log has
        python3 -m stampcard_tools.haproxy_stats "$WORK/haproxy.sock" show >"$WORK/parts/$1.haproxy.json"
        wc -l <"$WORK/haproxy.log" >"$WORK/parts/$1.haproxy_lines"
    }

    log "S5 S1 whoami through HAProxy over two instances: ${SECONDS_PER_RUN}s, $CONNS connections"
    TARGET="$PROXY"; hap_show s5_s1_haproxy.before
    run_wrk s5_s1_haproxy "$BENCH_DIR/wrk_summary.lua" /api/v1/users/me -H "Cookie: stampcard_session=$CUSTOMER_COOKIE"
    hap_show s5_s1_haproxy.after
    log "S5 S1 whoami directly on the first instance: ${SECONDS_PER_RUN}s, $CONNS connections"
    TARGET="$BASE"
    run_wrk s5_s1_direct "$BENCH_DIR/wrk_summary.lua" /api/v1/users/me -H "Cookie: stampcard_session=$CUSTOMER_COOKIE"
    log "S5 S2 stamp directly on the first instance: ${SECONDS_PER_RUN}s, $CONNS connections"
    run_wrk s5_s2_direct "$WORK/stamp_run.lua" /api/v1/stamps -H "Cookie: stampcard_session=$STAFF_COOKIE"
    log "S5 S2 stamp through HAProxy over two instances: ${SECONDS_PER_RUN}s, $CONNS connections"
    TARGET="$PROXY"; hap_show s5_s2_haproxy.before
    run_wrk s5_s2_haproxy "$WORK/stamp_run.lua" /api/v1/stamps -H "Cookie: stampcard_session=$STAFF_COOKIE"
    hap_show s5_s2_haproxy.after
    TARGET="$BASE"; CPU_EXTRA=()

    log "correctness after S5's S2"
    phase s5_checks
    psql_q -d stampcard -At -F $'\t' -f "$BENCH_DIR/check.sql" >"$WORK/parts/s5.check.tsv"
    python3 "$BENCH_DIR/machine.py" status "$SERVER2_PID" >"$WORK/parts/s5_server2_rss.json"
    log "stopping HAProxy and the second instance (SIGTERM)"
    kill -TERM "$HAPROXY_PID"
    set +e; wait "$HAPROXY_PID"; echo $? >"$WORK/parts/s5_haproxy_exit"; set -e
    HAPROXY_PID=""
    kill -TERM "$SERVER2_PID"
    set +e; wait "$SERVER2_PID"; echo $? >"$WORK/parts/s5_server2_exit"; set -e
    SERVER2_PID=""
    sed 's/\x1b\[[0-9;]*m//g' "$WORK/server2.log" | grep -E ' status=[013-9][0-9][0-9]' >"$RUN_LOGS/server2-non2xx.log" || true
    grep -c . "$RUN_LOGS/server2-non2xx.log" >"$WORK/parts/s5_server2_non2xx" || true
    tail -n 100 "$WORK/server2.log" >"$RUN_LOGS/server2.log.tail"
    # HAProxy's log (option httplog, one line per request): every line but a 2xx request line
    # (its own notices too, and -1: no answer because the client left first), and how many
    # requests HAProxy answered with a status other than 2xx.
    awk '!($3 == "stampcard" && $6 ~ /^2[0-9][0-9]$/)' "$WORK/haproxy.log" >"$RUN_LOGS/haproxy-non2xx.log" || true
    awk '$3 == "stampcard" && $6 ~ /^[0-9][0-9][0-9]$/' "$RUN_LOGS/haproxy-non2xx.log" | grep -c . \
        >"$WORK/parts/s5_haproxy_log_non2xx" || true
    grep -c . "$WORK/haproxy.log" >"$WORK/parts/s5_haproxy_log_lines" || true
    for name in s5_s1_haproxy s5_s2_haproxy; do  # the timers of each run's requests
        python3 "$BENCH_DIR/haproxy_log.py" "$WORK/haproxy.log" "$(cat "$WORK/parts/$name.before.haproxy_lines")" \
            "$(cat "$WORK/parts/$name.after.haproxy_lines")" >"$WORK/parts/$name.haproxy_log.json"
    done
    tail -n 50 "$WORK/haproxy.log" >"$RUN_LOGS/haproxy.log.tail"
    haproxy -v | awk 'NR == 1' >"$WORK/parts/s5_haproxy_version"  # not head: SIGPIPE under pipefail
fi

log "stopping the server (SIGTERM) and measuring /readyz after restarts"
kill -TERM "$SERVER_PID"
set +e; wait "$SERVER_PID"; SERVER_EXIT=$?; set -e
SERVER_PID=""
echo "$SERVER_EXIT" >"$WORK/parts/server_exit"
# Every answer of the benchmarked server that was not a 2xx (its log line carries status=NNN).
sed 's/\x1b\[[0-9;]*m//g' "$WORK/server.log" | grep -E ' status=[013-9][0-9][0-9]' >"$RUN_LOGS/server-non2xx.log" || true
grep -c . "$RUN_LOGS/server-non2xx.log" >"$WORK/parts/server_non2xx" || true
python3 "$BENCH_DIR/readyz_time.py" --runs 3 --url "http://127.0.0.1:$APP_PORT/readyz" --log "$WORK/server.log" \
    --cwd "$WORK" -- "${server_env[@]}" "$BIN" serve >"$WORK/parts/readyz.json"

python3 "$BENCH_DIR/machine.py" after >"$WORK/parts/machine_after.json"
tail -n 200 "$WORK/server.log" >"$RUN_LOGS/server.log.tail"

cp "$WORK/pg.log" "$RUN_LOGS/postgresql.log"

# ---------------------------------------------------------------- 6./7. report
set +e
python3 "$BENCH_DIR/report.py" --parts "$WORK/parts" --out "$OUT" --seconds "$SECONDS_PER_RUN" \
    --connections "$CONNS" --customers "$CUSTOMERS" --login-clients "$LOGIN_CLIENTS" --probe-rate "$PROBE_RATE" \
    --started "$STARTED_AT" --pg-bin "$PG_BIN"
RC=$?
set -e
log "results: $OUT (logs of this run: $RUN_LOGS)"
log "total runtime $(( $(date +%s) - STARTED_AT ))s"
if [[ $RC -eq 3 && "${BENCH_STRICT:-0}" != 1 ]]; then RC=0; fi
exit $RC
