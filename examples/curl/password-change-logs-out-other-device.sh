#!/usr/bin/env bash
# Journey: a customer is logged in on a laptop and a phone, changes the password on the laptop,
# and the phone is logged out; the laptop stays logged in under a new session key.
set -euo pipefail
# shellcheck source=examples/curl/lib.sh
. "$(dirname "$0")/lib.sh"

journey "A password change logs out the other device"

suffix="$(unique_suffix)"
username="customer_$suffix"
old_password="$(random_password Americano)"
new_password="$(random_password Macchiato)"
laptop="$(new_jar laptop)"
phone="$(new_jar phone)"
login_with() {
    jq -n --arg u "$username" --arg p "$1" '{username: $u, password: $p}'
}

step "Sign up on the laptop"
api "$laptop" POST /api/v1/users 201 "$(login_with "$old_password")"
expect .role customer

step "Log in on the phone as well"
api "$phone" POST /api/v1/sessions 201 "$(login_with "$old_password")"
expect .user.username "$username"

step "The laptop sees two sessions, one of them its own"
api "$laptop" GET /api/v1/sessions 200
expect '.items | length' 2
expect '[.items[] | select(.current)] | length' 1

old_laptop="$(new_jar laptop-before-change)"
cp "$laptop" "$old_laptop"

step "A wrong current password is refused"
api "$laptop" PUT /api/v1/users/me/password 403 \
    "$(jq -n --arg p "$new_password" '{current_password: "not my password", new_password: $p}')"
expect .code invalid_password

step "Change the password on the laptop"
api "$laptop" PUT /api/v1/users/me/password 204 \
    "$(jq -n --arg c "$old_password" --arg p "$new_password" '{current_password: $c, new_password: $p}')"

step "The laptop is still logged in (its cookie was re-issued with a new key)"
api "$laptop" GET /api/v1/users/me 200
expect .username "$username"

step "The laptop's cookie from before the change no longer works"
api "$old_laptop" GET /api/v1/users/me 401
expect .code unauthenticated

step "The phone was logged out"
api "$phone" GET /api/v1/users/me 401
expect .code unauthenticated

step "The old password no longer logs in"
api "$phone" POST /api/v1/sessions 401 "$(login_with "$old_password")"
expect .code invalid_credentials

step "The new password does"
api "$phone" POST /api/v1/sessions 201 "$(login_with "$new_password")"
expect .user.username "$username"

step "Two sessions again: the laptop's and the phone's new one"
api "$laptop" GET /api/v1/sessions 200
expect '.items | length' 2

step "Log out everywhere else from the laptop"
api "$laptop" DELETE /api/v1/sessions 200
expect .revoked 1
api "$phone" GET /api/v1/users/me 401

step "Log out the laptop"
api "$laptop" DELETE /api/v1/sessions/current 204

done_journey
