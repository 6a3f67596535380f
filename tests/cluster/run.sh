#!/usr/bin/env bash
# The cluster test. One throwaway PostgreSQL and a streaming replica of it (pg_basebackup -R)
# that the reports read, three `stampcard serve` instances with one secret key, HAProxy in
# front (deploy/haproxy.cfg), all on 127.0.0.1. Checks that they behave as one service
# (sessions, logout, revocation, the login lockout, Idempotency-Keys, redemptions, reports
# from the replica and stamps from the primary), then injects faults under load (kill -9,
# SIGTERM, a PostgreSQL restart, an exhausted pool) and checks that no acknowledged write is
# lost or doubled. Prints PASS/FAIL/SKIP per check and the figures table; exits 1 if any check
# failed. docs/operations.md describes it; README.md here says how the files are laid out and
# how to add a scenario. `.ci/run` runs it.
#
# Needs: a release binary, the PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup), psql,
# python3 (standard library only) and HAProxy (installed with apt-get when missing and run as
# root). Run as root in CI: PostgreSQL (primary and replica) then runs as the `postgres` user,
# HAProxy drops to the `haproxy` user as its configuration says.
#
# Environment (all optional):
#   STAMPCARD_BIN       the server binary (default: target/release/stampcard; build it with
#                       `cargo build --release` first: this script does not build)
#   STAMPCARD_CI_KEEP=1 keep the temporary directory (server, HAProxy and PostgreSQL logs)
#   CLUSTER_RUST_LOG    the instances' RUST_LOG (default: info)
#   CLUSTER_FIGURES     write the figures and results as JSON to this file
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
started_at=$SECONDS

BIN="${STAMPCARD_BIN:-target/release/stampcard}"
case "$BIN" in /*) ;; *) BIN="$ROOT/$BIN" ;; esac
[ -x "$BIN" ] || { echo "error: no server binary at $BIN (cargo build --release, or set STAMPCARD_BIN)" >&2; exit 1; }

if ! command -v haproxy >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        echo "== installing haproxy"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q haproxy >/dev/null 2>&1 || {
            apt-get update -q >/dev/null
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q haproxy >/dev/null
        }
    else
        echo "error: haproxy is required (apt-get install haproxy)" >&2
        exit 1
    fi
fi
# PGBIN, as_pg and pg_stop (PGDATA is set below, so the trap can stop the cluster).
. "$ROOT/.ci/throwaway_pg.sh"
[ -x "$PGBIN/initdb" ] || { echo "error: no PostgreSQL server binaries under /usr/lib/postgresql" >&2; exit 1; }
for tool in psql python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "error: $tool is required" >&2; exit 1; }
done

TMP="$(mktemp -d /tmp/stampcard-cluster.XXXXXX)"
chmod 755 "$TMP"
mkdir -p "$TMP/pids"
PGDATA="$TMP/pgdata"   # harness/processes.py's Postgres makes it (and Replica $TMP/pgreplica)

# Ends exactly the processes the driver started (their pids are in $TMP/pids), stops the
# PostgreSQL replica and primary, removes the temporary directory. Runs however the script ends.
DRIVER_PID=""
cleanup() {
    local status=$?
    set +e
    if [ -n "$DRIVER_PID" ] && kill -0 "$DRIVER_PID" 2>/dev/null; then
        kill -TERM "$DRIVER_PID" 2>/dev/null   # it stops what it started, then exits
        for _ in $(seq 1 50); do kill -0 "$DRIVER_PID" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$DRIVER_PID" 2>/dev/null
    fi
    for f in "$TMP"/pids/*; do
        [ -f "$f" ] || continue
        pid="$(cat "$f")"
        if kill -0 "$pid" 2>/dev/null; then
            kill -KILL "$pid" 2>/dev/null
        fi
    done
    PGDATA="$TMP/pgreplica"; pg_stop 2>/dev/null
    PGDATA="$TMP/pgdata"; pg_stop 2>/dev/null
    if [ "${STAMPCARD_CI_KEEP:-0}" = 1 ]; then
        echo "kept $TMP"
    else
        rm -rf "$TMP"
    fi
    echo "cluster: $([ "$status" = 0 ] && echo passed || echo "FAILED (exit $status)") in $((SECONDS - started_at))s"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "server: $BIN ($("$BIN" --version 2>/dev/null || echo 'no --version')), $(haproxy -v | head -n 1 | cut -d' ' -f1-3)," \
    "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}'), python3 $(python3 --version | cut -d' ' -f2)"
echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || echo ' (src/ modified)')"

# In the background, so that a signal to this script runs the trap at once (bash runs traps
# only between commands, and `wait` is one it interrupts).
# tools/ holds the Python shared with the benchmark (stampcard_tools).
CLUSTER_ROOT="$ROOT" CLUSTER_TMP="$TMP" CLUSTER_PGBIN="$PGBIN" STAMPCARD_BIN="$BIN" \
    PYTHONPATH="$ROOT/tools${PYTHONPATH:+:$PYTHONPATH}" python3 -u "$ROOT/tests/cluster/main.py" &
DRIVER_PID=$!
wait "$DRIVER_PID"
