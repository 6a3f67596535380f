#!/usr/bin/env bash
# Journey: redeem at the counter. A customer signs up, a staff member stamps the card ten times
# by phone (one free coffee), and the reward is redeemed where it cannot be faked: from the
# barista's screen. The customer's own phone cannot redeem (403: a screenshot could); it shows a
# card code instead, the barista scans it and redeems, the redemption uses the code up, and a
# second redemption is refused.
#
# Needs a staff account, which only an admin or the command line can create:
#
#     STAMPCARD_PASSWORD='...' stampcard user create --username barista --role staff
#     STAFF_USERNAME=barista STAFF_PASSWORD='...' examples/curl/redeem-at-the-counter.sh
#
# (Redeeming by phone number works too while the server's STAMPCARD_REDEEM_BY_PHONE is on, the
# default; this journey redeems by card code, which works either way.)
set -euo pipefail
# shellcheck source=examples/curl/lib.sh
. "$(dirname "$0")/lib.sh"

need_account STAFF staff

journey "Redeem at the counter: the barista's screen, not the customer's, gives the free coffee"

suffix="$(unique_suffix)"
username="customer_$suffix"
password="$(random_password Cortado)"
phone="$(random_mobile)"
phone_e164="$(e164_from_mobile "$phone")"
customer="$(new_jar customer)"   # the customer's phone
counter="$(new_jar counter)"     # the till at the counter
staff_login="$(login_body STAFF)"

step "The customer signs up with their phone number"
api "$customer" POST /api/v1/users 201 \
    "{\"username\": \"$username\", \"password\": \"$password\", \"phone\": \"$phone\"}"
expect .role customer
expect .phone "$phone_e164"

step "A customer cannot stamp their own card"
api "$customer" POST /api/v1/stamps 403 "{\"phone\": \"$phone\"}"
expect .code forbidden

step "The staff member logs in at the counter"
api "$counter" POST /api/v1/sessions 201 "$staff_login"
expect .user.role staff

step "Staff stamps 4 coffees by phone (an Idempotency-Key makes a retry safe)"
key="stamp-$suffix-1"
api "$counter" POST /api/v1/stamps 201 "{\"phone\": \"$phone\", \"count\": 4}" -H "Idempotency-Key: $key"
expect .card.balance 4
expect .event.kind earned
expect .event.count 4
expect .event.by.username "$STAFF_USERNAME"

step "The till retries the same request: replayed, not stamped twice"
api "$counter" POST /api/v1/stamps 201 "{\"phone\": \"$phone\", \"count\": 4}" -H "Idempotency-Key: $key"
expect_header Idempotent-Replayed true
expect .card.balance 4

step "Staff stamps 6 more (the phone number in another format is the same customer)"
api "$counter" POST /api/v1/stamps 201 "{\"phone\": \"$phone_e164\", \"count\": 6}"
expect .card.balance 10
expect .card.rewards_available 1

step "An unknown phone number is 404 customer_not_found"
api "$counter" POST /api/v1/stamps 404 '{"phone": "010-2000-0000", "count": 1}'
expect .code customer_not_found

step "The customer sees one free coffee on the card"
api "$customer" GET /api/v1/stamps 200
expect .balance 10
expect .rewards_available 1
expect .total_earned 10

step "The customer's own phone cannot redeem it: 403 (rewards are redeemed at the counter)"
api "$customer" POST /api/v1/stamps/redemptions 403 '{}'
expect .code forbidden

step "Instead, the customer's screen shows a card code (a QR code of 8 digits, good for 120 s)"
api "$customer" POST /api/v1/stamps/card-code 201
code="$(field .code)"
[[ "$code" =~ ^[0-9]{8}$ ]] || fail "the card code is not 8 digits: $code"
printf '   %s✓ code %s, expires at %s%s\n' "$_green" "$code" "$(field .expires_at)" "$_reset"

step "The barista scans it and sees the card"
api "$counter" GET "/api/v1/stamps?card_code=$code" 200
expect .phone "$phone_e164"
expect .rewards_available 1

step "The barista redeems the free coffee by the code"
key="redeem-$suffix"
api "$counter" POST /api/v1/stamps/redemptions 201 "{\"card_code\": \"$code\"}" -H "Idempotency-Key: $key"
expect .redemption.stamps_used 10
expect .card.balance 0
expect .card.rewards_available 0
expect .card.total_redeemed 10

step "The till retries the same redemption: replayed, no second coffee"
api "$counter" POST /api/v1/stamps/redemptions 201 "{\"card_code\": \"$code\"}" -H "Idempotency-Key: $key"
expect_header Idempotent-Replayed true
expect .card.balance 0

step "The redemption used the code up: a screenshot of it is worth nothing now"
api "$counter" POST /api/v1/stamps/redemptions 404 "{\"card_code\": \"$code\"}"
expect .code card_code_not_found

step "Exactly one of phone and card_code: both is 422"
api "$counter" POST /api/v1/stamps/redemptions 422 "{\"phone\": \"$phone\", \"card_code\": \"$code\"}"
expect .code validation_failed
expect '[.errors[] | .code] | unique | join(",")' one_of

step "A second redemption, by phone: not enough stamps"
api "$counter" POST /api/v1/stamps/redemptions 409 "{\"phone\": \"$phone\"}"
expect .code insufficient_stamps
expect .balance 0
expect .stamps_per_reward 10

step "The card's history, newest first (who made each event is for staff eyes only)"
api "$customer" GET /api/v1/stamps/events 200
expect '.items | length' 3
expect '.items[0].kind' redeemed
expect '.items[0].balance_after' 0
expect '.items[0].by' null
expect '.items[1].kind' earned

step "Staff looks the customer's card and history up by phone number"
api "$counter" GET "/api/v1/stamps?phone=%2B${phone_e164#+}" 200
expect .balance 0
expect .total_earned 10
expect .total_redeemed 10
api "$counter" GET "/api/v1/stamps/events?phone=%2B${phone_e164#+}&limit=1" 200
expect '.items[0].kind' redeemed
expect '.items[0].by.username' "$STAFF_USERNAME"

step "Both log out"
api "$counter" DELETE /api/v1/sessions/current 204
api "$customer" DELETE /api/v1/sessions/current 204

done_journey
