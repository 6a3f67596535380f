//! The Stamps table of the contract: stamping by phone, redemption, history, idempotency and
//! what concurrency must never do to a balance.

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_app_with, Client, Res, TestApp, PASSWORD};

const PHONE: &str = "010-1234-5678";

/// The stamping endpoint as idempotency keys are scoped to it.
const STAMPS_ENDPOINT: &str = "POST /api/v1/stamps";
const E164: &str = "+821012345678";
const STAMPS: &str = "/api/v1/stamps";
const EVENTS: &str = "/api/v1/stamps/events";
const REDEMPTIONS: &str = "/api/v1/stamps/redemptions";

/// A cafe: one barista and one customer with [`PHONE`].
async fn cafe(app: &TestApp) -> (Client, Client) {
    let staff = app.user_with_role("barista", "staff").await;
    let customer = app.customer("minji", Some(PHONE)).await;
    (staff, customer)
}

async fn stamp(staff: &Client, phone: &str, count: i64) -> Res {
    staff.post(STAMPS, json!({"phone": phone, "count": count})).await
}

async fn stamp_with_key(staff: &Client, body: Value, key: &str) -> Res {
    staff.send(Method::POST, STAMPS, Some(body), &[("Idempotency-Key", key)]).await
}

/// At the counter: the barista redeems the customer's free coffee by phone.
async fn redeem_for(staff: &Client, key: Option<&str>) -> Res {
    redeem(staff, Some(json!({"phone": PHONE})), key).await
}

async fn redeem(client: &Client, body: Option<Value>, key: Option<&str>) -> Res {
    let headers: Vec<(&str, &str)> = key.map(|k| ("Idempotency-Key", k)).into_iter().collect();
    client.send(Method::POST, REDEMPTIONS, body, &headers).await
}

#[track_caller]
fn assert_created(res: &Res) {
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
}

/// The customer's card as the customer sees it.
async fn card_of(customer: &Client) -> Value {
    let res = customer.get(STAMPS).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    res.body
}

#[tokio::test]
async fn twenty_three_stamps_and_two_redemptions_leave_three() {
    let app = spawn_app().await;
    let (staff, customer) = cafe(&app).await;

    for count in [10, 10, 3] {
        assert_created(&stamp(&staff, PHONE, count).await);
    }
    let first = redeem_for(&staff, None).await;
    let second = redeem(&staff, Some(json!({"phone": "+82 10 1234 5678"})), None).await;

    assert_created(&first);
    assert_created(&second);
    assert_eq!(first.body["redemption"]["stamps_used"], 10);
    assert!(first.body["redemption"]["id"].is_string() && first.body["redemption"]["created_at"].is_string());
    assert_eq!(first.body["card"]["balance"], 13);
    let card = card_of(&customer).await;
    assert_eq!(card["phone"], E164);
    assert_eq!(card["balance"], 3);
    assert_eq!(card["total_earned"], 23);
    assert_eq!(card["total_redeemed"], 20);
    assert_eq!(card["rewards_available"], 0);
    assert_eq!(card["stamps_per_reward"], 10);
    assert!(card["updated_at"].as_str().is_some_and(|t| t.ends_with('Z')), "{card}");
    let third = redeem_for(&staff, None).await;
    third.assert_problem(409, "insufficient_stamps");
    assert_eq!(third.body["balance"], 3);
    assert_eq!(app.count("SELECT count(*) FROM redemptions"), 2);
}

#[tokio::test]
async fn a_stamp_answers_with_the_card_and_its_event() {
    let app = spawn_app().await;
    let (staff, _customer) = cafe(&app).await;

    let res = stamp(&staff, PHONE, 4).await;

    assert_created(&res);
    let event = &res.body["event"];
    assert_eq!(event["kind"], "earned");
    assert_eq!(event["count"], 4);
    assert_eq!(event["balance_after"], 4);
    assert!(event["id"].as_str().is_some_and(|id| id.len() == 36) && event["created_at"].is_string(), "{event}");
    assert_eq!(event["by"]["username"], "barista", "staff see who made it: {event}");
    assert_eq!(
        (event["voids"].clone(), event["voided"].clone(), event["reason"].clone()),
        (Value::Null, json!(false), Value::Null)
    );
    assert_eq!(event.as_object().map(|o| o.len()), Some(9), "no internal columns leak: {event}");
    assert_eq!(res.body["card"]["balance"], 4);
    assert_eq!(res.body["card"]["rewards_available"], 0);
}

#[tokio::test]
async fn the_configured_stamps_per_reward_is_used() {
    let app = spawn_app_with(|c| c.stamps_per_reward = 5).await;
    let (staff, customer) = cafe(&app).await;
    assert_created(&stamp(&staff, PHONE, 7).await);

    let card = card_of(&customer).await;
    let redeemed = redeem_for(&staff, None).await;
    let again = redeem_for(&staff, None).await;

    assert_eq!((card["stamps_per_reward"].clone(), card["rewards_available"].clone()), (json!(5), json!(1)));
    assert_created(&redeemed);
    assert_eq!(redeemed.body["redemption"]["stamps_used"], 5);
    assert_eq!(redeemed.body["card"]["balance"], 2);
    again.assert_problem(409, "insufficient_stamps");
    assert_eq!((again.body["balance"].clone(), again.body["stamps_per_reward"].clone()), (json!(2), json!(5)));
}

#[tokio::test]
async fn fifty_parallel_stamps_on_one_card_are_all_counted() {
    let app = spawn_app().await;
    let (staff, customer) = cafe(&app).await;

    let answers = join_all((0..50).map(|_| stamp(&staff, PHONE, 1))).await;

    assert!(answers.iter().all(|r| r.status == StatusCode::CREATED), "{:?}", answers.iter().find(|r| r.status != 201));
    assert_eq!(card_of(&customer).await["balance"], 50);
    assert_eq!(app.count("SELECT count(*) FROM stamp_events WHERE kind = 'earned'"), 50);
    // Each stamp saw the one before it: no two events claim the same balance.
    assert_eq!(app.count("SELECT count(DISTINCT balance_after) FROM stamp_events"), 50);
}

#[tokio::test]
async fn twenty_parallel_redemptions_of_ten_stamps_succeed_exactly_once() {
    let app = spawn_app().await;
    let (staff, customer) = cafe(&app).await;
    assert_created(&stamp(&staff, PHONE, 10).await);

    let answers = join_all((0..20).map(|_| redeem_for(&staff, None))).await;

    let created = answers.iter().filter(|r| r.status == StatusCode::CREATED).count();
    assert_eq!(created, 1);
    for refused in answers.iter().filter(|r| r.status != StatusCode::CREATED) {
        refused.assert_problem(409, "insufficient_stamps");
    }
    assert_eq!(card_of(&customer).await["balance"], 0);
    assert_eq!(app.count("SELECT count(*) FROM redemptions"), 1);
    assert_eq!(app.count("SELECT count(*) FROM stamp_events WHERE kind = 'redeemed'"), 1);
}

#[tokio::test]
async fn one_idempotency_key_sent_twenty_times_in_parallel_has_one_effect() {
    let app = spawn_app().await;
    let (staff, customer) = cafe(&app).await;
    let body = json!({"phone": PHONE, "count": 1});

    let answers = join_all((0..20).map(|_| stamp_with_key(&staff, body.clone(), "order-17"))).await;

    let first: Vec<&Res> = answers
        .iter()
        .filter(|r| r.status == StatusCode::CREATED && r.header("idempotent-replayed").is_none())
        .collect();
    assert_eq!(first.len(), 1, "exactly one request ran");
    let original = first[0];
    for answer in &answers {
        if answer.status == StatusCode::CONFLICT {
            answer.assert_problem(409, "idempotency_key_in_progress");
        } else if !std::ptr::eq(answer, original) {
            assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
            assert_eq!(answer.header("idempotent-replayed"), Some("true"));
            assert_eq!(answer.text, original.text, "a replay is the first answer");
        }
    }
    assert_eq!(card_of(&customer).await["balance"], 1);
    assert_eq!(app.count("SELECT count(*) FROM stamp_events"), 1);
    let later = stamp_with_key(&staff, body, "order-17").await;
    assert_eq!(later.status, StatusCode::CREATED);
    assert_eq!(later.header("idempotent-replayed"), Some("true"));
    assert_eq!(later.text, original.text);
    assert_eq!(card_of(&customer).await["balance"], 1);
}

/// POSTs a raw body with the client's session, to control the exact bytes.
async fn post_raw(app: &TestApp, client: &Client, body: &str, key: &str) -> (StatusCode, Option<String>, String) {
    let cookie = client.cookie().expect("logged in");
    let res = reqwest::Client::new()
        .post(format!("{}{STAMPS}", app.address))
        .header("cookie", format!("stampcard_session={cookie}"))
        .header("content-type", "application/json")
        .header("idempotency-key", key)
        .body(body.to_owned())
        .send()
        .await
        .expect("the server answers");
    let replayed = res.headers().get("idempotent-replayed").and_then(|v| v.to_str().ok()).map(str::to_owned);
    (res.status(), replayed, res.text().await.expect("a body"))
}

#[tokio::test]
async fn a_key_means_the_same_json_value_not_the_same_bytes() {
    let app = spawn_app().await;
    let (staff, customer) = cafe(&app).await;

    let (status, _, first) = post_raw(&app, &staff, r#"{"phone":"010-1234-5678","count":2}"#, "k1").await;
    let (again, replayed, second) =
        post_raw(&app, &staff, "{ \"count\": 2,\n  \"phone\": \"010-1234-5678\" }", "k1").await;
    let other = stamp_with_key(&staff, json!({"phone": PHONE, "count": 3}), "k1").await;

    assert_eq!((status, again), (StatusCode::CREATED, StatusCode::CREATED));
    assert_eq!(replayed.as_deref(), Some("true"));
    assert_eq!(second, first);
    other.assert_problem(422, "idempotency_key_reused");
    assert_eq!(card_of(&customer).await["balance"], 2);
}

#[tokio::test]
async fn another_users_identical_key_is_a_different_key() {
    let app = spawn_app().await;
    let (staff, customer) = cafe(&app).await;
    let other_staff = app.user_with_role("manager", "admin").await;
    let body = json!({"phone": PHONE, "count": 1});

    let mine = stamp_with_key(&staff, body.clone(), "shared-key").await;
    let theirs = stamp_with_key(&other_staff, body, "shared-key").await;

    assert_created(&mine);
    assert_created(&theirs);
    assert_eq!(theirs.header("idempotent-replayed"), None);
    assert_eq!(card_of(&customer).await["balance"], 2);
}

#[tokio::test]
async fn without_a_key_each_request_is_its_own_effect() {
    let app = spawn_app().await;
    let (staff, customer) = cafe(&app).await;

    let first = stamp(&staff, PHONE, 1).await;
    let second = stamp(&staff, PHONE, 1).await;

    assert_created(&first);
    assert_created(&second);
    assert_ne!(first.body["event"]["id"], second.body["event"]["id"]);
    assert_eq!(card_of(&customer).await["balance"], 2);
    assert_eq!(app.count("SELECT count(*) FROM idempotency_keys"), 0);
}

#[tokio::test]
async fn a_customer_not_found_answer_is_replayed_even_after_the_customer_appears() {
    let app = spawn_app().await;
    let staff = app.user_with_role("barista", "staff").await;
    let body = json!({"phone": PHONE});

    let first = stamp_with_key(&staff, body.clone(), "early").await;
    let customer = app.customer("minji", Some(PHONE)).await;
    let replay = stamp_with_key(&staff, body.clone(), "early").await;
    let fresh = stamp_with_key(&staff, body, "later").await;

    first.assert_problem(404, "customer_not_found");
    replay.assert_problem(404, "customer_not_found");
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.text, first.text);
    assert_created(&fresh);
    assert_eq!(card_of(&customer).await["balance"], 1);
}

#[tokio::test]
async fn an_insufficient_stamps_answer_is_replayed_with_its_balance() {
    let app = spawn_app().await;
    let (staff, customer) = cafe(&app).await;
    assert_created(&stamp(&staff, PHONE, 3).await);

    let first = redeem_for(&staff, Some("coffee-1")).await;
    assert_created(&stamp(&staff, PHONE, 10).await);
    let replay = redeem_for(&staff, Some("coffee-1")).await;
    let fresh = redeem_for(&staff, Some("coffee-2")).await;

    first.assert_problem(409, "insufficient_stamps");
    assert_eq!(first.body["balance"], 3);
    replay.assert_problem(409, "insufficient_stamps");
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.text, first.text);
    assert_created(&fresh);
    assert_eq!(card_of(&customer).await["balance"], 3);
}

#[tokio::test]
async fn a_key_held_by_a_running_request_is_in_progress_and_free_the_moment_its_owner_dies() {
    use diesel::{Connection, RunQueryDsl};
    let app = spawn_app().await;
    let (staff, customer) = cafe(&app).await;
    let body = json!({"phone": PHONE});
    let staff_id = staff.get("/api/v1/users/me").await.body["id"].as_str().unwrap().to_owned();
    // How a request that holds the key looks to PostgreSQL: a transaction holding the key's
    // lock, its effect not yet committed (here: on another connection, as another instance).
    let mut owner = app.db();
    owner.begin_test_transaction().unwrap();
    diesel::sql_query(format!(
        "SELECT pg_advisory_xact_lock(hashtextextended('idempotency:{staff_id}:{STAMPS_ENDPOINT}:slow', 0))"
    ))
    .execute(&mut owner)
    .unwrap();

    let running = stamp_with_key(&staff, body.clone(), "slow").await;
    running.assert_problem(409, "idempotency_key_in_progress");
    assert!(running.header("retry-after").is_some());
    // The owner dies: its connection drops, PostgreSQL aborts its transaction, the key is free
    // (once the server has noticed the dropped connection).
    drop(owner);
    let released = || std::future::ready(app.count("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'") == 0);
    crate::helpers::eventually(std::time::Duration::from_secs(5), "the dead owner's lock to go", released).await;
    let retried = stamp_with_key(&staff, body.clone(), "slow").await;
    let replayed = stamp_with_key(&staff, body, "slow").await;

    assert_created(&retried);
    assert_eq!(retried.header("idempotent-replayed"), None, "the retry ran the effect");
    assert_eq!(replayed.header("idempotent-replayed"), Some("true"));
    assert_eq!(replayed.text, retried.text);
    assert_eq!(card_of(&customer).await["balance"], 1, "one effect");
}

#[tokio::test]
async fn a_malformed_idempotency_key_is_422_and_nothing_is_stored() {
    let app = spawn_app().await;
    let (staff, customer) = cafe(&app).await;
    let body = json!({"phone": PHONE});
    let too_long = "k".repeat(256);

    for key in [too_long.as_str(), "tab\there", ""] {
        let res = stamp_with_key(&staff, body.clone(), key).await;
        res.assert_problem(422, "validation_failed");
        assert_eq!(res.field_errors(), [("Idempotency-Key".to_owned(), "invalid_format".to_owned())], "{key:?}");
    }
    let forbidden = stamp_with_key(&customer, body.clone(), "mine").await;
    let longest = stamp_with_key(&staff, body, &"k".repeat(255)).await;

    forbidden.assert_problem(403, "forbidden");
    assert_created(&longest);
    assert_eq!(app.count("SELECT count(*) FROM idempotency_keys"), 1, "only the executed request is recorded");
}

#[tokio::test]
async fn counts_outside_one_to_ten_or_not_whole_numbers_are_422() {
    let app = spawn_app().await;
    let (staff, _customer) = cafe(&app).await;
    let cases = [
        (json!(0), "out_of_range"),
        (json!(11), "out_of_range"),
        (json!(-1), "out_of_range"),
        (json!(1_u64 << 40), "out_of_range"),
        (json!("1"), "invalid_type"),
        (json!(null), "invalid_type"),
        (json!(1.5), "invalid_type"),
        (json!(true), "invalid_type"),
    ];

    for (count, code) in cases {
        let res = staff.post(STAMPS, json!({"phone": PHONE, "count": count})).await;
        res.assert_problem(422, "validation_failed");
        assert_eq!(res.field_errors(), [("count".to_owned(), code.to_owned())], "count {count}");
    }
    let missing = staff.post(STAMPS, json!({"count": 1})).await;
    let garbage = staff.post(STAMPS, json!({"phone": "not a phone"})).await;

    let one_of = [("card_code".to_owned(), "one_of".to_owned()), ("phone".to_owned(), "one_of".to_owned())];
    assert_eq!(missing.field_errors(), one_of, "a phone or a card code");
    assert_eq!(garbage.field_errors(), [("phone".to_owned(), "invalid_phone".to_owned())]);
    let typed = staff.post(STAMPS, json!({"phone": 1012345678})).await;
    typed.assert_problem(422, "validation_failed");
    // The phone of the wrong type is named, and, as the request now names no customer, so is
    // the card code it might have sent instead.
    let typed_errors = [("card_code".to_owned(), "one_of".to_owned()), ("phone".to_owned(), "invalid_type".to_owned())];
    assert_eq!(typed.field_errors(), typed_errors);
    assert_eq!(app.count("SELECT count(*) FROM stamp_events"), 0);
    let whole = staff.post(STAMPS, json!({"phone": PHONE, "count": 2.0})).await;
    assert_eq!(whole.body["event"]["count"], 2, "2.0 is a whole number, as JSON Schema says: {}", whole.text);
}

#[tokio::test]
async fn only_active_customers_can_be_stamped() {
    let app = spawn_app().await;
    let staff = app.user_with_role("barista", "staff").await;
    app.customer("gone", Some("010-9999-0000")).await;
    app.db_exec("UPDATE users SET is_active = false WHERE username = 'gone'");
    app.db_exec("UPDATE users SET phone = '+821055556666' WHERE username = 'barista'");

    let unknown = stamp(&staff, "010-1111-2222", 1).await;
    let inactive = stamp(&staff, "010-9999-0000", 1).await;
    let a_colleague = stamp(&staff, "010-5555-6666", 1).await;

    unknown.assert_problem(404, "customer_not_found");
    inactive.assert_problem(404, "customer_not_found");
    a_colleague.assert_problem(404, "customer_not_found");
    assert_eq!(app.count("SELECT count(*) FROM cards"), 0);
}

#[tokio::test]
async fn customers_cannot_stamp_and_anonymous_callers_are_401() {
    let app = spawn_app().await;
    let (_staff, customer) = cafe(&app).await;
    let anonymous = app.client();

    customer.post(STAMPS, json!({"phone": PHONE})).await.assert_problem(403, "forbidden");
    anonymous.post(STAMPS, json!({"phone": PHONE})).await.assert_problem(401, "unauthenticated");
    anonymous.get(STAMPS).await.assert_problem(401, "unauthenticated");
    anonymous.get(EVENTS).await.assert_problem(401, "unauthenticated");
    redeem(&anonymous, None, None).await.assert_problem(401, "unauthenticated");
    assert_eq!(app.count("SELECT count(*) FROM stamp_events"), 0);
}

#[tokio::test]
async fn get_on_redemptions_is_405_with_allow_post() {
    let app = spawn_app().await;
    let (_staff, customer) = cafe(&app).await;

    let res = customer.get(REDEMPTIONS).await;

    res.assert_problem(405, "method_not_allowed");
    assert_eq!(res.header("allow"), Some("POST"));
}

#[tokio::test]
async fn any_phone_format_reaches_the_same_card() {
    let app = spawn_app().await;
    let (staff, customer) = cafe(&app).await;

    for phone in ["010-1234-5678", "+82 10 1234 5678", "01012345678"] {
        assert_created(&stamp(&staff, phone, 1).await);
    }
    let by_national = staff.get(&format!("{STAMPS}?phone=010-1234-5678")).await;
    let by_international = staff.get(&format!("{STAMPS}?phone=%2B82%2010%201234%205678")).await;

    assert_eq!(card_of(&customer).await["balance"], 3);
    assert_eq!(by_national.body["balance"], 3);
    assert_eq!(by_international.body, by_national.body);
    assert_eq!(app.count("SELECT count(*) FROM cards"), 1);
}

#[tokio::test]
async fn customers_see_only_their_own_card_and_history() {
    let app = spawn_app().await;
    let (staff, customer) = cafe(&app).await;
    let neighbour = app.customer("jisoo", Some("010-2222-3333")).await;
    assert_created(&stamp(&staff, "010-2222-3333", 5).await);

    let mine = card_of(&customer).await;
    let my_events = customer.get(EVENTS).await;

    assert_eq!((mine["balance"].clone(), mine["updated_at"].clone()), (json!(0), Value::Null), "never stamped");
    assert_eq!(mine["phone"], E164);
    assert_eq!(my_events.body["items"], json!([]));
    customer.get(&format!("{STAMPS}?phone=010-2222-3333")).await.assert_problem(403, "forbidden");
    customer.get(&format!("{EVENTS}?phone=010-2222-3333")).await.assert_problem(403, "forbidden");
    redeem(&customer, Some(json!({"phone": "010-2222-3333"})), None).await.assert_problem(403, "forbidden");
    assert_eq!(card_of(&neighbour).await["balance"], 5);
}

#[tokio::test]
async fn staff_read_a_customers_card_and_history_by_phone() {
    let app = spawn_app().await;
    let (staff, _customer) = cafe(&app).await;
    assert_created(&stamp(&staff, PHONE, 10).await);
    assert_created(&redeem(&staff, Some(json!({"phone": PHONE})), None).await);
    assert_created(&stamp(&staff, PHONE, 2).await);

    let card = staff.get(&format!("{STAMPS}?phone={PHONE}")).await;
    let events = staff.get(&format!("{EVENTS}?phone={PHONE}")).await;
    let own = staff.get(STAMPS).await;

    assert_eq!(card.status, StatusCode::OK);
    assert_eq!((card.body["phone"].clone(), card.body["balance"].clone()), (json!(E164), json!(2)));
    let kinds: Vec<(Value, Value, Value)> = events.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| (e["kind"].clone(), e["count"].clone(), e["balance_after"].clone()))
        .collect();
    assert_eq!(
        kinds,
        [
            (json!("earned"), json!(2), json!(2)),
            (json!("redeemed"), json!(10), json!(0)),
            (json!("earned"), json!(10), json!(10))
        ],
        "newest first"
    );
    assert_eq!(events.body["next_cursor"], Value::Null);
    assert_eq!((own.body["phone"].clone(), own.body["balance"].clone()), (Value::Null, json!(0)), "their own card");
    staff.get(&format!("{STAMPS}?phone=010-0000-0000")).await.assert_problem(404, "customer_not_found");
    staff.get(&format!("{EVENTS}?phone=nonsense")).await.assert_problem(404, "customer_not_found");
}

/// Follows `next_cursor` from the first page; stamps `between` more after the first page.
async fn read_all_events(staff: &Client, between: i64) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("{EVENTS}?phone={PHONE}&limit=20&cursor={c}"),
            None => format!("{EVENTS}?phone={PHONE}&limit=20"),
        };
        let page = staff.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        items.extend(page.body["items"].as_array().expect("items").iter().cloned());
        if cursor.is_none() {
            for _ in 0..between {
                assert_created(&stamp(staff, PHONE, 1).await);
            }
        }
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return items,
        }
    }
}

#[tokio::test]
async fn paging_through_45_events_yields_each_once_newest_first() {
    let app = spawn_app().await;
    let (staff, _customer) = cafe(&app).await;
    for _ in 0..45 {
        assert_created(&stamp(&staff, PHONE, 1).await);
    }

    let items = read_all_events(&staff, 0).await;

    let balances: Vec<i64> = items.iter().map(|e| e["balance_after"].as_i64().unwrap_or(-1)).collect();
    assert_eq!(balances, (1..=45).rev().collect::<Vec<_>>());
    let ids: std::collections::HashSet<&str> = items.iter().filter_map(|e| e["id"].as_str()).collect();
    assert_eq!(ids.len(), 45);
}

#[tokio::test]
async fn stamps_added_while_paging_neither_shift_nor_join_later_pages() {
    let app = spawn_app().await;
    let (staff, _customer) = cafe(&app).await;
    for _ in 0..45 {
        assert_created(&stamp(&staff, PHONE, 1).await);
    }

    let items = read_all_events(&staff, 5).await;

    let balances: Vec<i64> = items.iter().map(|e| e["balance_after"].as_i64().unwrap_or(-1)).collect();
    assert_eq!(balances, (1..=45).rev().collect::<Vec<_>>(), "no duplicates, no gaps, nothing new");
    let fresh = staff.get(&format!("{EVENTS}?phone={PHONE}&limit=1")).await;
    assert_eq!(fresh.body["items"][0]["balance_after"], 50, "a new first page shows them");
}

#[tokio::test]
async fn bad_paging_parameters_are_400() {
    let app = spawn_app().await;
    let (_staff, customer) = cafe(&app).await;

    for query in ["limit=0", "limit=101", "limit=ten", "cursor=garbage"] {
        customer.get(&format!("{EVENTS}?{query}")).await.assert_problem(400, "malformed_request");
    }
}

#[tokio::test]
async fn staff_must_name_the_customer_to_redeem_for() {
    let app = spawn_app().await;
    let (staff, _customer) = cafe(&app).await;
    assert_created(&stamp(&staff, PHONE, 10).await);

    let empty = redeem(&staff, Some(json!({})), None).await;
    let no_body = redeem(&staff, None, None).await;
    let both = redeem(&staff, Some(json!({"phone": PHONE, "card_code": "12345678"})), None).await;
    let garbage = redeem(&staff, Some(json!({"phone": "nope"})), None).await;

    for res in [&empty, &no_body, &both] {
        res.assert_problem(422, "validation_failed");
        let one_of = [("card_code".to_owned(), "one_of".to_owned()), ("phone".to_owned(), "one_of".to_owned())];
        assert_eq!(res.field_errors(), one_of);
    }
    assert_eq!(garbage.field_errors(), [("phone".to_owned(), "invalid_phone".to_owned())]);
    assert_eq!(app.count("SELECT count(*) FROM redemptions"), 0);
}

#[tokio::test]
async fn customers_do_not_redeem_their_own_card() {
    let app = spawn_app().await;
    let (staff, customer) = cafe(&app).await;
    assert_created(&stamp(&staff, PHONE, 10).await);

    for body in [None, Some(json!({})), Some(json!({"phone": PHONE}))] {
        redeem(&customer, body, None).await.assert_problem(403, "forbidden");
    }
    assert_eq!(card_of(&customer).await["balance"], 10, "nothing redeemed");
}

#[tokio::test]
async fn deleting_the_account_erases_the_person_and_keeps_the_history_anonymous() {
    let app = spawn_app().await;
    let (staff, customer) = cafe(&app).await;
    let other = app.customer("jisoo", Some("010-2222-3333")).await;
    assert_created(&stamp(&staff, PHONE, 10).await);
    assert_created(&redeem_for(&staff, Some("bye-coffee")).await);
    assert_created(&stamp(&staff, "010-2222-3333", 1).await);
    let id = customer.get("/api/v1/users/me").await.body["id"].as_str().expect("an id").to_owned();
    let mine = |table: &str| app.count(&format!("SELECT count(*) FROM {table} WHERE user_id = '{id}'"));
    assert_eq!((mine("cards"), mine("stamp_events"), mine("redemptions")), (1, 2, 1));

    let res = customer.delete_with("/api/v1/users/me", json!({"password": PASSWORD})).await;

    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text);
    // The person is gone (name, phone, email, card); the events stay for the owner's reports,
    // under an id that names nobody.
    assert_eq!(app.count(&format!("SELECT count(*) FROM users WHERE id = '{id}'")), 0);
    assert_eq!(app.count("SELECT count(*) FROM users WHERE phone = '+821012345678'"), 0);
    assert_eq!(mine("cards"), 0);
    assert_eq!((mine("stamp_events"), mine("redemptions")), (2, 1), "the history stays, anonymous");
    assert_eq!(mine("idempotency_keys"), 0);
    staff.get(&format!("{STAMPS}?phone={PHONE}")).await.assert_problem(404, "customer_not_found");
    assert_eq!(card_of(&other).await["balance"], 1, "nobody else's card goes");
}
