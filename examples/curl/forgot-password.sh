#!/usr/bin/env bash
# Journey: a customer with an email address is logged in on a laptop and a phone, forgets the
# password, asks for a reset link, follows the link from the mail and sets a new password. Both
# devices are logged out, the old password fails, the new one works, and the link is good once.
# Reset mails go only to a verified address, so the customer first proves the address with the
# link mailed at signup.
#
# Reads the mail the server sent: STAMPCARD_MAILDIR is the Maildir of the SMTP server that the
# server's STAMPCARD_SMTP_URL points to (CI: aiosmtpd, see .ci/clients.sh). Links in mails start
# with the server's STAMPCARD_PUBLIC_URL (default here: STAMPCARD_URL).
#
# Limits it meets: the address gets 2 of its 3 mails an hour (the verification link, the reset
# link), and the journey makes 2 of the 10 password reset and verification requests that one
# client address may make an hour (the 11th is 429 too_many_attempts).
set -euo pipefail
# shellcheck source=examples/curl/lib.sh
. "$(dirname "$0")/lib.sh"

need_maildir

journey "Forgot password: a reset link by email"

suffix="$(unique_suffix)"
username="customer_$suffix"
email="$username@example.com"
old_password="$(random_password Americano)"
new_password="$(random_password Affogato)"
laptop="$(new_jar laptop)"
phone="$(new_jar phone)"
login_with() {
    jq -n --arg u "$username" --arg p "$1" '{username: $u, password: $p}'
}

step "Sign up on the laptop, with an email address: not verified yet"
api "$laptop" POST /api/v1/users 201 \
    "$(jq -n --arg u "$username" --arg p "$old_password" --arg e "$email" '{username: $u, password: $p, email: $e}')"
expect .email "$email"
expect .email_verified false

step "Prove the address with the link mailed at signup (reset mails go only to verified addresses)"
verify_token="$(mailed_token "$email" verify-email)"
api - POST /api/v1/email-verifications/confirm 204 "$(jq -n --arg t "$verify_token" '{token: $t}')"
api "$laptop" GET /api/v1/users/me 200
expect .email_verified true

step "Log in on the phone as well"
api "$phone" POST /api/v1/sessions 201 "$(login_with "$old_password")"
expect .user.username "$username"

step "Forgot the password: ask for a reset link (anonymous, no cookie)"
api - POST /api/v1/password-resets 202 "$(jq -n --arg e "$email" '{email: $e}')"
expect .status accepted
known_body="$BODY"

step "An address nobody has gets the very same answer (no account enumeration)"
api - POST /api/v1/password-resets 202 "$(jq -n --arg e "nobody_$suffix@example.com" '{email: $e}')"
[ "$BODY" = "$known_body" ] || fail "the answers differ: '$known_body' and '$BODY'"
printf '   %s✓ the same body%s\n' "$_green" "$_reset"

step "The mail arrives, with a link to <public URL>/reset-password#token=<64 hex digits>"
token="$(mailed_token "$email" reset-password)"

step "A weak new password is refused, and the token stays good"
api - POST /api/v1/password-resets/confirm 422 "$(jq -n --arg t "$token" '{token: $t, new_password: "12345678"}')"
expect .code validation_failed
expect '.errors[0].field' new_password

step "Set a new password with the token (no login: no cookie)"
api - POST /api/v1/password-resets/confirm 204 \
    "$(jq -n --arg t "$token" --arg p "$new_password" '{token: $t, new_password: $p}')"
grep -qi '^set-cookie:' "$HEADERS_FILE" && fail "the confirmation set a cookie"
printf '   %s✓ no Set-Cookie%s\n' "$_green" "$_reset"

step "The laptop was logged out"
api "$laptop" GET /api/v1/users/me 401
expect .code unauthenticated

step "The phone was logged out"
api "$phone" GET /api/v1/users/me 401
expect .code unauthenticated

step "The link is good once"
api - POST /api/v1/password-resets/confirm 422 \
    "$(jq -n --arg t "$token" --arg p "$(random_password Ristretto)" '{token: $t, new_password: $p}')"
expect .code invalid_token

step "The old password no longer logs in"
api "$phone" POST /api/v1/sessions 401 "$(login_with "$old_password")"
expect .code invalid_credentials

step "The new password does"
api "$phone" POST /api/v1/sessions 201 "$(login_with "$new_password")"
expect .user.username "$username"
expect .user.email "$email"

step "Log out"
api "$phone" DELETE /api/v1/sessions/current 204

done_journey
