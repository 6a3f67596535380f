# S2 stamp (staff POST /api/v1/stamps over the 64 customers), reference (b): pgbench's stamp-like
# write, and the correctness checks after S2 (sql/check.sql: no lost update, events in sequence).

scenario_s2_stamp() {
    log "S2 stamp: ${SECONDS_PER_RUN}s, $CONNS connections, rotating over $CUSTOMERS customers"
    run_wrk s2 "$(wrk_script stamp phones stamp.lua)" /api/v1/stamps -H "Cookie: stampcard_session=$STAFF_COOKIE"

    log "reference (b): pgbench stamp-like write, $CONNS clients"
    run_pgbench ref_write "$SQL/pgbench_write.sql"

    log "correctness after S2"
    phase checks
    psql_q -d stampcard -At -F $'\t' -f "$SQL/check.sql" >"$WORK/parts/s2.check.tsv"
    psql_q -d stampcard -At -c "SELECT round(avg(pg_column_size(s.*))) FROM sessions s" >"$WORK/parts/session_row_bytes"
    psql_q -d reference -At -c "SELECT round(avg(pg_column_size(s.*))) FROM ref_sessions s" >"$WORK/parts/ref_row_bytes"
}
