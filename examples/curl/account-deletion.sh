#!/usr/bin/env bash
# Journey: a customer deletes their account. It needs the password again; afterwards every
# session of the account is gone, it cannot log in, and the username is free again.
set -euo pipefail
# shellcheck source=examples/curl/lib.sh
. "$(dirname "$0")/lib.sh"

journey "Account deletion"

suffix="$(unique_suffix)"
username="customer_$suffix"
password="$(random_password Espresso)"
phone="$(random_mobile)"
browser="$(new_jar browser)"
tablet="$(new_jar tablet)"
credentials="$(jq -n --arg u "$username" --arg p "$password" '{username: $u, password: $p}')"

step "Sign up"
api "$browser" POST /api/v1/users 201 \
    "$(jq -n --arg u "$username" --arg p "$password" --arg ph "$phone" '{username: $u, password: $p, phone: $ph}')"
expect .role customer

step "Log in on a second device"
api "$tablet" POST /api/v1/sessions 201 "$credentials"

step "Deleting needs the password: without it, 422"
api "$browser" DELETE /api/v1/users/me 422 '{}'
expect .code validation_failed
expect '.errors[0].field' password

step "A wrong password is 403 invalid_password"
api "$browser" DELETE /api/v1/users/me 403 '{"password": "not my password"}'
expect .code invalid_password

step "Delete the account"
api "$browser" DELETE /api/v1/users/me 204 "$(jq -n --arg p "$password" '{password: $p}')"

step "This browser is logged out"
api "$browser" GET /api/v1/users/me 401
expect .code unauthenticated

step "So is the second device"
api "$tablet" GET /api/v1/sessions/current 401
expect .code unauthenticated

step "The account cannot log in any more"
api "$tablet" POST /api/v1/sessions 401 "$credentials"
expect .code invalid_credentials

step "The username and phone number are free again: a new, separate account with an empty card"
api "$browser" POST /api/v1/users 201 \
    "$(jq -n --arg u "$username" --arg p "$password" --arg ph "$phone" '{username: $u, password: $p, phone: $ph}')"
api "$browser" GET /api/v1/stamps 200
expect .balance 0
expect .total_earned 0

step "Clean up: delete that one too"
api "$browser" DELETE /api/v1/users/me 204 "$(jq -n --arg p "$password" '{password: $p}')"

done_journey
