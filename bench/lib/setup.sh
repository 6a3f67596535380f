# Sourced by bench/run.sh: the binaries, the throwaway PostgreSQL, the server and its users, and
# BENCH_HOLD's waiting environment. Each function sets the globals the scenarios use (BIN,
# CRATE_BCRYPT, PG_PORT, DB_URL, server_env, BASE, SERVER_PID, the cookies and passwords).

# The server under test and the bcrypt example: built with cargo unless given (STAMPCARD_BIN,
# BENCH_BCRYPT_BIN) or BENCH_SKIP_BUILD=1. The server is copied into $WORK, so that a rebuild in
# the checkout during the run cannot change the binary under test.
find_binaries() {
    local build=()
    [[ -n "${STAMPCARD_BIN:-}" ]] || build+=(--bin stampcard)
    [[ -n "${BENCH_BCRYPT_BIN:-}" ]] || build+=(--example bcrypt_verify)
    if [[ "${BENCH_SKIP_BUILD:-0}" != 1 && ${#build[@]} -gt 0 ]]; then
        need cargo "install Rust (or set STAMPCARD_BIN and BENCH_BCRYPT_BIN)"
        log "cargo build --release"
        (cd "$ROOT" && cargo build --release --quiet "${build[@]}")
    fi
    local server="${STAMPCARD_BIN:-$ROOT/target/release/stampcard}"
    CRATE_BCRYPT="${BENCH_BCRYPT_BIN:-$ROOT/target/release/examples/bcrypt_verify}"
    [[ -x "$server" ]] || die "$server missing (cargo build --release, or set STAMPCARD_BIN)"
    [[ -x "$CRATE_BCRYPT" ]] || die "$CRATE_BCRYPT missing (cargo build --release --example bcrypt_verify, or set BENCH_BCRYPT_BIN)"
    BIN="$WORK/stampcard"
    cp "$server" "$BIN"
}

# Production durability (fsync, synchronous_commit, full_page_writes), pg_stat_statements, on a
# free port of 127.0.0.1 without a Unix socket; databases `stampcard` and `reference`.
start_postgres() {
    PG_PORT=$(free_port)
    chown postgres: "$WORK" 2>/dev/null || true
    chmod 0755 "$WORK"
    log "initdb + start PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT"
    as_pg "$PG_BIN/initdb" -D "$WORK/pg" -U postgres -A trust -E UTF8 --locale=C >"$WORK/initdb.log" 2>&1 \
        || { cat "$WORK/initdb.log" >&2; die "initdb failed"; }
    local settings=(
        -c listen_addresses=127.0.0.1 -c "port=$PG_PORT" -c "unix_socket_directories="
        -c fsync=on -c synchronous_commit=on -c full_page_writes=on -c wal_level=replica
        -c max_connections=200 -c shared_buffers=256MB -c max_wal_size=2GB
        -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all
    )
    as_pg "$PG_BIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg.log" -w -t 60 -o "${settings[*]}" start >/dev/null \
        || { cat "$WORK/pg.log" >&2; die "PostgreSQL did not start"; }
    PG_STARTED=1
    psql_q -d postgres -c "CREATE DATABASE stampcard" -c "CREATE DATABASE reference"
    psql_q -d stampcard -c "CREATE EXTENSION pg_stat_statements"
    DB_URL="postgres://postgres@127.0.0.1:$PG_PORT/stampcard"
}
psql_q() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"; }

# The server's environment: only these settings (and BENCH_SERVER_ENV); STAMPCARD_* of the
# caller's environment are dropped. An explicit cookie key (dev mode would make a random one per
# process), so that S5's two instances accept each other's session cookies; S1..S4 are the same
# with it.
server_settings() {
    APP_PORT=$(free_port)
    BASE="http://127.0.0.1:$APP_PORT"
    server_env=(env)
    local name
    for name in $(compgen -e | grep '^STAMPCARD_' || true); do server_env+=(-u "$name"); done
    local secret_key
    secret_key=$(python3 -c 'import secrets; print(secrets.token_hex(64))')
    server_env+=(
        "DATABASE_URL=$DB_URL" STAMPCARD_DEV=1 STAMPCARD_BCRYPT_COST=12 "STAMPCARD_SECRET_KEY=$secret_key"
        "STAMPCARD_ADDR=127.0.0.1:$APP_PORT" "RUST_LOG=${BENCH_RUST_LOG:-info}"
    )
    # shellcheck disable=SC2206
    [[ -n "${BENCH_SERVER_ENV:-}" ]] && server_env+=(${BENCH_SERVER_ENV})
    return 0
}

# serve PORT LOG PID_VAR: one more `stampcard serve` with the run's settings on PORT, its output
# appended to LOG, its pid in the variable PID_VAR (for the cleanup trap); fails unless it
# becomes ready within 60 s. From the temp dir, so that no .env of the checkout changes the settings.
serve() {
    local port=$1 logfile=$2
    (cd "$WORK" && exec "${server_env[@]}" "STAMPCARD_ADDR=127.0.0.1:$port" "$BIN" serve >>"$logfile" 2>&1) &
    printf -v "$3" '%s' "$!"
    python3 -m stampcard_tools.readyz "http://127.0.0.1:$port/readyz" 60 "$!"
}

start_server() {
    log "starting stampcard serve on $BASE"
    serve "$APP_PORT" "$WORK/server.log" SERVER_PID || die "the server did not become ready"
    echo "$SERVER_PID" >"$WORK/server.pid"
    log "server pid $SERVER_PID"
}

# The staff user from the CLI, $CUSTOMERS customers signed up over HTTP (bench/py/setup_users.py),
# their cookies, and the Lua tables of their phones and cookies for wrk.
create_users() {
    log "creating the staff user (CLI) and $CUSTOMERS customers (HTTP signup)"
    STAFF_PASSWORD="barista-on-duty-$RANDOM-shift"
    CUSTOMER_PASSWORD="flat white at dawn $RANDOM"
    (cd "$WORK" && "${server_env[@]}" STAMPCARD_PASSWORD="$STAFF_PASSWORD" "$BIN" user create --username staff --role staff) \
        >"$WORK/user-create.log" 2>&1 || { cat "$WORK/user-create.log" >&2; die "user create failed"; }
    python3 "$PY/setup_users.py" --base "$BASE" --customers "$CUSTOMERS" --lua-dir "$WORK" \
        --staff-password "$STAFF_PASSWORD" --customer-password "$CUSTOMER_PASSWORD" >"$WORK/users.json"
    read -r CUSTOMER_COOKIE STAFF_COOKIE < <(python3 -c '
import json,sys; u=json.load(open(sys.argv[1])); print(u["customers"][0]["cookie"], u["staff_cookie"])' "$WORK/users.json")
}

# BENCH_HOLD=1, for profiling by hand: everything is set up; the environment stays until this
# script is interrupted (Ctrl-C or SIGTERM), then it is cleaned up as usual.
hold() {
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
    psql_q -d reference -f "$SQL/reference.sql" >/dev/null
    trap 'exit 0' INT TERM
    log "holding: environment in $RESULTS_DIR/hold.env; interrupt to clean up"
    while kill -0 "$SERVER_PID" 2>/dev/null; do sleep 1; done
    die "the server exited"
}
