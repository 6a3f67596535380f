#!/usr/bin/env bash
# Journey: void a stamp. A barista presses 3 instead of 1; the mistake is taken back, not edited
# away: a void is an event of its own (kind "voided", naming the mistake, with a reason), the
# mistake stays in the history marked voided, and the totals count what stands. Staff may void
# their own events within 10 minutes, admins any event; an event is voided at most once, and
# stamps that were redeemed since cannot be taken back.
#
# Needs a staff account, which only an admin or the command line can create:
#
#     STAMPCARD_PASSWORD='...' stampcard user create --username barista --role staff
#     STAFF_USERNAME=barista STAFF_PASSWORD='...' examples/curl/void-a-stamp.sh
#
# With an admin account too (ADMIN_USERNAME, ADMIN_PASSWORD; `--role admin`), the owner also
# voids a redemption, which gives its stamps back.
set -euo pipefail
# shellcheck source=examples/curl/lib.sh
. "$(dirname "$0")/lib.sh"

need_account STAFF staff

journey "Void a stamp: a mistake taken back with a compensating event"

suffix="$(unique_suffix)"
username="customer_$suffix"
password="$(random_password Ristretto)"
phone="$(random_mobile)"
customer="$(new_jar customer)"
counter="$(new_jar counter)"
staff_login="$(login_body STAFF)"

step "The customer signs up; the barista logs in"
api "$customer" POST /api/v1/users 201 \
    "{\"username\": \"$username\", \"password\": \"$password\", \"phone\": \"$phone\"}"
api "$counter" POST /api/v1/sessions 201 "$staff_login"

step "One coffee, one stamp"
api "$counter" POST /api/v1/stamps 201 "{\"phone\": \"$phone\"}"
expect .card.balance 1

step "The next one: the barista presses 3 instead of 1"
api "$counter" POST /api/v1/stamps 201 "{\"phone\": \"$phone\", \"count\": 3}"
expect .card.balance 4
mistake="$(field .event.id)"

step "A customer cannot void anything"
api "$customer" POST "/api/v1/stamps/events/$mistake/void" 403 '{}'
expect .code forbidden

step "Undo: the barista voids the mistake, with a reason (an Idempotency-Key makes a retry safe)"
key="void-$suffix"
api "$counter" POST "/api/v1/stamps/events/$mistake/void" 201 '{"reason": "pressed 3 instead of 1"}' \
    -H "Idempotency-Key: $key"
expect .event.kind voided
expect .event.count 3
expect .event.voids "$mistake"
expect .event.reason "pressed 3 instead of 1"
expect .event.by.username "$STAFF_USERNAME"
expect .card.balance 1
expect .card.total_earned 1
void_id="$(field .event.id)"

step "The till retries the undo: replayed, voided once"
api "$counter" POST "/api/v1/stamps/events/$mistake/void" 201 '{"reason": "pressed 3 instead of 1"}' \
    -H "Idempotency-Key: $key"
expect_header Idempotent-Replayed true
expect .event.id "$void_id"
expect .card.balance 1

step "Voiding it again is 409 already_voided; so is voiding the void"
api "$counter" POST "/api/v1/stamps/events/$mistake/void" 409 '{}'
expect .code already_voided
api "$counter" POST "/api/v1/stamps/events/$void_id/void" 409
expect .code already_voided

step "An event that does not exist is 404"
api "$counter" POST /api/v1/stamps/events/00000000-0000-4000-8000-000000000000/void 404
expect .code not_found

step "Nothing was edited: the history keeps the mistake, marked voided, and its void"
api "$customer" GET /api/v1/stamps/events 200
expect '[.items[].kind] | join(",")' voided,earned,earned
expect '.items[0].voids' "$mistake"
expect '.items[1].id' "$mistake"
expect '.items[1].voided' true
expect '.items[2].voided' false

step "Ten more stamps and a free coffee, redeemed by phone at the counter"
api "$counter" POST /api/v1/stamps 201 "{\"phone\": \"$phone\", \"count\": 10}"
ten="$(field .event.id)"
expect .card.balance 11
api "$counter" POST /api/v1/stamps/redemptions 201 "{\"phone\": \"$phone\"}"
expect .card.balance 1

step "Stamps redeemed since cannot be taken back: 409 insufficient_stamps (the balance never goes below zero)"
api "$counter" POST "/api/v1/stamps/events/$ten/void" 409 '{"reason": "wrong card"}'
expect .code insufficient_stamps
expect .balance 1

if [ -n "${ADMIN_USERNAME:-}" ] && [ -n "${ADMIN_PASSWORD:-}" ]; then
    owner="$(new_jar owner)"
    step "The owner (an admin, who may void any event) takes the redemption back: its stamps return"
    api "$owner" POST /api/v1/sessions 201 \
        "$(login_body ADMIN)"
    expect .user.role admin
    api "$owner" GET "/api/v1/stamps/events?phone=$(printf '%s' "$phone" | jq -sRr @uri)&limit=1" 200
    expect '.items[0].kind' redeemed
    redemption_event="$(field '.items[0].id')"
    api "$owner" POST "/api/v1/stamps/events/$redemption_event/void" 201 '{"reason": "the machine was down"}'
    expect .event.kind voided
    expect .card.balance 11
    expect .card.total_redeemed 0

    step "Now the ten stamps can be voided too"
    api "$counter" POST "/api/v1/stamps/events/$ten/void" 201 '{"reason": "wrong card"}'
    expect .card.balance 1
    expect .card.total_earned 1
    api "$owner" DELETE /api/v1/sessions/current 204
else
    printf '\n%s(Set ADMIN_USERNAME and ADMIN_PASSWORD to an admin account to see the owner void a\n' "$_dim"
    printf 'redemption: admins may void any event, of any age.)%s\n' "$_reset"
fi

step "Both log out"
api "$counter" DELETE /api/v1/sessions/current 204
api "$customer" DELETE /api/v1/sessions/current 204

done_journey
