# shellcheck shell=bash
# Shared helpers for the curl journeys in this directory. Source it, do not run it:
#
#     . "$(dirname "$0")/lib.sh"
#
# Every journey talks to $STAMPCARD_URL (default http://127.0.0.1:8080), keeps each "browser"
# in its own curl cookie jar (-c to store what the server sets, -b to send it back), prints every
# step and its answer, and stops with a non-zero exit status as soon as a step answers with a
# status other than the expected one (or a checked field has another value).
#
# Needs curl and jq.

STAMPCARD_URL="${STAMPCARD_URL:-http://127.0.0.1:8080}"
STAMPCARD_URL="${STAMPCARD_URL%/}"

for tool in curl jq; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "error: $tool is required (Debian/Ubuntu: apt-get install $tool)" >&2
        exit 2
    fi
done

# One scratch directory per run for cookie jars and response bodies; removed on exit.
WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/stampcard-curl.XXXXXX")"
trap 'rm -rf "$WORK_DIR"' EXIT

# Results of the last request.
STATUS=""        # HTTP status code, e.g. 201
BODY=""          # response body as text
HEADERS_FILE="$WORK_DIR/last.headers"

if [ -t 1 ]; then
    _bold=$'\033[1m' _green=$'\033[32m' _red=$'\033[31m' _dim=$'\033[2m' _reset=$'\033[0m'
else
    _bold="" _green="" _red="" _dim="" _reset=""
fi

# journey "Title": a heading for the whole script.
journey() {
    printf '%s== %s ==%s\n' "$_bold" "$1" "$_reset"
    printf '%sserver: %s%s\n' "$_dim" "$STAMPCARD_URL" "$_reset"
}

# step "What happens next": a numbered heading for one step.
_step_no=0
step() {
    _step_no=$((_step_no + 1))
    printf '\n%s%d. %s%s\n' "$_bold" "$_step_no" "$1" "$_reset"
}

# new_jar NAME: prints the path of a fresh, empty cookie jar (one per simulated browser/device).
new_jar() {
    local jar="$WORK_DIR/$1.cookies"
    : >"$jar"
    printf '%s\n' "$jar"
}

# unique_suffix: something different on every run (the time plus randomness).
unique_suffix() {
    printf '%s%05d' "$(date +%s)" "$(((RANDOM * 32768 + RANDOM) % 100000))"
}

# random_password PREFIX: PREFIX plus 12 random hex digits (unrelated to the username, so the
# "too similar to the username" rule never bites).
random_password() {
    printf '%s-%s!\n' "$1" "$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
}

# random_mobile: a random, valid Korean mobile number in the usual local format, 010-XXXX-XXXX.
# (The first digit of the middle block avoids 0, 1 and 5, whose ranges are partly unassigned.)
random_mobile() {
    local firsts=(2 3 4 6 7 8 9)
    printf '010-%d%03d-%04d' "${firsts[$((RANDOM % 7))]}" "$((RANDOM % 1000))" "$((RANDOM % 10000))"
}

# e164_from_mobile 010-1234-5678 -> +821012345678
e164_from_mobile() {
    local digits="${1//-/}"
    printf '+82%s\n' "${digits#0}"
}

# fail MESSAGE: explain and stop (the answer has been printed already).
fail() {
    printf '%sFAILED:%s %s\n' "$_red" "$_reset" "$1" >&2
    exit 1
}

_mask_passwords='walk(if type == "object" then with_entries(if (.key | test("password")) and (.value | type) == "string" then .value = "•••" else . end) else . end)'

# api JAR METHOD PATH EXPECTED_STATUS [JSON_BODY] [extra curl arguments...]
#
# Sends one request with the cookie jar JAR (use "-" for none), prints it and its answer, and
# fails the script unless the status is EXPECTED_STATUS. Pass "" as JSON_BODY for no body.
# The answer is left in $STATUS, $BODY and $HEADERS_FILE.
api() {
    local jar="$1" method="$2" path="$3" expected="$4" data="${5-}"
    shift 4
    if [ "$#" -gt 0 ]; then shift; fi
    local args=(-sS -X "$method" -o "$WORK_DIR/last.body" -D "$HEADERS_FILE" -w '%{http_code}'
        -H 'Accept: application/json')
    if [ "$jar" != "-" ]; then
        args+=(-b "$jar" -c "$jar")
    fi
    if [ -n "$data" ]; then
        args+=(-H 'Content-Type: application/json' --data-binary "$data")
    fi
    printf '%s→ %s %s%s' "$_dim" "$method" "$path" "$_reset"
    local arg
    for arg in "$@"; do
        case "$arg" in -H) ;; *) printf ' %s[%s]%s' "$_dim" "$arg" "$_reset" ;; esac
    done
    printf '\n'
    if [ -n "$data" ]; then
        # Passwords are not echoed to the terminal (or a CI log).
        printf '%s%s%s\n' "$_dim" "$(printf '%s' "$data" | jq -c "$_mask_passwords" 2>/dev/null \
            || printf '%s' "$data")" "$_reset"
    fi
    STATUS="$(curl "${args[@]}" "$@" "$STAMPCARD_URL$path")" || fail "curl could not reach $STAMPCARD_URL$path"
    BODY="$(cat "$WORK_DIR/last.body")"
    if [ "$STATUS" = "$expected" ]; then
        printf '%s← %s%s\n' "$_green" "$STATUS" "$_reset"
    else
        printf '%s← %s%s\n' "$_red" "$STATUS" "$_reset"
    fi
    if [ -n "$BODY" ]; then
        printf '%s\n' "$BODY" | jq . 2>/dev/null || printf '%s\n' "$BODY"
    fi
    if [ "$STATUS" != "$expected" ]; then
        fail "$method $path answered $STATUS, expected $expected"
    fi
}

# field JQ_FILTER: prints a value of the last JSON answer (raw strings).
field() {
    printf '%s' "$BODY" | jq -r "$1"
}

# expect JQ_FILTER VALUE: fails unless the last answer's value is VALUE (compared as text;
# null prints as "null").
expect() {
    local actual
    actual="$(printf '%s' "$BODY" | jq -r "$1")" || fail "answer is not JSON"
    if [ "$actual" != "$2" ]; then
        fail "expected $1 to be '$2', got '$actual'"
    fi
    printf '   %s✓ %s = %s%s\n' "$_green" "$1" "$2" "$_reset"
}

# header NAME: prints the value of a response header of the last answer (first one).
header() {
    grep -i "^$1:" "$HEADERS_FILE" | head -n 1 | cut -d: -f2- | sed 's/^ *//' | tr -d '\r'
}

# expect_header NAME VALUE: fails unless the last answer carried NAME: VALUE.
expect_header() {
    local actual
    actual="$(header "$1")"
    if [ "$actual" != "$2" ]; then
        fail "expected header $1: $2, got '$actual'"
    fi
    printf '   %s✓ %s: %s%s\n' "$_green" "$1" "$2" "$_reset"
}

# done_journey: the closing line.
done_journey() {
    printf '\n%sOK: journey finished%s\n' "$_green" "$_reset"
}
