# Sourced by bench/run.sh: how a scenario is measured. Around each run: the CPU of the server,
# PostgreSQL, the load generator and the machine (py/machine.py cpu), pg_stat_statements (the
# statements per request, the tables' counters), optionally a perf profile; the raw outputs go
# to $RUN_LOGS, what py/report.py reads to $WORK/parts.
#
#   run_wrk NAME SCRIPT PATH [wrk args...]   wrk on $TARGET$PATH for $SECONDS_PER_RUN seconds
#   run_pgbench NAME SCRIPT                  pgbench on the reference database, as long
#   phase NAME; cpu_mark NAME.before ... cpu_mark NAME.after; pgss_reset ... pgss_dump NAME
#                                            the same accounting around a load of your own

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
cpu_mark() { python3 "$PY/machine.py" cpu "$SERVER_PID" "$WORK/pg" "${CPU_EXTRA[@]}" >"$WORK/parts/$1.cpu"; }
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
# TARGET: where run_wrk sends its load (the first instance; S5: HAProxy or the first instance)
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

# wrk_script NAME TABLE LUA: the Lua file for one wrk run, made of the customers' TABLE
# ($WORK/phones.lua or cookies.lua, from py/setup_users.py), wrk/cycle.lua, the scenario's LUA and
# wrk/summary.lua (the JSON line report.py reads); prints its path.
wrk_script() {
    cat "$WORK/$2.lua" "$WRK/cycle.lua" "$WRK/$3" "$WRK/summary.lua" >"$WORK/$1_run.lua"
    echo "$WORK/$1_run.lua"
}
