#!/usr/bin/env bash
# Journey: a stolen cookie is not an account. A customer is logged in on a laptop, and someone
# has a copy of that cookie. Changing the username, email or phone needs a password proof in
# the session younger than the server's STAMPCARD_REAUTH_WINDOW (default 600 seconds; login,
# signup and a password change are proofs). The owner proves the password again
# (POST /api/v1/sessions/current/reauthentication): the session moves to a new key, the laptop
# gets the new cookie, and the copy is anonymous from then on. The owner then changes the email.
#
# Against a server started with a short window (say STAMPCARD_REAUTH_WINDOW=5), tell the
# journey that window, the same variable, and it waits it out to show what a stale session gets:
# 403 reauthentication_required, with the link where to prove the password, and nothing changed.
# (With the default window of 10 minutes it leaves that step out: a fresh login is a proof.)
set -euo pipefail
# shellcheck source=examples/curl/lib.sh
. "$(dirname "$0")/lib.sh"

journey "Re-authentication: a password proof before sensitive changes"

window="${STAMPCARD_REAUTH_WINDOW:-}"
if [ -n "$window" ] && ! [[ "$window" =~ ^[0-9]+$ && "$window" -le 120 ]]; then
    fail "STAMPCARD_REAUTH_WINDOW must be the server's window in seconds, at most 120 (the journey waits it out)"
fi

suffix="$(unique_suffix)"
username="customer_$suffix"
email="$username@example.com"
password="$(random_password Doppio)"
signup="$(new_jar signup)"
laptop="$(new_jar laptop)"
copy="$(new_jar stolen-copy)"
credentials="$(jq -n --arg u "$username" --arg p "$password" '{username: $u, password: $p}')"

step "Sign up (no email yet), and log in on the laptop"
api "$signup" POST /api/v1/users 201 "$credentials"
expect .email null
api "$laptop" POST /api/v1/sessions 201 "$credentials"
session_id="$(field .session.id)"
logged_in_at="$(field .session.authenticated_at)"
[ "$logged_in_at" != null ] || fail "the session has no authenticated_at"
printf '   %s✓ the login is a password proof: authenticated_at = %s%s\n' "$_green" "$logged_in_at" "$_reset"

step "Someone copies the laptop's session cookie"
cp "$laptop" "$copy"
old_cookie="$(cookie_value "$copy")"
[ -n "$old_cookie" ] || fail "no session cookie in the laptop's jar"
api "$copy" GET /api/v1/sessions/current 200
expect .session.id "$session_id"
printf '   %s✓ the copy works as well as the original, for now%s\n' "$_green" "$_reset"

if [ -n "$window" ]; then
    step "Wait until the proof is older than the server's window ($window s)"
    sleep "$((window + 1))"
    printf '   %s✓ waited %d s%s\n' "$_green" "$((window + 1))" "$_reset"

    step "With the copy alone, the email cannot be changed: 403, and where to prove the password"
    api "$copy" PATCH /api/v1/users/me 403 "$(jq -n '{email: "thief@evil.example"}')"
    expect .code reauthentication_required
    expect .reauthenticate /api/v1/sessions/current/reauthentication

    step "Nothing changed"
    api "$laptop" GET /api/v1/users/me 200
    expect .email null

    step "Sending the values the account already has is no change, and needs no proof"
    api "$laptop" PATCH /api/v1/users/me 200 "$(jq -n --arg u "$username" '{username: $u, email: null}')"
    expect .username "$username"
else
    printf '\n%s(The server'"'"'s window is taken to be the default 10 minutes, so the login above still counts\n' "$_dim"
    printf 'as a proof. Run this against a server with a short STAMPCARD_REAUTH_WINDOW, and set the same\n'
    printf 'variable here, to see the 403 reauthentication_required a stale session gets.)%s\n' "$_reset"
fi

step "A wrong password is 403 invalid_password (and counts as a failed attempt, as at login)"
api "$laptop" POST /api/v1/sessions/current/reauthentication 403 '{"password": "not my password"}'
expect .code invalid_password

step "The password is required"
api "$laptop" POST /api/v1/sessions/current/reauthentication 422 '{}'
expect .code validation_failed
expect '.errors[0].field' password

step "The owner proves the password again: the same session, a new proof, a new cookie"
api "$laptop" POST /api/v1/sessions/current/reauthentication 200 "$(jq -n --arg p "$password" '{password: $p}')"
expect .session.id "$session_id"
expect .session.current true
proved_at="$(field .session.authenticated_at)"
[[ "$proved_at" > "$logged_in_at" || "$proved_at" == "$logged_in_at" ]] \
    || fail "authenticated_at went back: $logged_in_at, then $proved_at"
printf '   %s✓ authenticated_at = %s%s\n' "$_green" "$proved_at" "$_reset"
expect_header Cache-Control no-store
grep -qi '^set-cookie: *\(__Host-\)\?stampcard_session=' "$HEADERS_FILE" || fail "no new session cookie was set"
new_cookie="$(cookie_value "$laptop")"
[ -n "$new_cookie" ] && [ "$new_cookie" != "$old_cookie" ] || fail "the laptop's cookie did not change"
printf '   %s✓ Set-Cookie: a new session cookie (…%s, was …%s)%s\n' "$_green" "${new_cookie: -8}" "${old_cookie: -8}" "$_reset"

step "Right away, the owner changes the email: 200, the new address is not verified yet"
api "$laptop" PATCH /api/v1/users/me 200 "$(jq -n --arg e "$email" '{email: $e}')"
expect .email "$email"
expect .email_verified false

step "The copied cookie is anonymous now: its key is gone"
api "$copy" GET /api/v1/sessions/current 401
expect .code unauthenticated
api "$copy" PATCH /api/v1/users/me 401 "$(jq -n '{email: "thief@evil.example"}')"
expect .code unauthenticated

step "The laptop, with the new cookie, is still logged in, in the same session"
api "$laptop" GET /api/v1/sessions/current 200
expect .session.id "$session_id"
expect .user.email "$email"

step "Log out"
api "$laptop" DELETE /api/v1/sessions/current 204
api "$signup" DELETE /api/v1/sessions/current 204

done_journey
