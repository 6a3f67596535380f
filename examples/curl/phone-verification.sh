#!/usr/bin/env bash
# Journey: a customer proves the phone number of the account with the code sent by SMS; a new
# number is unproven again.
#
# Reads the SMS the server sent: STAMPCARD_SMS_LOG is a file with one JSON object per line, each
# a body that the server POSTed to its STAMPCARD_SMS_WEBHOOK_URL ({"to": "+8210...", "text":
# "..."}; CI: a small gateway in .ci/clients.sh writes it).
set -euo pipefail
# shellcheck source=examples/curl/lib.sh
. "$(dirname "$0")/lib.sh"

[ -n "${STAMPCARD_SMS_LOG:-}" ] || fail "set STAMPCARD_SMS_LOG to the file of the SMS the server sent (one JSON object a line)"
[ -f "$STAMPCARD_SMS_LOG" ] || fail "no such file: $STAMPCARD_SMS_LOG"

journey "Verify my phone: a code by SMS"

suffix="$(unique_suffix)"
username="customer_$suffix"
password="$(random_password Cortado)"
mobile="$(random_mobile)"
mobile_e164="$(e164_from_mobile "$mobile")"
me="$(new_jar me)"

# code_sent_to NUMBER AFTER_LINE: prints the six-digit code of the first SMS to NUMBER in
# $STAMPCARD_SMS_LOG after line AFTER_LINE, waiting up to 30 seconds for it (the server's outbox
# worker sends it in the background).
code_sent_to() {
    local text
    for _ in $(seq 1 150); do
        text="$(tail -n "+$(($2 + 1))" "$STAMPCARD_SMS_LOG" \
            | jq -r --arg to "$1" 'select(.to == $to) | .text' | head -n 1)"
        if [ -n "$text" ]; then
            printf '%s%s%s\n' "$_dim" "$(jq -cn --arg to "$1" --arg text "$text" '{to: $to, text: $text}')" "$_reset" >&2
            [[ "$text" =~ (^|[^0-9])([0-9]{6})([^0-9]|$) ]] || fail "no six-digit code in the SMS: $text"
            printf '%s\n' "${BASH_REMATCH[2]}"
            return
        fi
        sleep 0.2
    done
    fail "no SMS to $1 arrived in $STAMPCARD_SMS_LOG within 30 seconds"
}

step "Sign up with a phone number: not verified yet"
api "$me" POST /api/v1/users 201 \
    "$(jq -n --arg u "$username" --arg p "$password" --arg ph "$mobile" '{username: $u, password: $p, phone: $ph}')"
expect .phone "$mobile_e164"
expect .phone_verified false

step "Ask for a code (no body needed)"
sms_before="$(wc -l <"$STAMPCARD_SMS_LOG")"
api "$me" POST /api/v1/users/me/phone-verification 202
expect .phone "$mobile_e164"
expect .expires_in 600

step "The SMS arrives with a six-digit code"
code="$(code_sent_to "$mobile_e164" "$sms_before")"
printf '   %s✓ code %s%s\n' "$_green" "$code" "$_reset"

step "A wrong code is refused (and counts as one of five tries)"
wrong="$(printf '%06d' $(((10#$code + 1) % 1000000)))"
api "$me" POST /api/v1/users/me/phone-verification/confirm 422 "$(jq -n --arg c "$wrong" '{code: $c}')"
expect .code invalid_code

step "The right code proves the phone"
api "$me" POST /api/v1/users/me/phone-verification/confirm 200 "$(jq -n --arg c "$code" '{code: $c}')"
expect .username "$username"
expect .phone "$mobile_e164"
expect .phone_verified true

step "My account says so"
api "$me" GET /api/v1/users/me 200
expect .phone_verified true

step "A new phone number is not verified"
new_mobile="$(random_mobile)"
api "$me" PATCH /api/v1/users/me 200 "$(jq -n --arg ph "$new_mobile" '{phone: $ph}')"
expect .phone "$(e164_from_mobile "$new_mobile")"
expect .phone_verified false

step "The old number's code is no good for it"
api "$me" POST /api/v1/users/me/phone-verification/confirm 422 "$(jq -n --arg c "$code" '{code: $c}')"
expect .code invalid_code

step "Without a phone there is nothing to verify"
api "$me" PATCH /api/v1/users/me 200 '{"phone": null}'
expect .phone null
expect .phone_verified false
api "$me" POST /api/v1/users/me/phone-verification 422
expect .code validation_failed
expect '.errors[0].field' phone
expect '.errors[0].code' required

step "Log out"
api "$me" DELETE /api/v1/sessions/current 204

done_journey
