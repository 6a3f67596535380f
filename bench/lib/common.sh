# Sourced by bench/run.sh: messages, the tools the benchmark needs, running PostgreSQL's binaries,
# stopping processes, and the cleanup trap that ends everything the run started.

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&3; }
die() { log "ERROR: $*"; exit 1; }
phase() { echo "$1" >"$WORK/phase"; }  # the label of the memory samples
need() { command -v "$1" >/dev/null 2>&1 || die "$1 not found: $2"; }
free_port() { python3 -m stampcard_tools.ports; }
as_pg() {
    if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

apt_install() { # what-for, packages...: as root, when apt-get is there; quietly, update only if needed
    local why=$1; shift
    [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null || return 0
    log "installing $* with apt-get ($why)"
    apt-get install -y -qq "$@" >/dev/null 2>&1 \
        || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "$@" >/dev/null 2>&1; } || true
}

check_tools() {
    if [[ -z "${PG_BIN:-}" ]]; then
        PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
    fi
    [[ -x "${PG_BIN:-}/pgbench" ]] || die "pgbench not found; install postgresql or set PG_BIN"
    command -v wrk >/dev/null 2>&1 || apt_install "wrk, and htpasswd for the bcrypt reference" wrk apache2-utils
    if [[ "$RUN_S5" == 1 ]] && ! command -v haproxy >/dev/null 2>&1; then apt_install S5 haproxy; fi
    need wrk "apt-get install wrk"
    [[ "$RUN_S5" != 1 ]] || need haproxy "apt-get install haproxy (or BENCH_S5=0 to skip S5)"
    need htpasswd "apt-get install apache2-utils"
    need python3 "install Python 3"
}

stop_pid() { # SIGTERM, then SIGKILL after 5 s
    local pid=$1
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
}

# The EXIT trap: stops perf, HAProxy, both instances and PostgreSQL; on failure keeps the last log
# lines in $RESULTS_DIR/failed-*.tail; removes the temporary directory (BENCH_KEEP=1 keeps it).
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
        local name
        for name in server pg server2 haproxy; do
            [[ -f "$WORK/$name.log" ]] && tail -n 40 "$WORK/$name.log" >"$RESULTS_DIR/failed-$name.log.tail"
        done
        [[ -f "$WORK/server.log" ]] && { log "last lines of the server's log:"; tail -n 5 "$WORK/server.log" >&3; }
        log "failed (exit $rc); last log lines in $RESULTS_DIR/failed-*.tail"
    fi
    if [[ "${BENCH_KEEP:-0}" == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
    rm -f "$RESULTS_DIR/hold.env"
    exit $rc
}

# term_and_wait PID_VAR FILE: SIGTERM to the process whose pid is in the variable PID_VAR, its
# exit status written to FILE; PID_VAR is emptied (the cleanup trap has nothing left to stop).
term_and_wait() {
    local pid=${!1} status
    kill -TERM "$pid"
    set +e; wait "$pid"; status=$?; set -e
    echo "$status" >"$2"
    printf -v "$1" '%s' ""
}

# non_2xx SERVER_LOG LINES_FILE COUNT_FILE: every answer of an instance that was not a 2xx (its
# log line carries status=NNN) into LINES_FILE, and how many into COUNT_FILE.
non_2xx() {
    sed 's/\x1b\[[0-9;]*m//g' "$1" | grep -E ' status=[013-9][0-9][0-9]' >"$2" || true
    grep -c . "$2" >"$3" || true
}
