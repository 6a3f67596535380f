#!/usr/bin/env bash
# CI: exercise the clients against a live release server on a throwaway database:
#   1. the Postman collection, with newman;
#   2. every curl journey in examples/curl/ (they read the mail and SMS the server sends);
#   3. Schemathesis against openapi.yaml (the one the release build serves at /openapi.yaml),
#      authenticated as a staff user, then as a customer, then as an admin (the owner's view);
#   4. graceful shutdown: SIGTERM must stop the server with exit code 0.
# The server sends real mail and SMS: to an SMTP server (aiosmtpd, from PyPI) that writes a Maildir,
# and to a local SMS gateway (python3's http.server) that writes each POSTed JSON body as one line
# of a file; the journeys find them through STAMPCARD_MAILDIR and STAMPCARD_SMS_LOG.
# Any failure fails the script. Run from anywhere; needs PostgreSQL server binaries, node/npm,
# python3 (with venv) and curl; installs jq if it is missing.
#
# Environment (all optional):
#   STAMPCARD_CI_TOOLS  directory to keep newman and Schemathesis in between runs (default: a
#                       temporary directory, removed at the end)
#   STAMPCARD_CI_KEEP=1 keep the temporary directory (server and database logs) for inspection
#   STAMPCARD_BIN       a stampcard binary built already (e.g. target/release/stampcard of an earlier
#                       build): used as it is, and the release build is skipped
#   STAMPCARD_CI_SEED, STAMPCARD_CI_MAX_EXAMPLES
#                       Schemathesis seed and cases per operation and phase (default 20261126, 50):
#                       raise the examples or vary the seed locally for a deeper search
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

NEWMAN_VERSION=6.2.2
SCHEMATHESIS_VERSION=4.32.5
AIOSMTPD_VERSION=1.4.6
SCHEMATHESIS_SEED="${STAMPCARD_CI_SEED:-20261126}"
SCHEMATHESIS_MAX_EXAMPLES="${STAMPCARD_CI_MAX_EXAMPLES:-50}"

section() { printf '\n===== %s =====\n' "$*"; }
started_at=$SECONDS
elapsed() { printf '(%ds so far)' "$((SECONDS - started_at))"; }

# --- scratch space and cleanup ---------------------------------------------------------------

TMP="$(mktemp -d /tmp/stampcard-clients.XXXXXX)"
chmod 755 "$TMP"
TOOLS="${STAMPCARD_CI_TOOLS:-$TMP/tools}"
mkdir -p "$TOOLS"
SERVER_PID=""
SHORT_PID=""
SMTP_PID=""
SMS_PID=""
# shellcheck source=.ci/throwaway_pg.sh
. "$ROOT/.ci/throwaway_pg.sh"

cleanup() {
    local status=$?
    set +e
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
    fi
    local pid
    for pid in "$SHORT_PID" "$SMTP_PID" "$SMS_PID"; do
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null
            wait "$pid" 2>/dev/null
        fi
    done
    if [ "$status" != 0 ] && [ -f "$TMP/server.log" ]; then
        echo "--- last lines of the server log ($TMP/server.log)"
        tail -n 40 "$TMP/server.log"
    fi
    pg_stop
    if [ "${STAMPCARD_CI_KEEP:-0}" = 1 ]; then
        echo "kept $TMP"
    else
        rm -rf "$TMP"
    fi
    if [ "$status" = 0 ]; then
        echo "clients: all passed in $((SECONDS - started_at))s"
    else
        echo "clients: FAILED (exit $status) after $((SECONDS - started_at))s" >&2
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The client checks (newman, each curl journey, each Schemathesis pass) all run even when one
# fails, so that one CI log shows every problem; the script fails at the end if any did.
FAILED_STEPS=()
check() {
    local name="$1"
    shift
    if "$@"; then
        echo ">>> passed: $name"
    else
        echo ">>> FAILED: $name" >&2
        FAILED_STEPS+=("$name")
    fi
}

# --- prerequisites --------------------------------------------------------------------------------

section "prerequisites"
if ! command -v jq >/dev/null 2>&1; then
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q jq
fi
for tool in curl jq node npm python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "error: $tool is required" >&2; exit 1; }
done
[ -x "$PGBIN/initdb" ] || { echo "error: no PostgreSQL server binaries under /usr/lib/postgresql" >&2; exit 1; }
echo "curl: $(curl --version | head -n 1 | cut -d' ' -f1-2), jq: $(jq --version), node: $(node --version)," \
    "python3: $(python3 --version | cut -d' ' -f2), PostgreSQL: $("$PGBIN/postgres" --version | awk '{print $3}')"

if [ -n "${STAMPCARD_BIN:-}" ]; then
    section "prebuilt server binary"
    [ -x "$STAMPCARD_BIN" ] || { echo "error: STAMPCARD_BIN=$STAMPCARD_BIN is not an executable file" >&2; exit 1; }
    BIN="$(cd "$(dirname "$STAMPCARD_BIN")" && pwd)/$(basename "$STAMPCARD_BIN")"
    echo "using $BIN ($(date -r "$BIN" '+%Y-%m-%d %H:%M:%S'), no release build)"
else
    section "release build"
    cargo build --release
    BIN="$ROOT/target/release/stampcard"
fi

section "tools: newman $NEWMAN_VERSION, schemathesis $SCHEMATHESIS_VERSION, aiosmtpd $AIOSMTPD_VERSION $(elapsed)"
NEWMAN="$TOOLS/npm/node_modules/.bin/newman"
if [ "$("$NEWMAN" --version 2>/dev/null)" != "$NEWMAN_VERSION" ]; then
    npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$TOOLS/npm" "newman@$NEWMAN_VERSION"
fi
"$NEWMAN" --version
ST="$TOOLS/venv/bin/schemathesis"
if ! "$ST" --version 2>/dev/null | grep -qx "schemathesis, version $SCHEMATHESIS_VERSION"; then
    python3 -m venv "$TOOLS/venv"
    "$TOOLS/venv/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
"$ST" --version
# The SMTP server lives in the same virtual environment.
PY="$TOOLS/venv/bin/python"
if ! "$PY" -c "import aiosmtpd, sys; sys.exit(aiosmtpd.__version__ != '$AIOSMTPD_VERSION')" 2>/dev/null; then
    "$TOOLS/venv/bin/pip" install -q --disable-pip-version-check "aiosmtpd==$AIOSMTPD_VERSION"
fi
echo "aiosmtpd $("$PY" -c 'import aiosmtpd; print(aiosmtpd.__version__)')"

# --- database and server --------------------------------------------------------------------

section "throwaway PostgreSQL cluster $(elapsed)"
pg_start "$TMP/pgdata"
echo "PostgreSQL on 127.0.0.1:$PGPORT, database stampcard"

section "mail and SMS transports $(elapsed)"
# wait_for_port PORT PID NAME: waits until something accepts connections on 127.0.0.1:PORT.
wait_for_port() {
    for _ in $(seq 1 100); do
        if python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), 1).close()" 2>/dev/null; then
            return 0
        fi
        kill -0 "$2" 2>/dev/null || { echo "error: $3 exited during startup" >&2; return 1; }
        sleep 0.2
    done
    echo "error: $3 did not listen on 127.0.0.1:$1" >&2
    return 1
}
SMTP_PORT="$(free_port)"
export STAMPCARD_MAILDIR="$TMP/mail"
"$PY" -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" -c aiosmtpd.handlers.Mailbox "$STAMPCARD_MAILDIR" \
    >"$TMP/smtp.log" 2>&1 &
SMTP_PID=$!
wait_for_port "$SMTP_PORT" "$SMTP_PID" aiosmtpd || { cat "$TMP/smtp.log" >&2; exit 1; }
echo "SMTP: aiosmtpd on 127.0.0.1:$SMTP_PORT, delivering into $STAMPCARD_MAILDIR"

# The SMS gateway: 200 to POST /sms with a JSON object, which it appends as one line to the log;
# 404 for any other path, 400 for a body that is not a JSON object.
SMS_PORT="$(free_port)"
export STAMPCARD_SMS_LOG="$TMP/sms.jsonl"
: >"$STAMPCARD_SMS_LOG"
cat >"$TMP/sms_gateway.py" <<'PY'
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Lock

port, log_path = int(sys.argv[1]), sys.argv[2]
lock = Lock()

class Gateway(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path != "/sms":
            return self.answer(404)
        try:
            message = json.loads(body)
        except ValueError:
            return self.answer(400)
        if not isinstance(message, dict):
            return self.answer(400)
        with lock, open(log_path, "a", encoding="utf-8") as log:
            log.write(json.dumps(message, ensure_ascii=False) + "\n")
        self.answer(200)

    def answer(self, status):
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format, *args):
        sys.stderr.write("sms gateway: " + (format % args) + "\n")

ThreadingHTTPServer(("127.0.0.1", port), Gateway).serve_forever()
PY
python3 "$TMP/sms_gateway.py" "$SMS_PORT" "$STAMPCARD_SMS_LOG" >"$TMP/sms.log" 2>&1 &
SMS_PID=$!
wait_for_port "$SMS_PORT" "$SMS_PID" "the SMS gateway" || { cat "$TMP/sms.log" >&2; exit 1; }
echo "SMS: gateway on http://127.0.0.1:$SMS_PORT/sms, writing $STAMPCARD_SMS_LOG"

section "server $(elapsed)"
PORT="$(free_port)"
BASE_URL="http://127.0.0.1:$PORT"
export DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/stampcard"
export STAMPCARD_DEV=1            # cookies without Secure: we talk plain http to 127.0.0.1
export STAMPCARD_BCRYPT_COST=4    # fast hashing: the clients log in a lot
export STAMPCARD_ADDR="127.0.0.1:$PORT"
export STAMPCARD_PUBLIC_URL="$BASE_URL"   # links in mails start with it
export STAMPCARD_SMTP_URL="smtp://127.0.0.1:$SMTP_PORT"
export STAMPCARD_SMS_WEBHOOK_URL="http://127.0.0.1:$SMS_PORT/sms"
# Signups per client address an hour: every client here is 127.0.0.1, and newman, the journeys
# and Schemathesis together sign up some 70 times a run (more with a raised
# STAMPCARD_CI_MAX_EXAMPLES). A test rig is what the setting is for: set well above that, so
# that a signup is still counted by the limit but never refused, where the product's default
# (100) would make the end of a longer run test 429s only. (0 would turn the limit off.)
export STAMPCARD_SIGNUPS_PER_HOUR=1000
export RUST_LOG="${RUST_LOG:-warn}"
export NO_COLOR=1                 # plain server log
"$BIN" serve >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 120); do
    if curl -fsS -o /dev/null "$BASE_URL/readyz" 2>/dev/null; then break; fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "error: the server exited during startup" >&2
        cat "$TMP/server.log" >&2
        SERVER_PID=""
        exit 1
    fi
    sleep 0.5
done
curl -fsS "$BASE_URL/readyz" >/dev/null || { echo "error: $BASE_URL/readyz never became ready" >&2; exit 1; }
echo "stampcard serving on $BASE_URL (pid $SERVER_PID)"

# Staff and admin accounts can only be made by an admin or the command line. The admin is the
# cafe's owner of the clients' owner's-view journeys and of Schemathesis' third pass.
STAFF_USERNAME="ci_staff_$(date +%s)"
STAFF_PASSWORD="Staff-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
STAMPCARD_PASSWORD="$STAFF_PASSWORD" "$BIN" user create --username "$STAFF_USERNAME" --role staff
echo "staff user $STAFF_USERNAME created"
ADMIN_USERNAME="ci_admin_$(date +%s)"
ADMIN_PASSWORD="Admin-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
STAMPCARD_PASSWORD="$ADMIN_PASSWORD" "$BIN" user create --username "$ADMIN_USERNAME" --role admin
echo "admin user $ADMIN_USERNAME created"

# --- 1. Postman collection ------------------------------------------------------------------

section "newman: postman/stampcard.postman_collection.json $(elapsed)"
check "newman" "$NEWMAN" run postman/stampcard.postman_collection.json \
    --environment postman/stampcard.postman_environment.json \
    --env-var "baseUrl=$BASE_URL" \
    --env-var "staffUsername=$STAFF_USERNAME" \
    --env-var "staffPassword=$STAFF_PASSWORD" \
    --env-var "adminUsername=$ADMIN_USERNAME" \
    --env-var "adminPassword=$ADMIN_PASSWORD" \
    --reporters cli --color off --timeout-request 15000

# --- 2. curl journeys -----------------------------------------------------------------------

section "curl journeys: examples/curl/*.sh $(elapsed)"
# reauthentication.sh and owners-view.sh show what a session whose password proof is older than
# STAMPCARD_REAUTH_WINDOW gets (403 reauthentication_required, for a profile change and for the
# CSV export) when they know the server's window is short. The server above keeps the default 10
# minutes (the other clients change profiles right after logging in, and Schemathesis needs the
# staff session's proof for a while), so those journeys talk to a second instance on the same
# database with a 5-second window.
SHORT_WINDOW=5
SHORT_PORT="$(free_port)"
SHORT_URL="http://127.0.0.1:$SHORT_PORT"
STAMPCARD_ADDR="127.0.0.1:$SHORT_PORT" STAMPCARD_PUBLIC_URL="$SHORT_URL" STAMPCARD_REAUTH_WINDOW="$SHORT_WINDOW" \
    "$BIN" serve >"$TMP/server-short-window.log" 2>&1 &
SHORT_PID=$!
for _ in $(seq 1 120); do
    if curl -fsS -o /dev/null "$SHORT_URL/readyz" 2>/dev/null; then break; fi
    kill -0 "$SHORT_PID" 2>/dev/null || break
    sleep 0.5
done
curl -fsS -o /dev/null "$SHORT_URL/readyz" \
    || { echo "error: the second instance never became ready" >&2; cat "$TMP/server-short-window.log" >&2; exit 1; }
echo "a second instance with STAMPCARD_REAUTH_WINDOW=$SHORT_WINDOW on $SHORT_URL (pid $SHORT_PID)"

for journey in examples/curl/*.sh; do
    [ "$(basename "$journey")" = lib.sh ] && continue
    echo "--- $journey"
    url="$BASE_URL" window=""
    case "$(basename "$journey")" in
        reauthentication.sh | owners-view.sh) url="$SHORT_URL" window="$SHORT_WINDOW" ;;
    esac
    check "curl $journey" env STAMPCARD_URL="$url" STAMPCARD_PUBLIC_URL="$url" STAMPCARD_REAUTH_WINDOW="$window" \
        STAFF_USERNAME="$STAFF_USERNAME" STAFF_PASSWORD="$STAFF_PASSWORD" \
        ADMIN_USERNAME="$ADMIN_USERNAME" ADMIN_PASSWORD="$ADMIN_PASSWORD" bash "$journey"
done

kill -TERM "$SHORT_PID"
short_status=0
wait "$SHORT_PID" || short_status=$?
SHORT_PID=""
[ "$short_status" = 0 ] || { echo "error: the second instance exited with $short_status after SIGTERM" >&2; exit 1; }

# --- 3. Schemathesis ------------------------------------------------------------------------

section "schemathesis: fixtures $(elapsed)"
# Schemathesis reads the repository's openapi.yaml, the document under test. A release build of
# this tree serves the very same file (it is compiled in); a prebuilt STAMPCARD_BIN may serve
# another version of it, and is then checked against this one.
curl -fsS -o "$TMP/served-openapi.yaml" "$BASE_URL/openapi.yaml"
if cmp -s "$TMP/served-openapi.yaml" "$ROOT/openapi.yaml"; then
    echo "the server serves this openapi.yaml"
elif [ -n "${STAMPCARD_BIN:-}" ]; then
    echo "note: $BIN serves another openapi.yaml than this tree's; Schemathesis checks it against this one"
else
    echo "error: the server built from this tree does not serve its openapi.yaml" >&2
    exit 1
fi
# log_in USERNAME PASSWORD: prints the stampcard_session cookie of a fresh login.
log_in() {
    local jar="$TMP/login.cookies"
    rm -f "$jar"
    curl -fsS -o /dev/null -c "$jar" -H 'Content-Type: application/json' \
        --data-binary "$(jq -n --arg u "$1" --arg p "$2" '{username: $u, password: $p}')" \
        "$BASE_URL/api/v1/sessions"
    awk '$6 == "stampcard_session" { print $7 }' "$jar"
}
STAFF_COOKIE="$(log_in "$STAFF_USERNAME" "$STAFF_PASSWORD")"
[ -n "$STAFF_COOKIE" ] || { echo "error: the staff login set no stampcard_session cookie" >&2; exit 1; }
# A customer with a phone number, so that the stamp operations also reach their success paths
# (201 stamp/redemption, 200 card) instead of only 404 customer_not_found: Schemathesis draws the
# `phone` of queries and bodies from this customer's number half of the time.
FIXTURE_USERNAME="ci_customer_$(date +%s)"
FIXTURE_PASSWORD="Customer-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
FIXTURE_PHONE="010-7$(printf '%03d' $((RANDOM % 1000)))-$(printf '%04d' $((RANDOM % 10000)))"
curl -fsS -o /dev/null -H 'Content-Type: application/json' \
    --data-binary "$(jq -n --arg u "$FIXTURE_USERNAME" --arg p "$FIXTURE_PASSWORD" --arg ph "$FIXTURE_PHONE" \
        '{username: $u, password: $p, phone: $ph}')" \
    "$BASE_URL/api/v1/users"
CUSTOMER_COOKIE="$(log_in "$FIXTURE_USERNAME" "$FIXTURE_PASSWORD")"
[ -n "$CUSTOMER_COOKIE" ] || { echo "error: the customer login set no stampcard_session cookie" >&2; exit 1; }
echo "staff $STAFF_USERNAME and customer $FIXTURE_USERNAME ($FIXTURE_PHONE) logged in"

# The session goes to Schemathesis through its OpenAPI-aware auth (the `devSessionCookie` security
# scheme of the spec), not as a raw `-H "Cookie: ..."` header: a raw header goes out with every
# request, so (a) Schemathesis' negative tests that leave the security cookie out still carry it
# and then fail as "schema-violating request accepted", and (b) the public operations (signup,
# login, logout: `security: []`) would carry the staff cookie and replace or delete that session
# (signup and login renew the caller's session, logout deletes it). Through the scheme the cookie
# goes only to the operations that declare it.
#
# Checks: all of them (Schemathesis 4's default). One is narrowed, not excluded:
# positive_data_acceptance expects schema-valid requests to succeed (or 401/403/404/409), but our
# validation is partly beyond what JSON Schema can say: a phone number must be a real number, a
# password must not be common or similar to the username, an email must have a valid domain, and
# a paging cursor is opaque (any string is schema-valid, only the server's own cursors are good),
# and an Idempotency-Key that Schemathesis happens to reuse with another body is rightly 422
# idempotency_key_reused. So 422 counts as acceptable everywhere, and 400 on the four paged
# operations and on GET /api/v1/stamps (whose `phone` and `card_code` are each optional, but
# both at once are 400 malformed_request: a rule no parameter schema can state).
#
# The live card stream never ends by itself: Schemathesis reads an event stream until
# max-stream-events events arrived or the request timeout passed. The first event (the card) comes
# at once and the next only when the card changes, so one event is read, and each stream request
# takes milliseconds instead of the timeout.
st_config() {
    cat <<TOML
# Nothing persists between runs (reproducibility; no .schemathesis/ left behind).
cache.enabled = false
max-stream-events = 1

[auth.openapi.devSessionCookie]
api_key = "$1"

[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]

[[operations]]
include-operation-id = ["listUsers", "listSessions", "listStampEvents", "listAudit", "getCard"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "422", "429", "5xx"]

[dictionaries.phones]
values = ["$FIXTURE_PHONE"]

[parameters]
"query.phone" = { dictionary = "phones", probability = 0.5 }
"body.phone" = { dictionary = "phones", probability = 0.5 }
TOML
}
st_config "$STAFF_COOKIE" >"$TMP/schemathesis-staff.toml"
st_config "$CUSTOMER_COOKIE" >"$TMP/schemathesis-customer.toml"

still_logged_in() {
    curl -fsS -o /dev/null -H "Cookie: stampcard_session=$1" "$BASE_URL/api/v1/sessions/current"
}

# A bounded number of cases per operation and phase, a fixed seed and one worker keep runs
# reproducible and short.
# (Run from $TMP so that Hypothesis leaves no .hypothesis/ in the repository.)
st_run() {
    local config="$1"
    shift
    (cd "$TMP" && "$ST" --config-file "$config" run "$ROOT/openapi.yaml" --url "$BASE_URL" \
        --checks all \
        --max-examples "$SCHEMATHESIS_MAX_EXAMPLES" --seed "$SCHEMATHESIS_SEED" --generation-database none \
        --workers 1 --request-timeout 15 --no-color \
        "$@")
}

# Pass 1, as the staff user, every operation except the four that could end or replace the staff
# session in the middle of the run: DELETE /api/v1/users/me (would delete the staff user once
# the password were right), PUT /api/v1/users/me/password and POST
# /api/v1/sessions/current/reauthentication (each re-keys the session once the password is
# right: the cookie Schemathesis holds would be anonymous from then on) and DELETE
# /api/v1/sessions/{id} (the stateful phase finds the current session's id in
# GET /api/v1/sessions/current and revoking it is a logout). After that, every guarded operation
# would answer 401 and the rest of the run would test nothing.
#
# The limits of "what anyone can make the server do" hold here as everywhere: every request
# comes from 127.0.0.1, so after the reset and verification requests of newman and the journeys,
# Schemathesis' own soon pass the 10 per client address an hour, and the rest are 429
# too_many_attempts (documented on both operations, and accepted by positive_data_acceptance
# above); so are wrong tokens and logins past the address's 100 failures in 15 minutes.
# Give the customer two free coffees, so that pass 1 also sees successful redemptions (staff
# redeem by the phone number Schemathesis draws from the dictionary; customers no longer redeem).
for _ in 1 2; do
    curl -fsS -o /dev/null -H "Cookie: stampcard_session=$STAFF_COOKIE" -H 'Content-Type: application/json' \
        --data-binary "$(jq -n --arg ph "$FIXTURE_PHONE" '{phone: $ph, count: 10}')" "$BASE_URL/api/v1/stamps" \
        || echo "warning: could not stamp the customer's card" >&2
done

section "schemathesis pass 1: everything but the session-ending operations, as staff $(elapsed)"
check "schemathesis pass 1 (staff)" st_run "$TMP/schemathesis-staff.toml" \
    --exclude-operation-id deleteMe \
    --exclude-operation-id changePassword \
    --exclude-operation-id reauthenticate \
    --exclude-operation-id revokeSession
# The staff session must have survived pass 1, or most of it tested only 401s.
check "the staff session survived pass 1" still_logged_in "$STAFF_COOKIE"
echo "the fixture customer's card after pass 1 (stamped by Schemathesis as staff):"
curl -fsS -H "Cookie: stampcard_session=$CUSTOMER_COOKIE" "$BASE_URL/api/v1/stamps" | jq -c . || true

# Pass 2, as the customer: the four session-ending operations (Schemathesis cannot know the
# password, so deletion, password change and re-authentication answer 403 invalid_password or
# 422, and 429 once the account is locked after 10 wrong ones; without GET /api/v1/sessions in
# this pass it has no session id but random ones: 404), plus the stamp operations from the
# customer's side (403 for stamping, for redemptions, for voids and for ?phone= and ?card_code=;
# the own card, its history, its card codes (429 after 20 in 10 minutes) and its stream), and phone
# verification, which needs an account with a phone (the staff user has none: 422 in pass 1):
# a code is sent, then 429 for a minute (one code to a number per 60 s, three an hour), and
# random codes are 422 invalid_code, then 429 after 10 wrong codes for the number in an hour.
section "schemathesis pass 2: session-ending, stamp and phone operations, as a customer $(elapsed)"
check "schemathesis pass 2 (customer)" st_run "$TMP/schemathesis-customer.toml" \
    --include-operation-id deleteMe \
    --include-operation-id changePassword \
    --include-operation-id reauthenticate \
    --include-operation-id revokeSession \
    --include-operation-id getCard \
    --include-operation-id listStampEvents \
    --include-operation-id addStamps \
    --include-operation-id redeem \
    --include-operation-id voidStampEvent \
    --include-operation-id makeCardCode \
    --include-operation-id streamCard \
    --include-operation-id requestPhoneCode \
    --include-operation-id confirmPhoneCode
# The customer's session must have survived pass 2, or it tested only 401s.
check "the customer session survived pass 2" still_logged_in "$CUSTOMER_COOKIE"

# Pass 3, as an admin: the owner's view (the reports, the CSV export and the audit log, which
# passes 1 and 2 saw answer 403 only) and voids, which admins may make of any event (the events
# of the stateful phase's stamps). The admin logs in only now: the export needs a password proof
# younger than STAMPCARD_REAUTH_WINDOW (10 minutes here), and a login is one.
ADMIN_COOKIE="$(log_in "$ADMIN_USERNAME" "$ADMIN_PASSWORD")"
[ -n "$ADMIN_COOKIE" ] || { echo "error: the admin login set no stampcard_session cookie" >&2; exit 1; }
st_config "$ADMIN_COOKIE" >"$TMP/schemathesis-admin.toml"
section "schemathesis pass 3: the owner's view and voids, as an admin $(elapsed)"
check "schemathesis pass 3 (admin)" st_run "$TMP/schemathesis-admin.toml" \
    --include-operation-id dailyReport \
    --include-operation-id staffReport \
    --include-operation-id exportEvents \
    --include-operation-id listAudit \
    --include-operation-id listStampEvents \
    --include-operation-id addStamps \
    --include-operation-id voidStampEvent
check "the admin session survived pass 3" still_logged_in "$ADMIN_COOKIE"

# --- 4. graceful shutdown -------------------------------------------------------------------

section "graceful shutdown (SIGTERM) $(elapsed)"
kill -TERM "$SERVER_PID"
for _ in $(seq 1 60); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.5
done
if kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "error: the server was still running 30s after SIGTERM" >&2
    kill -KILL "$SERVER_PID"
    exit 1
fi
server_status=0
wait "$SERVER_PID" || server_status=$?
SERVER_PID=""
if [ "$server_status" != 0 ]; then
    echo "error: the server exited with $server_status after SIGTERM (expected 0)" >&2
    exit 1
fi
echo "the server stopped with exit code 0"
if grep -Eq "ERROR|panicked" "$TMP/server.log"; then
    # For information: failures that reached a client were caught above. (Schemathesis' probe for
    # NUL bytes in headers shows up here as actix's "request parse error".)
    echo "--- errors in the server log:"
    grep -E "ERROR|panicked" "$TMP/server.log" | tail -n 20
fi

if [ "${#FAILED_STEPS[@]}" -gt 0 ]; then
    section "FAILED"
    printf '  - %s\n' "${FAILED_STEPS[@]}" >&2
    exit 1
fi
