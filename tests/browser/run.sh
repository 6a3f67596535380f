#!/usr/bin/env bash
# The web app's tests in a real browser (Playwright + Debian's Chromium), against a built binary.
#
# Starts a throwaway PostgreSQL cluster, a real SMTP server (aiosmtpd from PyPI, in a virtual
# environment kept under tests/browser/.tools/, delivering into a Maildir), a local SMS gateway
# (sms-gateway.mjs, writing one JSON line per message), the server (dev mode, fast bcrypt, with
# both transports), a second instance of it whose STAMPCARD_ALLOWED_ORIGINS lists the tests'
# "foreign" origin (the CORS test), a third whose STAMPCARD_REAUTH_WINDOW is a few seconds (the
# password asked for in place), makes a staff and an admin user with the CLI, installs
# Chromium when /usr/bin/chromium is missing, runs `npm ci` here and then `npx playwright test`.
# Always cleans up.
#
# Environment (all optional):
#   STAMPCARD_BIN             the binary (default target/release/stampcard, from the repo root)
#   STAMPCARD_WEB_DEVSERVER=1 put tests/browser/devserver.mjs (which serves web/ from the work
#                             tree) in front of the binary; =0: the binary serves the app; unset:
#                             the binary, unless it embeds another web/ than the work tree's
#                             (built before the last change to web/): then the devserver, and a
#                             warning says so
#   STAMPCARD_BROWSER_KEEP=1  keep the temporary directory (logs) afterwards
#   STAMPCARD_BROWSER_SERVE=1 start everything, print the URLs and accounts, and wait (Ctrl-C
#                             stops it) instead of running the tests: for working on the app
#   Arguments are passed to `playwright test` (a file, -g 'pattern', --workers=1 ...).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
HERE="$ROOT/tests/browser"
started_at=$SECONDS
section() { printf '\n===== %s (%ds) =====\n' "$*" "$((SECONDS - started_at))"; }

BIN="${STAMPCARD_BIN:-target/release/stampcard}"
case "$BIN" in /*) ;; *) BIN="$ROOT/$BIN" ;; esac
[ -x "$BIN" ] || { echo "error: no stampcard binary at $BIN (set STAMPCARD_BIN)" >&2; exit 1; }

TMP="$(mktemp -d /tmp/stampcard-browser.XXXXXX)"
chmod 755 "$TMP"
PIDS=()
# shellcheck source=.ci/throwaway_pg.sh
. "$ROOT/.ci/throwaway_pg.sh"

cleanup() {
    local status=$?
    set +e
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    if [ "$status" != 0 ]; then
        for log in "$TMP"/server*.log "$TMP"/devserver*.log "$TMP/smtp.log" "$TMP/sms.log"; do
            [ -s "$log" ] && { echo "--- last lines of $log"; tail -n 30 "$log"; }
        done
    fi
    pg_stop
    if [ "${STAMPCARD_BROWSER_KEEP:-0}" = 1 ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
    if [ "$status" = 0 ]; then
        echo "browser tests: passed in $((SECONDS - started_at))s"
    else
        echo "browser tests: FAILED (exit $status) after $((SECONDS - started_at))s" >&2
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

random_hex() { node -e "console.log(require('crypto').randomBytes($1).toString('hex'))"; }

apt_install() {
    if [ "$(id -u)" != 0 ]; then echo "error: $* missing; install it (as root: apt-get install $*)" >&2; exit 1; fi
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}

embeds_this_web() { # BIN: whether it embeds web/ as it is (assets hash, index.html, routes.json)
    node - "$1" "$ROOT/web" <<'JS'
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const [bin, web] = process.argv.slice(2);
const assets = path.join(web, 'assets');
const list = (dir, prefix = '') => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    return e.isDirectory() ? list(path.join(dir, e.name), rel) : e.isFile() ? [rel] : [];
});
// The hash build.rs (and devserver.mjs) computes: every path and its bytes, in order.
const hash = createHash('sha256');
for (const rel of list(assets).sort()) hash.update(rel).update('\0').update(fs.readFileSync(path.join(assets, rel))).update('\0');
const binary = fs.readFileSync(bin);
const wanted = [hash.digest('hex').slice(0, 16), fs.readFileSync(path.join(web, 'index.html')), fs.readFileSync(path.join(web, 'routes.json'))];
process.exit(wanted.every((bytes) => binary.includes(bytes)) ? 0 : 1);
JS
}

wait_port() { # PORT PID LOG: until something accepts TCP connections on 127.0.0.1:PORT
    for _ in $(seq 1 120); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        kill -0 "$2" 2>/dev/null || { echo "error: the process for port $1 exited" >&2; cat "$3" >&2; exit 1; }
        sleep 0.25
    done
    echo "error: nothing listens on port $1" >&2
    exit 1
}

wait_ready() { # URL PID LOG
    for _ in $(seq 1 120); do
        curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
        kill -0 "$2" 2>/dev/null || { echo "error: the process for $1 exited" >&2; cat "$3" >&2; exit 1; }
        sleep 0.25
    done
    echo "error: $1 never became ready" >&2
    exit 1
}

# --- prerequisites ------------------------------------------------------------------------------

section "prerequisites"
for tool in curl node npm python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "error: $tool is required" >&2; exit 1; }
done
CHROMIUM="${STAMPCARD_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then apt_install chromium; fi
# Korean glyphs for the Korean screens and screenshots (the tests read the DOM, not pixels).
if command -v fc-list >/dev/null 2>&1 && [ -z "$(fc-list :lang=ko family)" ]; then apt_install fonts-nanum; fi
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || apt_install postgresql
echo "node $(node --version), npm $(npm --version), $("$CHROMIUM" --version 2>/dev/null), PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}')"
echo "binary: $BIN ($("$BIN" --version))"

section "npm ci (tests/browser)"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
(cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error)

# The SMTP server of the tests, pinned; its virtual environment is made once and kept (like
# node_modules) under tests/browser/.tools/, which git ignores.
section "aiosmtpd (tests/browser/.tools)"
AIOSMTPD_VERSION=1.4.6
VENV="$HERE/.tools/aiosmtpd-venv"
has_aiosmtpd() {
    "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('aiosmtpd') != '$AIOSMTPD_VERSION')" 2>/dev/null
}
if ! has_aiosmtpd; then
    rm -rf "$VENV"
    python3 -m venv "$VENV" || { echo "error: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2; exit 1; }
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "aiosmtpd==$AIOSMTPD_VERSION"
    has_aiosmtpd || { echo "error: aiosmtpd $AIOSMTPD_VERSION did not install" >&2; exit 1; }
fi
echo "aiosmtpd $AIOSMTPD_VERSION in $VENV"

# --- database and servers -----------------------------------------------------------------------

section "throwaway PostgreSQL cluster"
pg_start "$TMP/pgdata"
echo "PostgreSQL on 127.0.0.1:$PGPORT"

section "mail and SMS"
# Mail: aiosmtpd's Mailbox handler writes every message it receives into a Maildir.
SMTP_PORT="$(free_port)"
MAILDIR="$TMP/maildir"
"$VENV/bin/python" -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" -c aiosmtpd.handlers.Mailbox "$MAILDIR" \
    >"$TMP/smtp.log" 2>&1 &
PIDS+=($!)
wait_port "$SMTP_PORT" "$!" "$TMP/smtp.log"
echo "SMTP (aiosmtpd) on 127.0.0.1:$SMTP_PORT, delivering into $MAILDIR"
# SMS: a gateway that accepts {"to", "text"} and appends it to a file, one JSON line each.
SMS_PORT="$(free_port)"
SMS_FILE="$TMP/sms.jsonl"
SMS_ADDR="127.0.0.1:$SMS_PORT" SMS_FILE="$SMS_FILE" node "$HERE/sms-gateway.mjs" >"$TMP/sms.log" 2>&1 &
PIDS+=($!)
wait_ready "http://127.0.0.1:$SMS_PORT/healthz" "$!" "$TMP/sms.log"
echo "SMS gateway on http://127.0.0.1:$SMS_PORT/sms, writing $SMS_FILE"

section "servers"
API_PORT="$(free_port)"
CORS_PORT="$(free_port)"
FOREIGN_PORT="$(free_port)"
REAUTH_PORT="$(free_port)"
WEB_PORT="$(free_port)" # the devserver's, if there is one
REAUTH_WEB_PORT="$(free_port)" # the devserver's in front of the REAUTH instance, if there is one
# The binary embeds web/ when it is built. One built before the last change to web/ would test
# an older app: then the devserver serves web/ from the work tree in front of it (the API is
# still the binary's), and this says so. STAMPCARD_WEB_DEVSERVER=0 insists on the binary.
if [ -z "${STAMPCARD_WEB_DEVSERVER:-}" ] && ! embeds_this_web "$BIN"; then
    echo "WARNING: $BIN embeds another web/ than the work tree's (built before the last change"
    echo "         to web/): the devserver serves web/ in front of it. Rebuild to test the binary's own."
    STAMPCARD_WEB_DEVSERVER=1
fi
if [ "${STAMPCARD_WEB_DEVSERVER:-0}" = 1 ]; then
    APP_URL="http://127.0.0.1:$WEB_PORT"
    REAUTH_URL="http://127.0.0.1:$REAUTH_WEB_PORT"
else
    APP_URL="http://127.0.0.1:$API_PORT"
    REAUTH_URL="http://127.0.0.1:$REAUTH_PORT"
fi
export DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/stampcard"
export STAMPCARD_DEV=1                 # plain http on 127.0.0.1: cookies without Secure
export STAMPCARD_BCRYPT_COST=4         # the tests log in a lot
export STAMPCARD_SECRET_KEY="$(random_hex 64)" # shared: a session works on both instances
export RUST_LOG="${RUST_LOG:-warn}"
export NO_COLOR=1
export STAMPCARD_SMTP_URL="smtp://127.0.0.1:$SMTP_PORT"
export STAMPCARD_MAIL_FROM="stampcard <cafe@stampcard.test>"
export STAMPCARD_SMS_WEBHOOK_URL="http://127.0.0.1:$SMS_PORT/sms"
export STAMPCARD_PUBLIC_URL="$APP_URL"  # the links in the mails open the app the tests use
# Limits on what one client address may make the server do: every test comes from 127.0.0.1.
# One run of the suite signs up about 60 accounts (the default allows 100 an hour) and asks for
# 9 password reset and email links (the server allows 10 an hour, with no setting): so the
# defaults stay, except when serving for work on the app, where the suite may run many times
# within the hour: then signups are not limited (STAMPCARD_SIGNUPS_PER_HOUR=0, which the
# contract keeps for test and benchmark rigs), and the links run out after one run.
if [ "${STAMPCARD_BROWSER_SERVE:-0}" = 1 ]; then export STAMPCARD_SIGNUPS_PER_HOUR=0; fi

STAMPCARD_ADDR="127.0.0.1:$API_PORT" "$BIN" serve >"$TMP/server.log" 2>&1 &
PIDS+=($!)
wait_ready "http://127.0.0.1:$API_PORT/readyz" "$!" "$TMP/server.log"
echo "stampcard on http://127.0.0.1:$API_PORT"

# The same service, but listing the tests' foreign origin in STAMPCARD_ALLOWED_ORIGINS.
STAMPCARD_ADDR="127.0.0.1:$CORS_PORT" STAMPCARD_ALLOWED_ORIGINS="http://127.0.0.1:$FOREIGN_PORT" \
    "$BIN" serve >"$TMP/server-cors.log" 2>&1 &
PIDS+=($!)
wait_ready "http://127.0.0.1:$CORS_PORT/readyz" "$!" "$TMP/server-cors.log"
echo "stampcard allowing http://127.0.0.1:$FOREIGN_PORT on http://127.0.0.1:$CORS_PORT"

# The same service again, but a password proof allows sensitive changes for a few seconds
# instead of 10 minutes: the tests of the password asked for in place (specs/reauth.spec.js)
# need a session whose proof is old, and cannot wait 10 minutes. A real instance with the real
# setting, rather than a session row aged by hand in the database: the tests stay on the
# public surface (the session ages as it would, and the server alone decides it is too old).
REAUTH_WINDOW=3
STAMPCARD_ADDR="127.0.0.1:$REAUTH_PORT" STAMPCARD_REAUTH_WINDOW="$REAUTH_WINDOW" STAMPCARD_PUBLIC_URL="$REAUTH_URL" \
    "$BIN" serve >"$TMP/server-reauth.log" 2>&1 &
PIDS+=($!)
wait_ready "http://127.0.0.1:$REAUTH_PORT/readyz" "$!" "$TMP/server-reauth.log"
echo "stampcard with a ${REAUTH_WINDOW}s re-authentication window on http://127.0.0.1:$REAUTH_PORT"

if [ "${STAMPCARD_WEB_DEVSERVER:-0}" = 1 ]; then
    STAMPCARD_API="http://127.0.0.1:$API_PORT" DEVSERVER_ADDR="127.0.0.1:$WEB_PORT" \
        node "$HERE/devserver.mjs" >"$TMP/devserver.log" 2>&1 &
    PIDS+=($!)
    wait_ready "http://127.0.0.1:$WEB_PORT/healthz" "$!" "$TMP/devserver.log"
    echo "devserver (web/ from the work tree) on $APP_URL"
    STAMPCARD_API="http://127.0.0.1:$REAUTH_PORT" DEVSERVER_ADDR="127.0.0.1:$REAUTH_WEB_PORT" \
        node "$HERE/devserver.mjs" >"$TMP/devserver-reauth.log" 2>&1 &
    PIDS+=($!)
    wait_ready "http://127.0.0.1:$REAUTH_WEB_PORT/healthz" "$!" "$TMP/devserver-reauth.log"
    echo "devserver (web/ from the work tree) on $REAUTH_URL, in front of the short-window instance"
else
    code="$(curl -s -o /dev/null -w '%{http_code}' -H 'Accept: text/html' "$APP_URL/")"
    if [ "$code" != 200 ]; then
        echo "error: $APP_URL/ answers $code: this binary does not serve the web app." >&2
        echo "       Build one that does, or set STAMPCARD_WEB_DEVSERVER=1." >&2
        exit 1
    fi
fi

section "staff and admin accounts"
STAFF_USERNAME="barista_$(random_hex 3)"
STAFF_PASSWORD="steamed milk $(random_hex 6)"
ADMIN_USERNAME="owner_$(random_hex 3)"
ADMIN_PASSWORD="roast master $(random_hex 6)"
STAMPCARD_PASSWORD="$STAFF_PASSWORD" "$BIN" user create --username "$STAFF_USERNAME" --role staff >/dev/null
STAMPCARD_PASSWORD="$ADMIN_PASSWORD" "$BIN" user create --username "$ADMIN_USERNAME" --role admin >/dev/null
echo "staff $STAFF_USERNAME, admin $ADMIN_USERNAME"

export STAMPCARD_URL="$APP_URL"
export STAMPCARD_CORS_URL="http://127.0.0.1:$CORS_PORT"
export STAMPCARD_REAUTH_URL="$REAUTH_URL" STAMPCARD_REAUTH_WINDOW="$REAUTH_WINDOW"
export STAMPCARD_FOREIGN_PORT="$FOREIGN_PORT"
export STAMPCARD_STAFF_USERNAME="$STAFF_USERNAME" STAMPCARD_STAFF_PASSWORD="$STAFF_PASSWORD"
export STAMPCARD_ADMIN_USERNAME="$ADMIN_USERNAME" STAMPCARD_ADMIN_PASSWORD="$ADMIN_PASSWORD"
export STAMPCARD_CHROMIUM="$CHROMIUM"
export STAMPCARD_BIN="$BIN"             # with DATABASE_URL: the CLI, for repairs
export STAMPCARD_MAILDIR="$MAILDIR"     # the mails the server sent (Maildir: new/, cur/)
export STAMPCARD_SMS_FILE="$SMS_FILE"   # the SMS it sent, one JSON line {"to", "text", "at"} each

if [ "${STAMPCARD_BROWSER_SERVE:-0}" = 1 ]; then
    section "serving (Ctrl-C stops)"
    trap 'exit 0' INT TERM # stopping is how this mode ends, not a failure
    for var in STAMPCARD_URL STAMPCARD_CORS_URL STAMPCARD_REAUTH_URL STAMPCARD_REAUTH_WINDOW STAMPCARD_FOREIGN_PORT STAMPCARD_STAFF_USERNAME \
        STAMPCARD_STAFF_PASSWORD STAMPCARD_ADMIN_USERNAME STAMPCARD_ADMIN_PASSWORD STAMPCARD_BIN DATABASE_URL \
        STAMPCARD_MAILDIR STAMPCARD_SMS_FILE; do
        printf 'export %s=%q\n' "$var" "${!var}"
    done
    wait "${PIDS[0]}"
    exit 0
fi

section "playwright test"
cd "$HERE"
npx playwright test "$@"
