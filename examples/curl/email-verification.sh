#!/usr/bin/env bash
# Journey: a customer signs up with an email address and proves it with the link the server
# mails; the link works in any browser (no session needed) and once; a newer link ends the
# older one; a new address is unproven again, and the old, proven one is told of the change.
#
# Reads the mail the server sent: STAMPCARD_MAILDIR is the Maildir of the SMTP server that the
# server's STAMPCARD_SMTP_URL points to (CI: aiosmtpd, see .ci/clients.sh). Links in mails start
# with the server's STAMPCARD_PUBLIC_URL (default here: STAMPCARD_URL).
#
# Limits it meets: the first address gets all 3 of its mails an hour (two links and the notice
# of the change), and the journey makes 1 of the 10 password reset and verification requests
# that one client address may make an hour (the 11th is 429 too_many_attempts).
set -euo pipefail
# shellcheck source=examples/curl/lib.sh
. "$(dirname "$0")/lib.sh"

need_maildir

journey "Verify my email: a link by mail"

suffix="$(unique_suffix)"
username="customer_$suffix"
email="$username@example.com"
new_email="$username.new@example.com"
password="$(random_password Lungo)"
laptop="$(new_jar laptop)"
other_browser="$(new_jar other-browser)"

step "Sign up with an email address: not verified yet"
api "$laptop" POST /api/v1/users 201 \
    "$(jq -n --arg u "$username" --arg p "$password" --arg e "$email" '{username: $u, password: $p, email: $e}')"
expect .email "$email"
expect .email_verified false

step "The mail arrives, with a link to <public URL>/verify-email#token=<64 hex digits>"
first_token="$(mailed_token "$email" verify-email)"

step "Ask for a new link (logged in, no body needed)"
api "$laptop" POST /api/v1/users/me/email-verification 202
expect .status accepted

step "The new link arrives; it ends the older one"
token="$(mailed_token "$email" verify-email "$first_token")"
api "$other_browser" POST /api/v1/email-verifications/confirm 422 "$(jq -n --arg t "$first_token" '{token: $t}')"
expect .code invalid_token

step "Open the new link in another browser (no session): the address is proven"
api "$other_browser" POST /api/v1/email-verifications/confirm 204 "$(jq -n --arg t "$token" '{token: $t}')"
grep -qi '^set-cookie:' "$HEADERS_FILE" && fail "the confirmation set a cookie"
printf '   %s✓ no Set-Cookie: it logs nobody in%s\n' "$_green" "$_reset"

step "My account says so"
api "$laptop" GET /api/v1/users/me 200
expect .email "$email"
expect .email_verified true

step "The link is good once"
api "$other_browser" POST /api/v1/email-verifications/confirm 422 "$(jq -n --arg t "$token" '{token: $t}')"
expect .code invalid_token

step "The same address in other letter case is no change (and stays verified)"
upper_email="$(printf '%s' "$email" | tr 'a-z' 'A-Z')"
api "$laptop" PATCH /api/v1/users/me 200 "$(jq -n --arg e "$upper_email" '{email: $e}')"
expect .email "$email"
expect .email_verified true

step "A new address is not verified (the signup proved the password a moment ago: no re-authentication needed)"
api "$laptop" PATCH /api/v1/users/me 200 "$(jq -n --arg e "$new_email" '{email: $e}')"
expect .email "$new_email"
expect .email_verified false

step "The old, proven address is told of the change, with the new address masked"
notice="$(mail_with "$email" "${username:0:1}***@example.com")"
printf '%s%s%s\n' "$_dim" "$notice" "$_reset"
mail_text "$notice" | grep -qF "$new_email" && fail "the notice shows the new address unmasked"
printf '   %s✓ the notice names %s***@example.com, not the new address%s\n' "$_green" "${username:0:1}" "$_reset"

step "The new address has a link of its own"
new_token="$(mailed_token "$new_email" verify-email)"
api "$other_browser" POST /api/v1/email-verifications/confirm 204 "$(jq -n --arg t "$new_token" '{token: $t}')"
api "$laptop" GET /api/v1/users/me 200
expect .email "$new_email"
expect .email_verified true

step "A made-up token is refused"
api "$other_browser" POST /api/v1/email-verifications/confirm 422 \
    "$(jq -n --arg t "$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')" '{token: $t}')"
expect .code invalid_token

step "Log out"
api "$laptop" DELETE /api/v1/sessions/current 204

done_journey
