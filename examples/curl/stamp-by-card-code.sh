#!/usr/bin/env bash
# Journey: stamp by card code. At the counter nobody says their phone number aloud or types 11
# digits while the queue waits: the customer's screen shows a card code (a QR code of 8 digits,
# good for 120 seconds), and the barista scans it (a camera or a handheld scanner types the digits)
# and stamps. Stamping does not use the code up; a new code ends the old one.
#
# Needs a staff account, which only an admin or the command line can create:
#
#     STAMPCARD_PASSWORD='...' stampcard user create --username barista --role staff
#     STAFF_USERNAME=barista STAFF_PASSWORD='...' examples/curl/stamp-by-card-code.sh
set -euo pipefail
# shellcheck source=examples/curl/lib.sh
. "$(dirname "$0")/lib.sh"

need_account STAFF staff

journey "Stamp by card code: the customer shows a code, the barista scans it"

suffix="$(unique_suffix)"
username="customer_$suffix"
password="$(random_password Macchiato)"
phone="$(random_mobile)"
phone_e164="$(e164_from_mobile "$phone")"
customer="$(new_jar customer)"   # the customer's phone
counter="$(new_jar counter)"     # the till at the counter
staff_login="$(login_body STAFF)"

# other_code CODE: the same 8 digits with the last one changed (a mistyped code).
other_code() {
    printf '%s%d\n' "${1:0:7}" "$(((${1:7:1} + 1) % 10))"
}

step "The customer signs up with their phone number"
api "$customer" POST /api/v1/users 201 \
    "{\"username\": \"$username\", \"password\": \"$password\", \"phone\": \"$phone\"}"
expect .role customer

step "The customer's screen asks for a card code (shown as a QR code and as digits)"
api "$customer" POST /api/v1/stamps/card-code 201
code="$(field .code)"
[[ "$code" =~ ^[0-9]{8}$ ]] || fail "the card code is not 8 digits: $code"
expect_header Cache-Control no-store
printf '   %s✓ code %s, expires at %s%s\n' "$_green" "$code" "$(field .expires_at)" "$_reset"

step "A customer cannot stamp, not even with their own code"
api "$customer" POST /api/v1/stamps 403 "{\"card_code\": \"$code\"}"
expect .code forbidden

step "The barista logs in at the counter"
api "$counter" POST /api/v1/sessions 201 "$staff_login"
expect .user.role staff

step "The barista scans the code and stamps 2 coffees (an Idempotency-Key makes a retry safe)"
key="stamp-$suffix-1"
api "$counter" POST /api/v1/stamps 201 "{\"card_code\": \"$code\", \"count\": 2}" -H "Idempotency-Key: $key"
expect .card.phone "$phone_e164"
expect .card.balance 2
expect .event.kind earned
expect .event.by.username "$STAFF_USERNAME"

step "The till retries the same request: replayed, not stamped twice"
api "$counter" POST /api/v1/stamps 201 "{\"card_code\": \"$code\", \"count\": 2}" -H "Idempotency-Key: $key"
expect_header Idempotent-Replayed true
expect .card.balance 2

step "Stamping does not use the code up: the next coffee with the same code"
api "$counter" POST /api/v1/stamps 201 "{\"card_code\": \"$code\"}"
expect .card.balance 3

step "The barista looks the card up by the code"
api "$counter" GET "/api/v1/stamps?card_code=$code" 200
expect .phone "$phone_e164"
expect .balance 3

step "Exactly one of phone and card_code: both (or neither) is 422"
api "$counter" POST /api/v1/stamps 422 "{\"phone\": \"$phone\", \"card_code\": \"$code\"}"
expect .code validation_failed
expect '[.errors[] | .field] | sort | join(",")' card_code,phone
expect '[.errors[] | .code] | unique | join(",")' one_of

step "A code that is not 8 digits is 422"
api "$counter" POST /api/v1/stamps 422 '{"card_code": "1234"}'
expect '.errors[0].field' card_code
expect '.errors[0].code' invalid_format

step "A mistyped code finds nobody: 404 card_code_not_found (at most 20 such per staff account in 10 minutes)"
api "$counter" POST /api/v1/stamps 404 "{\"card_code\": \"$(other_code "$code")\"}"
expect .code card_code_not_found

step "The customer's screen renews the code before it expires: the new code ends the old one"
api "$customer" POST /api/v1/stamps/card-code 201
new_code="$(field .code)"
if [ "$new_code" != "$code" ]; then
    api "$counter" POST /api/v1/stamps 404 "{\"card_code\": \"$code\"}"
    expect .code card_code_not_found
fi
api "$counter" POST /api/v1/stamps 201 "{\"card_code\": \"$new_code\"}"
expect .card.balance 4

step "The customer sees the stamps (who made them is for staff eyes only)"
api "$customer" GET /api/v1/stamps/events 200
expect '.items | length' 3
expect '.items[0].kind' earned
expect '.items[0].by' null
expect '[.items[].count] | add' 4

step "Both log out"
api "$counter" DELETE /api/v1/sessions/current 204
api "$customer" DELETE /api/v1/sessions/current 204

done_journey
