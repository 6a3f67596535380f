//! The owner's view: the daily and staff reports, the events CSV and the audit log.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::smtp::{reset_token, with_link, SmtpServer};
use crate::helpers::{eventually, spawn_app, spawn_app_on, spawn_app_with, stampcard, Client, Res, TestApp, PASSWORD};

const DAILY: &str = "/api/v1/reports/daily";
const STAFF: &str = "/api/v1/reports/staff";
const CSV: &str = "/api/v1/reports/events.csv";
const AUDIT: &str = "/api/v1/audit";
const STAMPS: &str = "/api/v1/stamps";
const PHONE: &str = "010-1234-5678";

#[track_caller]
fn ok(res: &Res) -> &Value {
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    &res.body
}

/// The path that voids `event` (an event as the API shows it).
fn void_path(event: &Value) -> String {
    format!("{STAMPS}/events/{}/void", event["id"].as_str().expect("an event id"))
}

fn id_of(app: &TestApp, username: &str) -> String {
    app.text_rows(&format!("SELECT id::text FROM users WHERE username = '{username}'")).remove(0)
}

/// An event of `username`'s card at `at` (an RFC 3339 instant), written as the server writes
/// one, for reports about days other than today. A `voided` one voids the card's latest event.
fn event_at(app: &TestApp, username: &str, kind: &str, count: i32, at: &str) {
    app.db_exec(&format!(
        "INSERT INTO stamp_events (id, user_id, kind, count, balance_after, created_at, voids) \
         SELECT gen_random_uuid(), u.id, '{kind}', {count}, 0, '{at}', \
                CASE WHEN '{kind}' = 'voided' THEN (SELECT e.id FROM stamp_events e \
                     WHERE e.user_id = u.id ORDER BY e.seq DESC LIMIT 1) END \
         FROM users u WHERE u.username = '{username}'"
    ));
}

/// The day rows of a daily report, by date, as `[stamps, redemptions, voids, new, active]`.
fn days(report: &Value) -> BTreeMap<String, [i64; 5]> {
    report["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let n = |k: &str| d[k].as_i64().unwrap();
            let figures = [n("stamps"), n("redemptions"), n("voids"), n("new_customers"), n("active_customers")];
            (d["date"].as_str().unwrap().to_owned(), figures)
        })
        .collect()
}

/// The audit entries with `action`, oldest first.
async fn entries(admin: &Client, action: &str) -> Vec<Value> {
    let page = ok(&admin.get(&format!("{AUDIT}?action={action}&limit=100")).await).clone();
    let mut items = page["items"].as_array().unwrap().clone();
    items.reverse();
    items
}

#[tokio::test]
async fn a_day_is_the_cafes_calendar_day_from_local_midnight_to_local_midnight() {
    let app = spawn_app().await;
    let admin = app.user_with_role("owner", "admin").await;
    app.customer("minji", None).await;
    // Seoul is UTC+9: 14:59:59Z is still the 30th there, 15:00:00Z is the 1st.
    app.db_exec("UPDATE users SET created_at = '2026-11-30T15:00:00Z' WHERE username = 'minji'");
    event_at(&app, "minji", "earned", 2, "2026-11-30T14:59:59Z");
    event_at(&app, "minji", "earned", 3, "2026-11-30T15:00:00Z");
    event_at(&app, "minji", "redeemed", 10, "2026-12-01T14:59:59.999Z");
    event_at(&app, "minji", "voided", 1, "2026-12-02T15:00:00Z");

    let report = ok(&admin.get(&format!("{DAILY}?from=2026-11-29&to=2026-12-03")).await).clone();
    assert_eq!((report["from"].as_str(), report["to"].as_str()), (Some("2026-11-29"), Some("2026-12-03")));
    assert_eq!(report["time_zone"], "Asia/Seoul");
    assert!(report.get("next_cursor").is_none(), "a report is not a paged collection");
    let days = days(&report);
    let dates: Vec<&str> = days.keys().map(String::as_str).collect();
    assert_eq!(dates, ["2026-11-29", "2026-11-30", "2026-12-01", "2026-12-02", "2026-12-03"]);
    assert_eq!(days["2026-11-29"], [0, 0, 0, 0, 0], "a day without activity is a row of zeros");
    assert_eq!(days["2026-11-30"], [2, 0, 0, 0, 1]);
    assert_eq!(days["2026-12-01"], [3, 1, 0, 1, 1]);
    assert_eq!(days["2026-12-02"], [0, 0, 0, 0, 0]);
    assert_eq!(days["2026-12-03"], [0, 0, 1, 0, 1]);
}

#[tokio::test]
async fn a_day_with_a_daylight_saving_change_is_still_one_day() {
    let app = spawn_app_with(|c| c.timezone = "America/New_York".into()).await;
    let admin = app.user_with_role("owner", "admin").await;
    app.customer("minji", None).await;
    // 8 March 2026 in New York has 23 hours: from 05:00Z (EST) to 04:00Z the next day (EDT).
    event_at(&app, "minji", "earned", 1, "2026-03-08T04:59:59Z");
    event_at(&app, "minji", "earned", 2, "2026-03-08T05:00:00Z");
    event_at(&app, "minji", "earned", 4, "2026-03-09T03:59:59Z");
    event_at(&app, "minji", "earned", 8, "2026-03-09T04:00:00Z");
    let days = days(ok(&admin.get(&format!("{DAILY}?from=2026-03-07&to=2026-03-09")).await));
    let stamps: Vec<i64> = days.values().map(|d| d[0]).collect();
    assert_eq!(stamps, [1, 6, 8]);
}

#[tokio::test]
async fn the_daily_report_counts_what_happened_at_the_counter_today() {
    let app = spawn_app().await;
    let admin = app.user_with_role("owner", "admin").await;
    let staff = app.user_with_role("barista", "staff").await;
    let minji = app.customer("minji", Some(PHONE)).await;
    app.customer("jun", Some("010-2222-3333")).await;
    app.customer("idle", None).await;
    let mut stamped = Vec::new();
    for (phone, count) in [(PHONE, 10), (PHONE, 2), ("010-2222-3333", 1)] {
        let res = staff.post(STAMPS, json!({"phone": phone, "count": count})).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
        stamped.push(res.body["event"].clone());
    }
    let res = staff.post("/api/v1/stamps/redemptions", json!({"phone": PHONE})).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let void = void_path(&stamped[2]);
    assert_eq!(staff.post(&void, json!({"reason": "wrong card"})).await.status, StatusCode::CREATED);

    let report = ok(&admin.get(DAILY).await).clone();
    let items = report["items"].as_array().unwrap();
    assert_eq!(items.len(), 30, "the default is the last 30 days");
    let today = items.last().unwrap();
    assert_eq!(report["to"], today["date"], "ending today");
    assert_eq!(today["stamps"], 13, "voided stamps were still given");
    assert_eq!(today["redemptions"], 1);
    assert_eq!(today["voids"], 1);
    assert_eq!(today["new_customers"], 3);
    assert_eq!(today["active_customers"], 2);
    assert!(items[..29].iter().all(|d| d["stamps"] == 0 && d["new_customers"] == 0), "{items:?}");
    assert_eq!(minji.get(STAMPS).await.body["balance"], 2);
}

#[tokio::test]
async fn the_staff_report_counts_each_barista_and_lists_the_idle_ones() {
    let app = spawn_app().await;
    let admin = app.user_with_role("owner", "admin").await;
    let (ara, bo) = (app.user_with_role("arami", "staff").await, app.user_with_role("bora", "staff").await);
    app.user_with_role("cyan", "staff").await;
    app.customer("minji", Some(PHONE)).await;
    for (who, count) in [(&ara, 5), (&ara, 5), (&bo, 3)] {
        let res = who.post(STAMPS, json!({"phone": PHONE, "count": count})).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    }
    let res = bo.post("/api/v1/stamps/redemptions", json!({"phone": PHONE})).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let last = bo.get(&format!("{STAMPS}/events?phone={PHONE}")).await.body["items"][0].clone();
    let res = bo.post(&void_path(&last), json!({})).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);

    let report = ok(&admin.get(STAFF).await).clone();
    let rows: Vec<(String, i64, i64, i64)> = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let n = |k: &str| r[k].as_i64().unwrap();
            (r["user"]["username"].as_str().unwrap().to_owned(), n("stamps"), n("redemptions"), n("voids"))
        })
        .collect();
    let expected = [("arami", 10, 0, 0), ("bora", 3, 1, 1), ("cyan", 0, 0, 0), ("owner", 0, 0, 0)];
    let expected: Vec<(String, i64, i64, i64)> =
        expected.iter().map(|(n, s, r, v)| ((*n).to_owned(), *s, *r, *v)).collect();
    assert_eq!(rows, expected, "most stamps first; customers are not staff");
    assert_eq!(report["items"][0]["user"]["id"], id_of(&app, "arami"));

    // Another range: nobody did anything then, but the team is still listed.
    let quiet = ok(&admin.get(&format!("{STAFF}?from=2020-01-01&to=2020-01-31")).await).clone();
    assert_eq!(quiet["items"].as_array().unwrap().len(), 4);
    assert!(quiet["items"].as_array().unwrap().iter().all(|r| r["stamps"] == 0));
}

#[tokio::test]
async fn a_range_is_two_dates_in_order_at_most_366_days_apart() {
    let app = spawn_app().await;
    let admin = app.user_with_role("owner", "admin").await;
    for (query, field, code) in [
        ("from=2026-13-01&to=2026-12-01", "from", "invalid_format"),
        ("from=2026-2-1", "from", "invalid_format"),
        ("to=yesterday", "to", "invalid_format"),
        ("from=2026-12-02&to=2026-12-01", "to", "out_of_range"),
        ("from=2025-01-01&to=2026-01-02", "to", "out_of_range"),
    ] {
        for path in [DAILY, STAFF, CSV] {
            let res = admin.get(&format!("{path}?{query}")).await;
            res.assert_problem(422, "validation_failed");
            assert_eq!(res.field_errors(), [(field.to_owned(), code.to_owned())], "{path}?{query}");
        }
    }
    let year = ok(&admin.get(&format!("{DAILY}?from=2024-01-01&to=2024-12-31")).await).clone();
    assert_eq!(year["items"].as_array().unwrap().len(), 366, "a leap year is one range");
    let one = ok(&admin.get(&format!("{DAILY}?from=2026-12-01&to=2026-12-01")).await).clone();
    assert_eq!(one["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_owners_view_is_for_admins_only() {
    let app = spawn_app().await;
    let staff = app.user_with_role("barista", "staff").await;
    let customer = app.customer("minji", None).await;
    for path in [DAILY, STAFF, CSV, AUDIT] {
        staff.get(path).await.assert_problem(403, "forbidden");
        customer.get(path).await.assert_problem(403, "forbidden");
        app.client().get(path).await.assert_problem(401, "unauthenticated");
    }
}

/// Parses a CSV answer into its header and rows.
fn parse_csv(text: &str) -> (Vec<String>, Vec<BTreeMap<String, String>>) {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    let rows =
        reader.records().map(|r| header.iter().cloned().zip(r.unwrap().iter().map(str::to_owned)).collect()).collect();
    (header, rows)
}

#[tokio::test]
async fn the_csv_holds_every_event_and_survives_commas_quotes_korean_and_formulas() {
    let app = spawn_app().await;
    let admin = app.user_with_role("owner", "admin").await;
    let staff = app.user_with_role("barista", "staff").await;
    app.customer("minji", Some(PHONE)).await;
    let reasons =
        ["wrong card, sorry", "she said \"two\"", "잘못 찍은 도장", "=HYPERLINK(\"http://x\")", "-1+1", "@SUM(A1)"];
    for reason in reasons {
        let event = staff.post(STAMPS, json!({"phone": PHONE, "count": 1})).await.body["event"].clone();
        let path = void_path(&event);
        let res = staff.post(&path, json!({"reason": reason})).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    }
    staff.post(STAMPS, json!({"phone": PHONE, "count": 4})).await;

    let res = admin.get(CSV).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.header("content-type"), Some("text/csv; charset=utf-8"));
    let disposition = res.header("content-disposition").unwrap();
    assert!(disposition.starts_with("attachment; filename=\"stamp-events-"), "{disposition}");
    let (header, rows) = parse_csv(&res.text);
    for column in ["id", "created_at", "kind", "count", "balance_after", "phone", "by", "voids", "reason"] {
        assert!(header.iter().any(|h| h == column), "{column} in {header:?}");
    }
    let ids: BTreeSet<String> = rows.iter().map(|r| r["id"].clone()).collect();
    let stored: BTreeSet<String> = app.text_rows("SELECT id::text FROM stamp_events").into_iter().collect();
    assert_eq!((rows.len(), &ids), (13, &stored), "one row per event");
    assert!(rows.iter().all(|r| r["phone"] == "+821012345678" && r["by"] == "barista"), "{rows:?}");
    let written: Vec<&str> = rows.iter().filter(|r| r["kind"] == "voided").map(|r| r["reason"].as_str()).collect();
    let inert =
        ["wrong card, sorry", "she said \"two\"", "잘못 찍은 도장", "'=HYPERLINK(\"http://x\")", "'-1+1", "'@SUM(A1)"];
    assert_eq!(written, inert);
    let last = rows.last().unwrap();
    assert_eq!((last["kind"].as_str(), last["count"].as_str(), last["balance_after"].as_str()), ("earned", "4", "4"));
    let voided = rows.iter().find(|r| r["kind"] == "voided").unwrap();
    assert_eq!(voided["voids"], rows[0]["id"], "a void names the event it voids");

    // Another range holds none of them, and still the header.
    let res = admin.get(&format!("{CSV}?from=2020-01-01&to=2020-01-02")).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(parse_csv(&res.text).1.len(), 0);
    assert!(res.text.starts_with("id,"), "{}", res.text);
}

#[tokio::test]
async fn the_export_needs_a_recent_password_proof() {
    let app = spawn_app().await;
    let admin = app.user_with_role("owner", "admin").await;
    app.db_exec("UPDATE sessions SET authenticated_at = now() - interval '11 minutes'");
    admin.get(CSV).await.assert_problem(403, "reauthentication_required");
    ok(&admin.get(DAILY).await);
    let res = admin.post("/api/v1/sessions/current/reauthentication", json!({"password": PASSWORD})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(admin.get(CSV).await.status, StatusCode::OK);
}

/// `(actor username, action, target username)` of every entry, oldest first.
async fn log(admin: &Client) -> Vec<(Option<String>, String, Option<String>)> {
    let page = ok(&admin.get(&format!("{AUDIT}?limit=100")).await).clone();
    let name = |v: &Value| v.as_object().map(|o| o["username"].as_str().unwrap_or("(gone)").to_owned());
    let mut all: Vec<_> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (name(&e["actor"]), e["action"].as_str().unwrap().to_owned(), name(&e["target"])))
        .collect();
    all.reverse();
    all
}

fn owned(entries: &[(Option<&str>, &str, Option<&str>)]) -> Vec<(Option<String>, String, Option<String>)> {
    entries.iter().map(|(a, act, t)| (a.map(str::to_owned), (*act).to_owned(), t.map(str::to_owned))).collect()
}

/// The last mail with a link to `path`, within 20 s.
async fn mail_with(smtp: &SmtpServer, path: &str) -> String {
    let found = || with_link(&smtp.mails(), path).last().map(|m| (*m).clone());
    eventually(Duration::from_secs(20), path, || std::future::ready(found().is_some())).await;
    found().unwrap()
}

#[tokio::test]
async fn every_audited_action_writes_exactly_one_entry() {
    let smtp = SmtpServer::start();
    let url = smtp.url();
    let app = spawn_app_with(move |c| c.smtp_url = Some(url)).await;
    let admin = app.user_with_role("owner", "admin").await;
    let staff = app.user_with_role("barista", "staff").await;
    let minji = app.customer("minji", Some(PHONE)).await;
    let minji_id = id_of(&app, "minji");
    let second = app.client();
    second.login("minji", PASSWORD).await;

    // Admin changes, the customer's own, a void, revocations, a lock, a deletion.
    let user = format!("/api/v1/users/{minji_id}");
    ok(&admin.patch(&user, json!({"role": "staff"})).await);
    ok(&admin.patch(&user, json!({"role": "customer"})).await);
    ok(&admin.patch(&user, json!({"is_active": false})).await);
    ok(&admin.patch(&user, json!({"is_active": true})).await);
    minji.login("minji", PASSWORD).await;
    second.login("minji", PASSWORD).await;
    ok(&minji.patch("/api/v1/users/me", json!({"email": "minji@example.com"})).await);
    ok(&minji.patch("/api/v1/users/me", json!({"phone": "010-9999-8888"})).await);
    ok(&minji.patch("/api/v1/users/me", json!({"username": "minji2"})).await);
    let res = minji
        .put("/api/v1/users/me/password", json!({"current_password": PASSWORD, "new_password": "a brand new secret"}))
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text);
    let event = staff.post(STAMPS, json!({"phone": "010-9999-8888", "count": 1})).await.body["event"].clone();
    let void = void_path(&event);
    assert_eq!(staff.post(&void, json!({"reason": "oops"})).await.status, StatusCode::CREATED);
    let third = app.client();
    third.login("minji2", "a brand new secret").await;
    let sessions = minji.get("/api/v1/sessions").await.body["items"].clone();
    let other = sessions.as_array().unwrap().iter().find(|s| s["current"] == false).unwrap()["id"].clone();
    assert_eq!(
        minji.delete(&format!("/api/v1/sessions/{}", other.as_str().unwrap())).await.status,
        StatusCode::NO_CONTENT
    );
    let res = minji.delete("/api/v1/sessions").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["revoked"], 0);
    let before_reset = log(&admin).await.len();
    app.db_exec("UPDATE users SET email_verified = true WHERE username = 'minji2'");
    app.client().post("/api/v1/password-resets", json!({"email": "minji@example.com"})).await;
    let mail = mail_with(&smtp, "/reset-password").await;
    let token = reset_token(&mail);
    let confirm = json!({"token": token, "new_password": "the third secret"});
    let res = app.client().post("/api/v1/password-resets/confirm", confirm).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text);
    assert_eq!(log(&admin).await.len(), before_reset + 1);
    let res = minji.login("minji2", "the third secret").await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let res = minji.delete_with("/api/v1/users/me", json!({"password": "the third secret"})).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text);
    app.customer("jun", None).await;
    for _ in 0..10 {
        app.client().login("jun", "not the password").await;
    }
    app.client().login("jun", PASSWORD).await.assert_problem(429, "too_many_attempts");

    let gone = Some("(gone)");
    let expected = owned(&[
        (None, "user.created", Some("owner")),
        (None, "user.created", Some("barista")),
        (Some("owner"), "user.role_changed", gone),
        (Some("owner"), "user.role_changed", gone),
        (Some("owner"), "user.deactivated", gone),
        (Some("owner"), "user.reactivated", gone),
        (gone, "user.email_changed", gone),
        (gone, "user.phone_changed", gone),
        (gone, "user.username_changed", gone),
        (gone, "user.password_changed", gone),
        (Some("barista"), "stamp.voided", gone),
        (gone, "sessions.revoked", gone),
        (gone, "user.password_reset", gone),
        (gone, "user.deleted", gone),
        (None, "account.locked", Some("jun")),
    ]);
    assert_eq!(log(&admin).await, expected, "revoking no other session writes nothing");

    // What each says: ids for people (names when read), masked addresses, the address it came from.
    let entry = |action: &'static str| {
        let admin = &admin;
        async move { entries(admin, action).await.remove(0) }
    };
    let created = entry("user.created").await;
    assert_eq!(
        (created["actor"].clone(), created["detail"]["via"].clone(), created["ip"].clone()),
        (Value::Null, json!("cli"), Value::Null)
    );
    let role = entry("user.role_changed").await;
    assert_eq!(role["detail"], json!({"from": "customer", "to": "staff"}));
    assert_eq!(role["target"], json!({"id": minji_id, "username": null}));
    assert_eq!(role["actor"]["id"], id_of(&app, "owner"));
    assert_eq!(role["ip"], "127.0.0.1");
    let deactivated = entry("user.deactivated").await;
    assert_eq!(deactivated["detail"]["sessions_revoked"], 2);
    let email = entry("user.email_changed").await;
    assert_eq!(email["detail"]["from"], Value::Null);
    let to = email["detail"]["to"].as_str().unwrap();
    assert!(to.contains('*') && to.ends_with("@example.com") && !to.contains("minji@"), "{to}");
    let phone = entry("user.phone_changed").await;
    assert!(!phone.to_string().contains("99998888") && !phone.to_string().contains("12345678"), "{phone}");
    let voided = entry("stamp.voided").await;
    assert_eq!(voided["detail"]["event"], event["id"]);
    assert_eq!(voided["detail"]["reason"], "oops");
    let revoked = entry("sessions.revoked").await;
    assert_eq!(revoked["detail"]["session"], other);
    let locked = entry("account.locked").await;
    assert!(locked["detail"]["until"].is_string(), "{locked}");
    assert_eq!(locked["ip"], "127.0.0.1");
    assert_eq!(app.count("SELECT count(*) FROM audit_log WHERE detail::text ILIKE '%secret%'"), 0);
}

#[tokio::test]
async fn a_refused_change_leaves_no_entry_and_a_change_without_its_entry_does_not_happen() {
    let app = spawn_app().await;
    let admin = app.user_with_role("owner", "admin").await;
    let minji = app.customer("minji", None).await;
    app.customer("jun", None).await;
    let owner = format!("/api/v1/users/{}", id_of(&app, "owner"));
    admin.patch(&owner, json!({"role": "staff"})).await.assert_problem(409, "last_admin");
    minji.patch("/api/v1/users/me", json!({"username": "jun"})).await.assert_problem(409, "username_taken");
    assert_eq!(app.count("SELECT count(*) FROM audit_log WHERE action <> 'user.created'"), 0);

    // When the entry cannot be written, the change it records rolls back with it.
    app.db_exec("CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no'; END $$");
    app.db_exec("CREATE TRIGGER refuse BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse()");
    let jun = format!("/api/v1/users/{}", id_of(&app, "jun"));
    assert_eq!(admin.patch(&jun, json!({"role": "staff"})).await.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(admin.patch(&jun, json!({"is_active": false})).await.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        minji.patch("/api/v1/users/me", json!({"username": "minji2"})).await.status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(app.text_rows("SELECT role || is_active::text FROM users WHERE username = 'jun'"), ["customertrue"]);
    assert_eq!(app.count("SELECT count(*) FROM users WHERE username = 'minji'"), 1);
}

#[tokio::test]
async fn the_database_refuses_to_edit_the_log_or_delete_a_young_entry() {
    let app = spawn_app().await;
    app.user_with_role("owner", "admin").await;
    let mut conn = app.db();
    use diesel::RunQueryDsl;
    for statement in [
        "UPDATE audit_log SET action = 'user.reactivated'",
        "UPDATE audit_log SET at = now() - interval '400 days'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ] {
        let err = diesel::sql_query(statement).execute(&mut conn).expect_err(statement);
        assert!(err.to_string().contains("audit"), "{statement}: {err}");
    }
    assert_eq!(app.count("SELECT count(*) FROM audit_log"), 1);
    // An entry older than the retention may go, and the purge takes it.
    app.db_exec(
        "INSERT INTO audit_log (at, action, detail) VALUES (now() - interval '366 days', 'user.deleted', '{}')",
    );
    app.db_exec(
        "INSERT INTO audit_log (at, action, detail) VALUES (now() - interval '364 days', 'user.deleted', '{}')",
    );
    assert_eq!(stampcard::models::audit::purge(&mut conn).unwrap(), 1);
    assert_eq!(app.count("SELECT count(*) FROM audit_log"), 2);
}

#[tokio::test]
async fn fifty_simultaneous_voids_write_one_entry() {
    let app = spawn_app().await;
    let admin = app.user_with_role("owner", "admin").await;
    let staff = app.user_with_role("barista", "staff").await;
    app.customer("minji", Some(PHONE)).await;
    let event = staff.post(STAMPS, json!({"phone": PHONE, "count": 1})).await.body["event"].clone();
    let path = void_path(&event);
    let answers = join_all((0..50).map(|_| admin.post(&path, json!({})))).await;
    assert_eq!(answers.iter().filter(|r| r.status == StatusCode::CREATED).count(), 1);
    assert_eq!(entries(&admin, "stamp.voided").await.len(), 1);
}

#[tokio::test]
async fn the_audit_log_pages_newest_first_and_filters_by_actor_and_action() {
    let app = spawn_app().await;
    let admin = app.user_with_role("owner", "admin").await;
    let second = app.user_with_role("deputy", "admin").await;
    for name in ["amy1", "amy2", "amy3"] {
        app.customer(name, None).await;
        let path = format!("/api/v1/users/{}", id_of(&app, name));
        ok(&admin.patch(&path, json!({"role": "staff"})).await);
        ok(&second.patch(&path, json!({"is_active": false})).await);
    }
    let mut seen = Vec::new();
    let mut path = format!("{AUDIT}?limit=3");
    loop {
        let page = ok(&admin.get(&path).await).clone();
        seen.extend(page["items"].as_array().unwrap().iter().map(|e| e["at"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("{AUDIT}?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 8);
    assert!(seen.windows(2).all(|w| w[0] >= w[1]), "newest first: {seen:?}");
    let deputy = id_of(&app, "deputy");
    let by_deputy = ok(&admin.get(&format!("{AUDIT}?actor={deputy}")).await).clone();
    let actions: Vec<&str> =
        by_deputy["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["user.deactivated"; 3]);
    let roles =
        ok(&admin.get(&format!("{AUDIT}?action=user.role_changed&actor={}", id_of(&app, "owner"))).await).clone();
    let targets: Vec<&str> =
        roles["items"].as_array().unwrap().iter().map(|e| e["target"]["username"].as_str().unwrap()).collect();
    assert_eq!(targets, ["amy3", "amy2", "amy1"]);
    let res = admin.get(&format!("{AUDIT}?actor=nobody&action=user.renamed")).await;
    res.assert_problem(422, "validation_failed");
    let mut errors = res.field_errors();
    errors.sort();
    assert_eq!(
        errors,
        [("action".to_owned(), "invalid_choice".to_owned()), ("actor".to_owned(), "invalid_format".to_owned())]
    );
}

#[tokio::test]
async fn the_command_lines_changes_are_entries_with_no_actor() {
    let app = spawn_app().await;
    let admin = app.user_with_role("owner", "admin").await;
    app.customer("minji", None).await;
    let run = |args: &[&str]| {
        let out = stampcard().args(args).env("DATABASE_URL", &app.database_url).output().expect("run the binary");
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    run(&["user", "set-role", "--username", "minji", "--role", "staff"]);
    run(&["user", "set-active", "--username", "minji", "--active", "false"]);
    let log = log(&admin).await;
    let expected = owned(&[
        (None, "user.created", Some("owner")),
        (None, "user.role_changed", Some("minji")),
        (None, "user.deactivated", Some("minji")),
    ]);
    assert_eq!(log, expected);
    for action in ["user.role_changed", "user.deactivated"] {
        let entry = entries(&admin, action).await.remove(0);
        assert_eq!((entry["detail"]["via"].as_str(), entry["ip"].clone()), (Some("cli"), Value::Null));
    }
}

/// The SQL of `docs/operations.md`'s audit section, for `database` and two roles of the test's
/// own: the statements a superuser runs, and those the owner runs after migrating.
fn documented_roles(database: &str, owner: &str, service: &str) -> (Vec<String>, Vec<String>) {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/operations.md")).unwrap();
    let section = doc.split("## The audit log, and a role that cannot rewrite it").nth(1).expect("the section");
    let block = section.split("```sql\n").nth(1).unwrap().split("```").next().unwrap();
    let named = block
        .replace("stampcard_owner", owner)
        .replace("stampcard_app", service)
        .replace("DATABASE stampcard ", &format!("DATABASE {database} "));
    let (superuser, owners) = named.split_once(&format!("-- As {owner}")).expect("the owner's part");
    let owners = owners.split_once('\n').map_or("", |(_, rest)| rest);
    let statements = |sql: &str| -> Vec<String> {
        let code: String = sql.lines().filter(|l| !l.starts_with("--")).collect::<Vec<_>>().join("\n");
        code.split(';').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
    };
    (statements(superuser), statements(owners))
}

const PASSWORD_OF_ROLES: &str = "roles-of-a-test";

#[tokio::test]
async fn the_service_runs_as_a_role_that_cannot_rewrite_the_log() {
    use diesel::{Connection, PgConnection, RunQueryDsl};
    let database_url = tokio::task::spawn_blocking(crate::helpers::empty_database).await.unwrap();
    let (server, database) = database_url.rsplit_once('/').unwrap();
    let (owner, service) = (format!("{database}_owner"), format!("{database}_app"));
    let (as_superuser, as_owner) = documented_roles(database, &owner, &service);
    // Their own password too, so that the test holds on a cluster that asks for one.
    let (scheme, rest) = server.split_once("//").unwrap();
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let url_of = |role: &str| format!("{scheme}//{role}:{PASSWORD_OF_ROLES}@{host}/{database}");
    let run = |url: &str, statements: &[String]| {
        let mut conn = PgConnection::establish(url).expect("connect");
        for statement in statements {
            diesel::sql_query(statement).execute(&mut conn).unwrap_or_else(|e| panic!("{statement}: {e}"));
        }
    };
    run(&database_url, &as_superuser);
    let passwords = [&owner, &service].map(|role| format!("ALTER ROLE {role} PASSWORD '{PASSWORD_OF_ROLES}'"));
    run(&database_url, &passwords);
    assert_eq!(stampcard::db::migrate(&url_of(&owner)).unwrap(), 10, "the owner migrates");
    run(&url_of(&owner), &as_owner);
    assert_eq!(stampcard::db::migrate(&url_of(&service)).unwrap(), 0, "the service finds nothing to do");

    let app = spawn_app_on(&database_url, &url_of(&service), |_| {});
    let admin = app.user_with_role("owner", "admin").await;
    app.customer("minji", None).await;
    let path = format!("/api/v1/users/{}", id_of(&app, "minji"));
    ok(&admin.patch(&path, json!({"role": "staff"})).await);
    assert_eq!(entries(&admin, "user.role_changed").await.len(), 1);

    let mut conn = PgConnection::establish(&url_of(&service)).unwrap();
    for statement in [
        "DROP TRIGGER audit_log_append_only ON audit_log",
        "ALTER TABLE audit_log DISABLE TRIGGER ALL",
        "UPDATE audit_log SET detail = '{}'",
        "DELETE FROM audit_log",
        "UPDATE audit_retention SET days = 1",
        "DROP TABLE audit_log",
    ] {
        assert!(diesel::sql_query(statement).execute(&mut conn).is_err(), "{statement} went through");
    }
    assert_eq!(app.count("SELECT count(*) FROM audit_log"), 2);
}
