# S5: two instances behind HAProxy (deploy/haproxy.cfg), S1 and S2 through it and, right next to
# each, directly against the first instance. BENCH_S5=0 skips it.
#
# A second instance (same binary, settings, environment and database; its own port) and
# HAProxy in front of both, configured from deploy/haproxy.cfg (stampcard_tools.haproxy_cfg). S1 and
# S2 run through HAProxy and, right next to each, directly against the first instance, so that
# the ratio does not carry the machine's drift. On 2 cores the instances, HAProxy, PostgreSQL
# and wrk share the same CPUs: this measures what the proxy and a second instance cost, not
# how the service scales.

scenario_s5_two_instances() {
    s5_start
    s5_runs
    s5_stop_and_check
}

hap_show() { # HAProxy's counters, and how many lines its request log has
    python3 -m stampcard_tools.haproxy_stats "$WORK/haproxy.sock" show >"$WORK/parts/$1.haproxy.json"
    wc -l <"$WORK/haproxy.log" >"$WORK/parts/$1.haproxy_lines"
}

run_wrk_haproxy() { # name, lua script, path, extra args...: run_wrk through HAProxy, its counters around it
    TARGET="$PROXY"; hap_show "$1.before"
    run_wrk "$@"
    hap_show "$1.after"; TARGET="$BASE"
}

# The second instance, HAProxy from deploy/haproxy.cfg, and the first instance's cookie on the second.
s5_start() {
    log "S5 two instances: a second stampcard serve on the same database, HAProxy $(haproxy -v | awk 'NR==1{print $3}') in front of both"
    phase s5_setup
    APP2_PORT=$(free_port)
    serve "$APP2_PORT" "$WORK/server2.log" SERVER2_PID || die "the second instance did not become ready"
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
import sys; from stampcard_tools.httpc import Jar, request
print(request(sys.argv[1], "GET", "/api/v1/users/me", jar=Jar({"stampcard_session": sys.argv[2]}), timeout=5).status)' \
        "http://127.0.0.1:$APP2_PORT" "$CUSTOMER_COOKIE" >"$WORK/parts/s5_cookie_on_second"
}

# S1 and S2 through HAProxy and directly, back to back (the order report.py states).
s5_runs() {
    local stamp_lua
    stamp_lua=$(wrk_script stamp phones stamp.lua)
    phase s5_warmup
    wrk -t2 -c"$CONNS" -d"${WARMUP}s" -H "Cookie: stampcard_session=$CUSTOMER_COOKIE" "$PROXY/api/v1/users/me" >/dev/null 2>&1
    CPU_EXTRA=("server2=$SERVER2_PID" "haproxy=$HAPROXY_PID")

    log "S5 S1 whoami through HAProxy over two instances: ${SECONDS_PER_RUN}s, $CONNS connections"
    run_wrk_haproxy s5_s1_haproxy "$WRK/summary.lua" /api/v1/users/me -H "Cookie: stampcard_session=$CUSTOMER_COOKIE"
    log "S5 S1 whoami directly on the first instance: ${SECONDS_PER_RUN}s, $CONNS connections"
    run_wrk s5_s1_direct "$WRK/summary.lua" /api/v1/users/me -H "Cookie: stampcard_session=$CUSTOMER_COOKIE"
    log "S5 S2 stamp directly on the first instance: ${SECONDS_PER_RUN}s, $CONNS connections"
    run_wrk s5_s2_direct "$stamp_lua" /api/v1/stamps -H "Cookie: stampcard_session=$STAFF_COOKIE"
    log "S5 S2 stamp through HAProxy over two instances: ${SECONDS_PER_RUN}s, $CONNS connections"
    run_wrk_haproxy s5_s2_haproxy "$stamp_lua" /api/v1/stamps -H "Cookie: stampcard_session=$STAFF_COOKIE"
    CPU_EXTRA=()
}

# sql/check.sql again, both stopped with SIGTERM (their exit codes), their logs' non-2xx lines,
# and HAProxy's request timers per run.
s5_stop_and_check() {
    log "correctness after S5's S2"
    phase s5_checks
    psql_q -d stampcard -At -F $'\t' -f "$SQL/check.sql" >"$WORK/parts/s5.check.tsv"
    python3 "$PY/machine.py" status "$SERVER2_PID" >"$WORK/parts/s5_server2_rss.json"
    log "stopping HAProxy and the second instance (SIGTERM)"
    term_and_wait HAPROXY_PID "$WORK/parts/s5_haproxy_exit"
    term_and_wait SERVER2_PID "$WORK/parts/s5_server2_exit"
    non_2xx "$WORK/server2.log" "$RUN_LOGS/server2-non2xx.log" "$WORK/parts/s5_server2_non2xx"
    tail -n 100 "$WORK/server2.log" >"$RUN_LOGS/server2.log.tail"
    # HAProxy's log (option httplog, one line per request): every line but a 2xx request line
    # (its own notices too, and -1: no answer because the client left first), and how many
    # requests HAProxy answered with a status other than 2xx.
    awk '!($3 == "stampcard" && $6 ~ /^2[0-9][0-9]$/)' "$WORK/haproxy.log" >"$RUN_LOGS/haproxy-non2xx.log" || true
    awk '$3 == "stampcard" && $6 ~ /^[0-9][0-9][0-9]$/' "$RUN_LOGS/haproxy-non2xx.log" | grep -c . \
        >"$WORK/parts/s5_haproxy_log_non2xx" || true
    grep -c . "$WORK/haproxy.log" >"$WORK/parts/s5_haproxy_log_lines" || true
    local name
    for name in s5_s1_haproxy s5_s2_haproxy; do  # the timers of each run's requests
        python3 "$PY/haproxy_log.py" "$WORK/haproxy.log" "$(cat "$WORK/parts/$name.before.haproxy_lines")" \
            "$(cat "$WORK/parts/$name.after.haproxy_lines")" >"$WORK/parts/$name.haproxy_log.json"
    done
    tail -n 50 "$WORK/haproxy.log" >"$RUN_LOGS/haproxy.log.tail"
    haproxy -v | awk 'NR == 1' >"$WORK/parts/s5_haproxy_version"  # not head: SIGPIPE under pipefail
}
