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
# Needs curl and jq (and, for the journeys that read mail, base64 and perl).

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

# need_account NAME ROLE: stop unless NAME_USERNAME and NAME_PASSWORD (STAFF_USERNAME, ...) are
# set, to an account of ROLE, which only an admin or the command line can make.
need_account() {
    local user="$1_USERNAME" pass="$1_PASSWORD"
    if [ -z "${!user:-}" ] || [ -z "${!pass:-}" ]; then
        echo "error: set $user and $pass to a $2 account" \
            "(create one with: STAMPCARD_PASSWORD=... stampcard user create --username NAME --role $2)" >&2
        exit 2
    fi
}

# login_body NAME: the login request of NAME_USERNAME and NAME_PASSWORD, as JSON.
login_body() {
    local user="$1_USERNAME" pass="$1_PASSWORD"
    jq -n --arg u "${!user}" --arg p "${!pass}" '{username: $u, password: $p}'
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

# cookie_value JAR: prints the value of the session cookie in a curl cookie jar (stampcard_session
# in dev mode, __Host-stampcard_session otherwise; HttpOnly cookies are stored with a
# "#HttpOnly_" prefix on the domain column).
cookie_value() {
    awk '$6 == "stampcard_session" || $6 == "__Host-stampcard_session" { print $7 }' "$1" | tail -n 1
}

# --- mail -------------------------------------------------------------------------------------
# For the journeys that read the mail the server sent: STAMPCARD_MAILDIR is the Maildir of the
# SMTP server that the server's STAMPCARD_SMTP_URL points to (CI: aiosmtpd, see .ci/clients.sh).
# Links in mails start with the server's STAMPCARD_PUBLIC_URL (default here: STAMPCARD_URL).
# Any one address receives at most 3 mails an hour of every kind together (reset links,
# verification links, notices): a journey uses fresh addresses.

PUBLIC_URL="${STAMPCARD_PUBLIC_URL:-$STAMPCARD_URL}"
PUBLIC_URL="${PUBLIC_URL%/}"

need_maildir() {
    [ -n "${STAMPCARD_MAILDIR:-}" ] || fail "set STAMPCARD_MAILDIR to the Maildir that receives the server's mail"
}

# mails_to ADDRESS: prints the paths of the mails in $STAMPCARD_MAILDIR addressed to ADDRESS.
mails_to() {
    grep -lis "^To: *<\?$1>\?\r\?$" "$STAMPCARD_MAILDIR"/new/* "$STAMPCARD_MAILDIR"/cur/* || true
}

# mail_text FILE: the body of a mail as text, decoded from quoted-printable (soft line breaks and
# =XX escapes) or base64, whichever the mail says it uses.
mail_text() {
    local encoding
    encoding="$(sed -n -e '/^\r\?$/q' -e 's/^Content-Transfer-Encoding: *\([^[:space:]]*\).*/\1/Ip' "$1" \
        | tr 'A-Z' 'a-z')"
    case "$encoding" in
        base64)
            sed -e '1,/^\r\?$/d' -e 's/\r$//' "$1" | base64 -d ;;
        quoted-printable)
            sed -e '1,/^\r\?$/d' -e 's/\r$//' "$1" | sed -e ':a' -e '/=$/{N;s/=\n//;ba' -e '}' \
                | perl -pe 's/=([0-9A-Fa-f]{2})/chr(hex($1))/ge' ;;
        *)
            sed -e '1,/^\r\?$/d' -e 's/\r$//' "$1" ;;
    esac
}

# mailed_token ADDRESS PAGE [OLD_TOKEN...]: waits up to 30 seconds (the server's outbox worker
# sends in the background) for a mail to ADDRESS with a link <public URL>/PAGE#token=<token>
# whose token is none of OLD_TOKEN, checks that the link starts with the public URL and that the
# token is 64 hex digits, and prints the token. Fails if no such mail comes, or two do.
mailed_token() {
    local address="$1" page="$2" file link token old seen
    shift 2
    local found=()
    for _ in $(seq 1 150); do
        found=()
        for file in $(mails_to "$address"); do
            link="$(mail_text "$file" | grep -o "https\?://[^[:space:]]*/$page#token=[^[:space:]]*" | head -n 1 || true)"
            [ -n "$link" ] || continue
            token="${link#*#token=}"
            seen=""
            for old in "$@"; do
                [ "$token" = "$old" ] && seen=1
            done
            [ -n "$seen" ] || found+=("$file $link")
        done
        [ "${#found[@]}" -gt 0 ] && break
        sleep 0.2
    done
    [ "${#found[@]}" -gt 0 ] || fail "no new mail to $address with a /$page link arrived in $STAMPCARD_MAILDIR within 30 seconds"
    [ "${#found[@]}" = 1 ] || fail "more than one new mail to $address with a /$page link: ${found[*]}"
    file="${found[0]%% *}"
    link="${found[0]#* }"
    printf '%s%s%s\n' "$_dim" "$file" "$_reset" >&2
    case "$link" in
        "$PUBLIC_URL/$page#token="*) ;;
        *) fail "the link does not start with $PUBLIC_URL/$page#token=: $link" ;;
    esac
    token="${link#*#token=}"
    [[ "$token" =~ ^[0-9a-f]{64}$ ]] || fail "the token is not 64 hex digits: $token"
    printf '   %s✓ %s/%s#token=%s…%s\n' "$_green" "$PUBLIC_URL" "$page" "${token:0:8}" "$_reset" >&2
    printf '%s\n' "$token"
}

# mail_with ADDRESS TEXT: waits up to 30 seconds for a mail to ADDRESS whose body contains TEXT
# and prints its path (the first such mail).
mail_with() {
    local file
    for _ in $(seq 1 150); do
        for file in $(mails_to "$1"); do
            if mail_text "$file" | grep -qF -- "$2"; then
                printf '%s\n' "$file"
                return
            fi
        done
        sleep 0.2
    done
    fail "no mail to $1 containing '$2' arrived in $STAMPCARD_MAILDIR within 30 seconds"
}

# done_journey: the closing line.
done_journey() {
    printf '\n%sOK: journey finished%s\n' "$_green" "$_reset"
}
