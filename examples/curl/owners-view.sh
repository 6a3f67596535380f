#!/usr/bin/env bash
# Journey: the owner's view. A barista stamps a customer and voids a mistake; the cafe's owner
# (an admin) promotes and demotes an account, then reads today's figures and the per-barista
# table, finds who did what in the audit log, and exports the events as CSV for the accountant.
# The export carries every customer's phone, so it needs a fresh password proof: the owner
# re-authenticates (POST /api/v1/sessions/current/reauthentication) and downloads it.
#
# Needs a staff and an admin account, which only an admin or the command line can create:
#
#     STAMPCARD_PASSWORD='...' stampcard user create --username barista --role staff
#     STAMPCARD_PASSWORD='...' stampcard user create --username owner --role admin
#     STAFF_USERNAME=barista STAFF_PASSWORD='...' ADMIN_USERNAME=owner ADMIN_PASSWORD='...' \
#         examples/curl/owners-view.sh
#
# Against a server started with a short STAMPCARD_REAUTH_WINDOW (say 5 seconds), tell the
# journey that window, the same variable, and it waits it out to show what a stale session gets
# from the export: 403 reauthentication_required. (With the default 10 minutes the login is a
# proof, and the journey re-authenticates all the same, as the web app does when asked.)
set -euo pipefail
# shellcheck source=examples/curl/lib.sh
. "$(dirname "$0")/lib.sh"

need_account STAFF staff
need_account ADMIN admin
window="${STAMPCARD_REAUTH_WINDOW:-}"
if [ -n "$window" ] && ! [[ "$window" =~ ^[0-9]+$ && "$window" -le 120 ]]; then
    fail "STAMPCARD_REAUTH_WINDOW must be the server's window in seconds, at most 120 (the journey waits it out)"
fi

journey "The owner's view: reports, the audit log and the CSV export"

suffix="$(unique_suffix)"
username="customer_$suffix"
password="$(random_password Affogato)"
phone="$(random_mobile)"
phone_e164="$(e164_from_mobile "$phone")"
customer="$(new_jar customer)"
counter="$(new_jar counter)"
office="$(new_jar office)"      # the owner's laptop
reason='=1+1, "oops"'           # a reason a spreadsheet would run as a formula, with a comma and quotes

step "A customer signs up; the barista stamps 3 and voids a mistaken 2"
api "$customer" POST /api/v1/users 201 \
    "{\"username\": \"$username\", \"password\": \"$password\", \"phone\": \"$phone\"}"
customer_id="$(field .id)"
api "$counter" POST /api/v1/sessions 201 \
    "$(login_body STAFF)"
staff_id="$(field .user.id)"
api "$counter" POST /api/v1/stamps 201 "{\"phone\": \"$phone\", \"count\": 3}"
api "$counter" POST /api/v1/stamps 201 "{\"phone\": \"$phone\", \"count\": 2}"
mistake="$(field .event.id)"
api "$counter" POST "/api/v1/stamps/events/$mistake/void" 201 "$(jq -n --arg r "$reason" '{reason: $r}')"
void_id="$(field .event.id)"
expect .card.balance 3

step "The owner logs in, and changes a role (an admin change: the login is a fresh password proof)"
api "$office" POST /api/v1/sessions 201 \
    "$(login_body ADMIN)"
expect .user.role admin
admin_id="$(field .user.id)"
api "$office" PATCH "/api/v1/users/$customer_id" 200 '{"role": "staff"}'
expect .role staff
api "$office" PATCH "/api/v1/users/$customer_id" 200 '{"role": "customer"}'
expect .role customer

step "Staff cannot read the owner's reports: 403"
api "$counter" GET /api/v1/reports/daily 403
expect .code forbidden
api "$counter" GET /api/v1/audit 403
expect .code forbidden

step "The last 30 days, one row per day (days without activity included), in the cafe's time zone"
api "$office" GET /api/v1/reports/daily 200
expect '.items | length' 30
expect '.items[-1].date == .to' true
today="$(field .to)"
# Today's row (or yesterday's, should the cafe's midnight fall in between) has this journey's work.
expect '[.items[-2:][].stamps] | add >= 5' true
expect '[.items[-2:][].voids] | add >= 1' true
expect '[.items[-2:][].new_customers] | add >= 1' true
printf '   %s✓ %s, in %s: %s%s\n' "$_green" "$today" "$(field .time_zone)" "$(field '.items[-1] | tojson')" "$_reset"

step "Just today"
api "$office" GET "/api/v1/reports/daily?from=$today&to=$today" 200
expect '.items | length' 1
expect '.items[0].date' "$today"

step "A range is at most 366 days, and dates are YYYY-MM-DD: 422"
api "$office" GET "/api/v1/reports/daily?from=2020-01-01&to=$today" 422
expect '.errors[0].field' to
expect '.errors[0].code' out_of_range
api "$office" GET "/api/v1/reports/daily?from=yesterday&to=2026-2-1" 422
expect '[.errors[] | .field + ":" + .code] | join(",")' from:invalid_format,to:invalid_format

step "Who did what: the staff table"
api "$office" GET "/api/v1/reports/staff?from=$today&to=$today" 200
expect "[.items[] | select(.user.id == \"$staff_id\") | .stamps >= 5 and .voids >= 1] | first" true

step "The audit log: the void, who made it, on whose card, and why"
api "$office" GET "/api/v1/audit?action=stamp.voided&actor=$staff_id&limit=10" 200
expect "[.items[] | select(.detail.event == \"$mistake\")] | length" 1
expect "[.items[] | select(.detail.event == \"$mistake\")][0].actor.username" "$STAFF_USERNAME"
expect "[.items[] | select(.detail.event == \"$mistake\")][0].target.username" "$username"
expect "[.items[] | select(.detail.event == \"$mistake\")][0].detail.reason" "$reason"

step "And the owner's own role changes, newest first"
api "$office" GET "/api/v1/audit?action=user.role_changed&actor=$admin_id&limit=2" 200
expect '[.items[].detail | .from + ">" + .to] | join(",")' "staff>customer,customer>staff"
expect '.items[0].target.username' "$username"
expect '.items[0].ip != null' true

step "An action the log does not know is 422, not an empty page"
api "$office" GET "/api/v1/audit?action=stamp.deleted" 422
expect '.errors[0].field' action
expect '.errors[0].code' invalid_choice

if [ -n "$window" ]; then
    step "Later: the owner's proof is older than the server's window ($window s)"
    sleep "$((window + 1))"
    api "$office" GET "/api/v1/reports/events.csv?from=$today&to=$today" 403
    expect .code reauthentication_required
    expect .reauthenticate /api/v1/sessions/current/reauthentication
fi

step "The export needs a fresh password proof: the owner re-authenticates"
api "$office" POST /api/v1/sessions/current/reauthentication 200 \
    "$(jq -n --arg p "$ADMIN_PASSWORD" '{password: $p}')"

step "Download today's events as CSV"
api "$office" GET "/api/v1/reports/events.csv?from=$today&to=$today" 200
case "$(header Content-Type)" in
    text/csv*) printf '   %s✓ Content-Type: %s%s\n' "$_green" "$(header Content-Type)" "$_reset" ;;
    *) fail "expected a text/csv answer, got '$(header Content-Type)'" ;;
esac
expect_header Content-Disposition "attachment; filename=\"stamp-events-$today-to-$today.csv\""
printf '%s' "$BODY" >"$WORK_DIR/events.csv"
[ "$(head -n 1 "$WORK_DIR/events.csv")" = "id,created_at,date,kind,count,balance_after,customer_id,phone,by,by_id,voids,reason" ] \
    || fail "unexpected header row: $(head -n 1 "$WORK_DIR/events.csv")"
row="$(grep "^$void_id," "$WORK_DIR/events.csv")" || fail "the void is not in the export"
# The reason is quoted (it has a comma and quotes) and starts with ' (a spreadsheet must not run it).
expected=",voided,2,3,$customer_id,$phone_e164,$STAFF_USERNAME,$staff_id,$mistake,\"'=1+1, \"\"oops\"\"\""
[[ "$row" == *"$expected" ]] || fail "unexpected row for the void: $row"
printf '   %s✓ %s%s\n' "$_green" "$row" "$_reset"
[ "$(grep -c ",$customer_id," "$WORK_DIR/events.csv")" = 3 ] || fail "expected the customer's 3 events in the export"
printf '   %s✓ the customer'"'"'s 3 events (2 stamps and the void), with the header row%s\n' "$_green" "$_reset"

step "Everyone logs out"
api "$office" DELETE /api/v1/sessions/current 204
api "$counter" DELETE /api/v1/sessions/current 204
api "$customer" DELETE /api/v1/sessions/current 204

done_journey
