#!/usr/bin/env bash
# Journey: a customer signs up, looks at who they are and at their (still empty) stamp card,
# sets their language, and logs out.
#
#     STAMPCARD_URL=http://127.0.0.1:8080 examples/curl/customer-signup-and-card.sh
set -euo pipefail
# shellcheck source=examples/curl/lib.sh
. "$(dirname "$0")/lib.sh"

journey "A customer signs up and checks the card"

suffix="$(unique_suffix)"
username="customer_$suffix"
password="$(random_password Flat-white)"
phone="$(random_mobile)"
phone_e164="$(e164_from_mobile "$phone")"
browser="$(new_jar browser)"

step "Nobody is logged in yet: my account is 401, with a hint where to log in"
api "$browser" GET /api/v1/users/me 401
expect .code unauthenticated
expect .login /api/v1/sessions
expect .next /api/v1/users/me

step "Sign up (a role sent along is ignored); this also logs in: the cookie lands in the jar"
api "$browser" POST /api/v1/users 201 \
    "{\"username\": \"$username\", \"password\": \"$password\", \"phone\": \"$phone\", \"role\": \"admin\"}"
expect_header Location /api/v1/users/me
expect .username "$username"
expect .role customer
expect .phone "$phone_e164"

step "Who am I? (the session cookie from the jar is sent back)"
api "$browser" GET /api/v1/sessions/current 200
expect .user.username "$username"
expect .session.current true

step "My stamp card: empty so far"
api "$browser" GET /api/v1/stamps 200
expect .phone "$phone_e164"
expect .balance 0
expect .rewards_available 0
expect .stamps_per_reward 10

step "My card's history: no events yet"
api "$browser" GET /api/v1/stamps/events 200
expect '.items | length' 0
expect .next_cursor null

step "Messages in Korean, please (stored in the stampcard_prefs cookie)"
api "$browser" PUT /api/v1/preferences 200 '{"language": "ko", "theme": "dark"}'
expect .language ko

step "A validation error now explains itself in Korean; the code stays the same"
api "$browser" PATCH /api/v1/users/me 422 '{"phone": "not a phone"}'
expect .code validation_failed
expect '.errors[0].field' phone
expect '.errors[0].code' invalid_phone
expect '.title | test("[가-힣]")' true

step "Log out"
api "$browser" DELETE /api/v1/sessions/current 204

step "Logged out: my account is 401 again"
api "$browser" GET /api/v1/users/me 401
expect .code unauthenticated

done_journey
