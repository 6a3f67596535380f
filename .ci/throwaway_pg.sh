# Sourced by .ci/clients.sh, .ci/schema.sh and tests/browser/run.sh: a throwaway PostgreSQL
# cluster on 127.0.0.1 for one script run (no Unix socket, trust auth, fsync off: its data is
# thrown away). PostgreSQL refuses to run as root, so as root its tools run as `postgres`.
#
#   pg_start DIR     initdb DIR, start it on a free port (PGPORT), create the database `stampcard`
#   pg_stop          stop it (safe to call from a cleanup trap, started or not)

PGBIN="$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
PGDATA=""
PGPORT=""

as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

pg_start() {
    [ -x "$PGBIN/initdb" ] || { echo "error: no PostgreSQL server binaries under /usr/lib/postgresql" >&2; return 1; }
    PGDATA="$1"
    PGPORT="$(free_port)"
    mkdir -p "$PGDATA"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$PGDATA"; fi
    as_pg "$PGBIN/initdb" -D "$PGDATA" --auth=trust --username=postgres --encoding=UTF8 --locale=C.UTF-8 \
        --no-sync >"$PGDATA.initdb.log"
    as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w -t 60 \
        -o "-p $PGPORT -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off" start >/dev/null
    as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U postgres stampcard
}

pg_stop() {
    if [ -n "$PGDATA" ] && [ -f "$PGDATA/postmaster.pid" ]; then
        as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
    fi
}
