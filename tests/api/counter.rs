//! At the counter: card codes the barista scans, rewards redeemed at the till, voids that
//! undo a mistake without deleting it, and the customer's card live.

use std::time::Duration;

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::events::{EventStream, Next};
use crate::helpers::{spawn_app, spawn_app_with, Client, Res, TestApp, PASSWORD};

const PHONE: &str = "010-1234-5678";
const CODES: &str = "/api/v1/stamps/card-code";
const STAMPS: &str = "/api/v1/stamps";
const EVENTS: &str = "/api/v1/stamps/events";
const REDEMPTIONS: &str = "/api/v1/stamps/redemptions";

async fn cafe(app: &TestApp) -> (Client, Client) {
    (app.user_with_role("barista", "staff").await, app.customer("minji", Some(PHONE)).await)
}

async fn code_of(customer: &Client) -> String {
    let res = customer.post(CODES, json!({})).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    res.body["code"].as_str().unwrap().to_owned()
}

async fn stamp_by_code(staff: &Client, code: &str, count: i64) -> Res {
    staff.post(STAMPS, json!({"card_code": code, "count": count})).await
}

async fn redeem_by_code(staff: &Client, code: &str) -> Res {
    staff.post(REDEMPTIONS, json!({"card_code": code})).await
}

async fn stamp(staff: &Client, count: i64) -> Res {
    staff.post(STAMPS, json!({"phone": PHONE, "count": count})).await
}

async fn void(client: &Client, event: &Value, reason: Option<&str>) -> Res {
    let id = event["id"].as_str().expect("an event id");
    let body = reason.map_or_else(|| json!({}), |r| json!({"reason": r}));
    client.post(&format!("{EVENTS}/{id}/void"), body).await
}

#[track_caller]
fn created(res: &Res) -> &Value {
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    &res.body
}

async fn balance(customer: &Client) -> i64 {
    customer.get(STAMPS).await.body["balance"].as_i64().unwrap()
}

#[tokio::test]
async fn a_card_code_is_eight_digits_good_for_two_minutes_and_a_new_one_ends_the_old() {
    let app = spawn_app().await;
    let (staff, customer) = cafe(&app).await;

    let res = customer.post(CODES, json!({})).await;
    let code = created(&res)["code"].as_str().unwrap().to_owned();
    assert!(code.len() == 8 && code.bytes().all(|b| b.is_ascii_digit()), "{code}");
    let expires: chrono::DateTime<chrono::Utc> = res.body["expires_at"].as_str().unwrap().parse().unwrap();
    let left = (expires - chrono::Utc::now()).num_seconds();
    assert!((115..=121).contains(&left), "{left} s");
    assert_eq!(created(&stamp_by_code(&staff, &code, 2).await)["card"]["balance"], 2);
    assert_eq!(created(&stamp_by_code(&staff, &code, 1).await)["card"]["balance"], 3, "stamping keeps the code");
    let card = staff.get(&format!("{STAMPS}?card_code={code}")).await;
    assert_eq!(card.body["balance"], 3);
    assert_eq!(card.body["phone"], "+821012345678");

    let newer = code_of(&customer).await;
    stamp_by_code(&staff, &code, 1).await.assert_problem(404, "card_code_not_found");
    assert_eq!(created(&stamp_by_code(&staff, &newer, 1).await)["card"]["balance"], 4);
    app.db_exec("UPDATE card_codes SET expires_at = now() - interval '1 second'");
    stamp_by_code(&staff, &newer, 1).await.assert_problem(404, "card_code_not_found");
    staff.get(&format!("{EVENTS}?card_code={newer}")).await.assert_problem(404, "card_code_not_found");
    customer.get(&format!("{STAMPS}?card_code={newer}")).await.assert_problem(403, "forbidden");
    app.client().post(CODES, json!({})).await.assert_problem(401, "unauthenticated");
}

#[tokio::test]
async fn a_redemption_by_card_code_uses_the_code_up_even_fifty_at_once() {
    let app = spawn_app().await;
    let (staff, customer) = cafe(&app).await;
    created(&stamp(&staff, 10).await);
    created(&stamp(&staff, 10).await);
    created(&stamp(&staff, 10).await);
    let code = code_of(&customer).await;

    let answers = join_all((0..50).map(|_| redeem_by_code(&staff, &code))).await;

    let redeemed = answers.iter().filter(|r| r.status == StatusCode::CREATED).count();
    assert_eq!(redeemed, 1, "{:?}", answers.iter().map(|r| r.status).collect::<Vec<_>>());
    // The others found the code used: misses of the barista's, so past twenty of them, 429.
    let others: Vec<&Value> =
        answers.iter().filter(|r| r.status != StatusCode::CREATED).map(|r| &r.body["code"]).collect();
    assert!(others.iter().all(|c| *c == "card_code_not_found" || *c == "too_many_attempts"), "{others:?}");
    assert_eq!(balance(&customer).await, 20);
    // A fresh code redeems the next coffee (at another till: this barista is out of misses).
    let fresh = code_of(&customer).await;
    let colleague = app.user_with_role("colleague", "staff").await;
    assert_eq!(created(&redeem_by_code(&colleague, &fresh).await)["card"]["balance"], 10);
}

#[tokio::test]
async fn a_code_with_too_few_stamps_is_not_used_up() {
    let app = spawn_app().await;
    let (staff, customer) = cafe(&app).await;
    created(&stamp(&staff, 4).await);
    let code = code_of(&customer).await;
    redeem_by_code(&staff, &code).await.assert_problem(409, "insufficient_stamps");
    created(&stamp_by_code(&staff, &code, 6).await);
    assert_eq!(created(&redeem_by_code(&staff, &code).await)["card"]["balance"], 0);
}

#[tokio::test]
async fn with_redeem_by_phone_off_staff_redeem_by_card_code_only() {
    let app = spawn_app_with(|c| c.redeem_by_phone = false).await;
    let (staff, customer) = cafe(&app).await;
    created(&stamp(&staff, 10).await);
    let res = staff.post(REDEMPTIONS, json!({"phone": PHONE})).await;
    res.assert_problem(422, "validation_failed");
    assert_eq!(res.field_errors(), [("phone".to_owned(), "not_accepted".to_owned())]);
    created(&redeem_by_code(&staff, &code_of(&customer).await).await);
}

#[tokio::test]
async fn a_staff_account_presents_at_most_twenty_unknown_codes_in_ten_minutes_even_at_once() {
    let app = spawn_app().await;
    let (staff, customer) = cafe(&app).await;
    // Live codes cost nothing.
    for _ in 0..25 {
        created(&stamp_by_code(&staff, &code_of(&customer).await, 1).await);
        app.db_exec("DELETE FROM limit_hits WHERE bucket LIKE 'card_codes:%'");
    }
    let guessed: Vec<String> = (0..40).map(|i| format!("{:08}", 10_000_000 + i)).collect();
    let guesses = join_all(guessed.iter().map(|code| stamp_by_code(&staff, code, 1))).await;
    let unknown = guesses.iter().filter(|r| r.status == StatusCode::NOT_FOUND).count();
    let refused = guesses.iter().filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((unknown, refused), (20, 20), "{:?}", guesses.iter().map(|r| r.status).collect::<Vec<_>>());
    // Now even a live code is refused: a lucky guess must not slip through.
    let live = code_of(&customer).await;
    let res = stamp_by_code(&staff, &live, 1).await;
    res.assert_problem(429, "too_many_attempts");
    assert!(res.header("retry-after").is_some());
    staff.get(&format!("{STAMPS}?card_code={live}")).await.assert_problem(429, "too_many_attempts");
    // Another barista is not held up.
    let colleague = app.user_with_role("colleague", "staff").await;
    created(&stamp_by_code(&colleague, &live, 1).await);
}

#[tokio::test]
async fn a_card_gets_at_most_twenty_codes_in_ten_minutes() {
    let app = spawn_app().await;
    let customer = app.customer("eager", None).await;
    let answers = join_all((0..30).map(|_| customer.post(CODES, json!({})))).await;
    assert_eq!(answers.iter().filter(|r| r.status == StatusCode::CREATED).count(), 20);
    assert!(answers.iter().filter(|r| r.status != StatusCode::CREATED).all(|r| r.body["code"] == "too_many_attempts"));
    assert_eq!(app.count("SELECT count(*) FROM card_codes"), 1, "one live code per card");
}

#[tokio::test]
async fn a_malformed_card_code_is_422_and_a_query_finds_nobody_with_it() {
    let app = spawn_app().await;
    let (staff, _customer) = cafe(&app).await;
    let res = staff.post(STAMPS, json!({"card_code": "12-34"})).await;
    assert_eq!(res.field_errors(), [("card_code".to_owned(), "invalid_format".to_owned())]);
    staff.get(&format!("{STAMPS}?card_code=abc")).await.assert_problem(404, "card_code_not_found");
    staff.get(&format!("{STAMPS}?card_code=12345678&phone={PHONE}")).await.assert_problem(400, "malformed_request");
}

#[tokio::test]
async fn staff_void_their_own_events_within_ten_minutes_and_admins_any() {
    let app = spawn_app().await;
    let (staff, customer) = cafe(&app).await;
    let colleague = app.user_with_role("colleague", "staff").await;
    let admin = app.user_with_role("owner", "admin").await;
    let mine = created(&stamp(&staff, 3).await)["event"].clone();
    let theirs = created(&stamp(&colleague, 2).await)["event"].clone();
    let old = created(&stamp(&staff, 1).await)["event"].clone();
    app.db_exec(&format!(
        "UPDATE stamp_events SET created_at = now() - interval '11 minutes' WHERE id = '{}'",
        old["id"].as_str().unwrap()
    ));

    void(&staff, &theirs, None).await.assert_problem(403, "forbidden");
    void(&staff, &old, None).await.assert_problem(403, "forbidden");
    void(&customer, &mine, None).await.assert_problem(403, "forbidden");
    let res = void(&staff, &mine, Some("wrong customer")).await;
    let body = created(&res);
    assert_eq!(body["event"]["kind"], "voided");
    assert_eq!(body["event"]["count"], 3);
    assert_eq!(body["event"]["voids"], mine["id"]);
    assert_eq!(body["event"]["reason"], "wrong customer");
    assert_eq!(body["event"]["by"]["username"], "barista");
    assert_eq!(body["card"]["balance"], 3);
    assert_eq!(body["card"]["total_earned"], 3, "totals stay net of voids");
    created(&void(&admin, &old, None).await);
    assert_eq!(created(&void(&admin, &theirs, None).await)["card"]["balance"], 0);
    void(&admin, &mine, None).await.assert_problem(409, "already_voided");
    let voiding = body["event"].clone();
    void(&admin, &voiding, None).await.assert_problem(409, "already_voided");
    admin.post(&format!("{EVENTS}/{}/void", uuid::Uuid::new_v4()), json!({})).await.assert_problem(404, "not_found");
    admin.post(&format!("{EVENTS}/not-an-id/void"), json!({})).await.assert_problem(404, "not_found");

    // The history: every event stays, the voided ones say so; customers see no names.
    let history = customer.get(EVENTS).await.body["items"].clone();
    assert_eq!(history.as_array().unwrap().len(), 6);
    let voided = history.as_array().unwrap().iter().filter(|e| e["voided"] == true).count();
    assert_eq!(voided, 3);
    assert!(history.as_array().unwrap().iter().all(|e| e["by"].is_null()), "customers see no names: {history}");
    let seen_by_staff = staff.get(&format!("{EVENTS}?phone={PHONE}")).await.body["items"].clone();
    assert!(seen_by_staff.as_array().unwrap().iter().all(|e| e["by"]["username"].is_string()), "{seen_by_staff}");
    assert_eq!(app.count("SELECT count(*) FROM stamp_events"), 6, "nothing deleted");
}

#[tokio::test]
async fn fifty_simultaneous_voids_of_one_event_void_it_once() {
    let app = spawn_app().await;
    let (staff, customer) = cafe(&app).await;
    let admin = app.user_with_role("owner", "admin").await;
    let event = created(&stamp(&staff, 5).await)["event"].clone();
    let answers = join_all((0..50).map(|i| void(if i % 2 == 0 { &admin } else { &staff }, &event, None))).await;
    let done = answers.iter().filter(|r| r.status == StatusCode::CREATED).count();
    assert_eq!(done, 1, "{:?}", answers.iter().map(|r| &r.text).collect::<Vec<_>>());
    let others: Vec<&str> =
        answers.iter().filter(|r| r.status != StatusCode::CREATED).map(|r| r.text.as_str()).collect();
    assert!(others.iter().all(|t| t.contains("already_voided")), "{others:?}");
    assert_eq!(balance(&customer).await, 0);
    assert_eq!(app.count("SELECT count(*) FROM stamp_events WHERE kind = 'voided'"), 1);
}

#[tokio::test]
async fn a_void_racing_a_redemption_never_takes_the_balance_below_zero() {
    let app = spawn_app().await;
    let (staff, customer) = cafe(&app).await;
    for _ in 0..10 {
        let event = created(&stamp(&staff, 10).await)["event"].clone();
        let (voided, redeemed) =
            tokio::join!(void(&staff, &event, None), staff.post(REDEMPTIONS, json!({"phone": PHONE})));
        let statuses = (voided.status.as_u16(), redeemed.status.as_u16());
        assert!(matches!(statuses, (201, 409) | (409, 201)), "{statuses:?}: {} {}", voided.text, redeemed.text);
        assert_eq!(balance(&customer).await, 0);
        // Whichever lost says what it needed: a void its event's count, a redemption a reward.
        let (refused, per_reward) = if voided.status == 409 { (&voided, None) } else { (&redeemed, Some(10)) };
        assert_eq!((refused.body["balance"].as_i64(), refused.body["required"].as_i64()), (Some(0), Some(10)));
        assert_eq!(refused.body["stamps_per_reward"].as_i64(), per_reward, "{}", refused.text);
    }
    let card = customer.get(STAMPS).await.body;
    assert_eq!(card["total_earned"].as_i64().unwrap() - card["total_redeemed"].as_i64().unwrap(), 0);
}

#[tokio::test]
async fn voiding_a_redemption_gives_its_stamps_back() {
    let app = spawn_app().await;
    let (staff, customer) = cafe(&app).await;
    created(&stamp(&staff, 10).await);
    created(&staff.post(REDEMPTIONS, json!({"phone": PHONE})).await);
    let redeemed = staff.get(&format!("{EVENTS}?phone={PHONE}")).await.body["items"][0].clone();
    assert_eq!(redeemed["kind"], "redeemed");
    let res = void(&staff, &redeemed, Some("the machine was broken")).await;
    let card = &created(&res)["card"];
    assert_eq!(
        (card["balance"].clone(), card["total_redeemed"].clone(), card["rewards_available"].clone()),
        (json!(10), json!(0), json!(1))
    );
    assert_eq!(balance(&customer).await, 10);
}

#[tokio::test]
async fn a_void_reason_is_at_most_two_hundred_characters_and_a_void_is_idempotent() {
    let app = spawn_app().await;
    let (staff, _customer) = cafe(&app).await;
    let event = created(&stamp(&staff, 2).await)["event"].clone();
    let res = void(&staff, &event, Some(&"x".repeat(201))).await;
    assert_eq!(res.field_errors(), [("reason".to_owned(), "too_long".to_owned())]);
    let path = format!("{EVENTS}/{}/void", event["id"].as_str().unwrap());
    let first =
        staff.send(Method::POST, &path, Some(json!({"reason": "oops"})), &[("Idempotency-Key", "undo-1")]).await;
    let again =
        staff.send(Method::POST, &path, Some(json!({"reason": "oops"})), &[("Idempotency-Key", "undo-1")]).await;
    created(&first);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.text, first.text);
    assert_eq!(app.count("SELECT count(*) FROM stamp_events WHERE kind = 'voided'"), 1);
}

#[tokio::test]
async fn the_card_stream_sends_the_card_then_every_change_within_a_second() {
    let app = spawn_app().await;
    let (staff, customer) = cafe(&app).await;
    let mut stream = EventStream::open(&app.address, &customer.cookie().unwrap()).await;
    assert_eq!(stream.card(Duration::from_secs(5)).await["balance"], 0, "the card first");

    let started = std::time::Instant::now();
    created(&stamp(&staff, 10).await);
    let card = stream.card(Duration::from_secs(1)).await;
    assert_eq!((card["balance"].clone(), card["rewards_available"].clone()), (json!(10), json!(1)));
    let took = started.elapsed();
    let code = code_of(&customer).await;
    created(&redeem_by_code(&staff, &code).await);
    assert_eq!(stream.card(Duration::from_secs(1)).await["balance"], 0);
    // A redemption that changes nothing (too few stamps) announces nothing.
    staff.post(REDEMPTIONS, json!({"phone": PHONE})).await.assert_problem(409, "insufficient_stamps");
    assert_eq!(stream.next(Duration::from_millis(1500)).await, Next::Nothing);
    eprintln!("a stamp reached the stream after {took:?}");
    let metrics = reqwest::get(format!("{}/metrics", app.metrics_address)).await.unwrap().text().await.unwrap();
    assert!(metrics.contains("stampcard_streams_open 1"), "{metrics}");
}

#[tokio::test]
async fn a_sixth_stream_of_one_session_closes_the_oldest() {
    let app = spawn_app().await;
    let customer = app.customer("watcher", None).await;
    let cookie = customer.cookie().unwrap();
    let mut streams = Vec::new();
    for _ in 0..6 {
        let mut stream = EventStream::open(&app.address, &cookie).await;
        stream.card(Duration::from_secs(5)).await;
        streams.push(stream);
    }
    assert_eq!(streams[0].next(Duration::from_secs(2)).await, Next::Closed, "the oldest of six is closed");
    assert_eq!(streams[1].next(Duration::from_millis(200)).await, Next::Nothing, "the others stay");
    // Anonymous callers get no stream.
    let anonymous = app.client().get("/api/v1/stamps/stream").await;
    anonymous.assert_problem(401, "unauthenticated");
}

#[tokio::test]
async fn a_stream_closes_within_thirty_seconds_of_its_session_ending_and_others_stay() {
    let app = spawn_app().await;
    let laptop = app.customer("watcher", None).await;
    let (phone, tablet) = (app.client(), app.client());
    for other in [&phone, &tablet] {
        assert_eq!(other.login("watcher", PASSWORD).await.status, StatusCode::CREATED);
    }
    let mut streams = Vec::new();
    for client in [&laptop, &phone, &tablet] {
        let mut stream = EventStream::open(&app.address, &client.cookie().unwrap()).await;
        stream.card(Duration::from_secs(5)).await;
        streams.push(stream);
    }
    let list = laptop.get("/api/v1/sessions").await;
    let tablet_id = {
        let whoami = tablet.get("/api/v1/sessions/current").await;
        whoami.body["session"]["id"].as_str().unwrap().to_owned()
    };
    assert_eq!(list.body["items"].as_array().unwrap().len(), 3);
    let started = std::time::Instant::now();
    assert_eq!(phone.delete("/api/v1/sessions/current").await.status, StatusCode::NO_CONTENT, "a logout");
    assert_eq!(laptop.delete(&format!("/api/v1/sessions/{tablet_id}")).await.status, StatusCode::NO_CONTENT);
    let [laptop_stream, phone_stream, tablet_stream] = &mut streams[..] else { unreachable!() };
    let (phone_end, tablet_end) =
        tokio::join!(phone_stream.next(Duration::from_secs(30)), tablet_stream.next(Duration::from_secs(30)));
    assert_eq!((phone_end, tablet_end), (Next::Closed, Next::Closed), "after {:?}", started.elapsed());
    eprintln!("the ended sessions' streams closed after {:?}", started.elapsed());
    // The session that stayed keeps its stream, and it still hears changes.
    let staff = app.user_with_role("barista", "staff").await;
    let stamped = staff.post(STAMPS, json!({"card_code": code_of(&laptop).await, "count": 1})).await;
    created(&stamped);
    assert_eq!(laptop_stream.card(Duration::from_secs(1)).await["balance"], 1);
}

#[tokio::test]
async fn a_stamp_that_rolls_back_sends_nothing() {
    let app = spawn_app().await;
    let (staff, customer) = cafe(&app).await;
    let mut stream = EventStream::open(&app.address, &customer.cookie().unwrap()).await;
    stream.card(Duration::from_secs(5)).await;
    // The card is updated, then the event's insert fails: the transaction rolls back.
    app.db_exec(
        "CREATE FUNCTION refuse_threes() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
           IF NEW.count = 3 THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$",
    );
    app.db_exec(
        "CREATE TRIGGER refuse_threes BEFORE INSERT ON stamp_events FOR EACH ROW EXECUTE FUNCTION refuse_threes()",
    );
    let refused = stamp(&staff, 3).await;
    assert_eq!(refused.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", refused.body);
    assert_eq!(stream.next(Duration::from_millis(1500)).await, Next::Nothing, "nothing was committed");
    created(&stamp(&staff, 2).await);
    assert_eq!(stream.card(Duration::from_secs(1)).await["balance"], 2, "the next change, and nothing of the first");
}
