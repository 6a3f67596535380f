# S1 whoami (GET /api/v1/users/me with one customer's cookie), the same over all 64 customers'
# sessions (not a target), and reference (a): pgbench's primary-key select of a session-sized row.

scenario_s1_whoami() {
    log "warm-up: ${WARMUP}s of whoami (untimed)"
    phase warmup
    wrk -t2 -c"$CONNS" -d"${WARMUP}s" -H "Cookie: stampcard_session=$CUSTOMER_COOKIE" "$BASE/api/v1/users/me" >/dev/null 2>&1

    log "S1 whoami: ${SECONDS_PER_RUN}s, $CONNS connections"
    run_wrk s1 "$WRK/summary.lua" /api/v1/users/me -H "Cookie: stampcard_session=$CUSTOMER_COOKIE"

    log "S1 over $CUSTOMERS sessions (not a target): ${SECONDS_PER_RUN}s, $CONNS connections"
    run_wrk s1_sessions "$(wrk_script sessions cookies sessions.lua)" /api/v1/users/me

    log "reference (a): pgbench primary-key select, $CONNS clients"
    run_pgbench ref_select "$SQL/pgbench_select.sql"
}
