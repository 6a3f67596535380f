#!/usr/bin/env bash
# CI: src/schema.rs must be what Diesel's CLI generates from the migrations. Installs the
# pinned diesel_cli if it is missing, applies the migrations to a throwaway PostgreSQL and
# compares `diesel print-schema` with the committed file. To regenerate after adding a
# migration, run this with SCHEMA_WRITE=1.
set -euo pipefail
cd "$(dirname "$0")/.."
DIESEL_CLI_VERSION=2.3.14

if ! diesel --version 2>/dev/null | grep -q "Version: $DIESEL_CLI_VERSION$"; then
    echo "== installing diesel_cli $DIESEL_CLI_VERSION (postgres only)"
    # A debug build: it only prints a schema, and builds in half the time of a release one.
    cargo install diesel_cli --version "$DIESEL_CLI_VERSION" --locked --debug --no-default-features --features postgres
fi

# shellcheck source=.ci/throwaway_pg.sh
. .ci/throwaway_pg.sh
TMP="$(mktemp -d /tmp/stampcard-schema.XXXXXX)"
chmod 755 "$TMP"
cleanup() {
    pg_stop || true
    rm -rf "$TMP"
}
trap cleanup EXIT
# (pg_start creates the database: not `diesel database setup`, which would also add diesel's own
# initial migration to migrations/.)
pg_start "$TMP/pgdata"
URL="postgres://postgres@127.0.0.1:$PGPORT/stampcard"
diesel migration run --database-url "$URL" --migration-dir migrations >/dev/null
diesel print-schema --database-url "$URL" >"$TMP/schema.rs"
if [ "${SCHEMA_WRITE:-0}" = 1 ]; then
    cp "$TMP/schema.rs" src/schema.rs
    echo "schema: src/schema.rs regenerated"
elif diff -u src/schema.rs "$TMP/schema.rs"; then
    echo "schema: src/schema.rs is what diesel print-schema generates"
else
    echo "schema: src/schema.rs differs from the migrations (run SCHEMA_WRITE=1 .ci/schema.sh)" >&2
    exit 1
fi
