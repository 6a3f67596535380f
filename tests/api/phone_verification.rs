//! Proving a phone number by a code sent by SMS, through a local SMS gateway that the tests
//! read; and `STAMPCARD_REQUIRE_VERIFIED_PHONE`, where only proven numbers count.

use std::time::Duration;

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::sms::{code, SmsGateway};
use crate::helpers::{eventually, spawn_app_with, Client, Res, TestApp};

const PHONE: &str = "010-2468-1357";
const E164: &str = "+821024681357";
const SOON: Duration = Duration::from_secs(20);
const VERIFY: &str = "/api/v1/users/me/phone-verification";
const CONFIRM: &str = "/api/v1/users/me/phone-verification/confirm";

async fn app_with_sms(gateway: &SmsGateway, require_verified_phone: bool) -> TestApp {
    let url = gateway.url.clone();
    spawn_app_with(move |c| {
        c.sms_webhook_url = Some(url);
        c.require_verified_phone = require_verified_phone;
    })
    .await
}

async fn ask_code(client: &Client) -> Res {
    client.post(VERIFY, json!({})).await
}

async fn type_code(client: &Client, code: &str) -> Res {
    client.post(CONFIRM, json!({"code": code})).await
}

/// As if a minute had passed for the limits of what anyone can make us send: the counted
/// requests move back in time (codes and their lifetimes stay as they are).
fn a_minute_passes(app: &TestApp) {
    app.db_exec("UPDATE limit_hits SET at = at - interval '61 seconds'");
}

/// A wrong code that is surely not `right`.
fn wrong(right: &str) -> String {
    if right == "000000" { "111111" } else { "000000" }.to_owned()
}

#[tokio::test]
async fn a_code_by_sms_proves_the_phone_and_a_new_phone_is_unproven_again() {
    let gateway = SmsGateway::start();
    let app = app_with_sms(&gateway, false).await;
    let client = app.customer("prover", Some(PHONE)).await;
    assert_eq!(client.get("/api/v1/users/me").await.body["phone_verified"], false);

    let res = ask_code(&client).await;
    assert_eq!(res.status, StatusCode::ACCEPTED, "{}", res.text);
    assert_eq!(res.body["phone"], E164);
    let sms = gateway.wait_for(1, SOON).await.remove(0);
    assert_eq!(sms["to"], E164);
    let code = code(&sms);
    assert!(
        app.text_rows("SELECT encode(code_hash, 'hex') FROM phone_verifications").iter().all(|h| !h.contains(&code)),
        "only a hash is stored"
    );
    type_code(&client, &wrong(&code)).await.assert_problem(422, "invalid_code");
    let res = type_code(&client, &code).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["phone_verified"], true);
    type_code(&client, &code).await.assert_problem(422, "invalid_code");

    let res = client.patch("/api/v1/users/me", json!({"phone": "010-9999-0000"})).await;
    assert_eq!(res.body["phone_verified"], false, "a new phone is unproven");
}

#[tokio::test]
async fn a_code_dies_after_five_wrong_tries_even_typed_all_at_once() {
    let gateway = SmsGateway::start();
    let app = app_with_sms(&gateway, false).await;
    let client = app.customer("guesser", Some(PHONE)).await;
    ask_code(&client).await;
    let code = code(&gateway.wait_for(1, SOON).await[0]);
    let wrong = wrong(&code);
    let tries = join_all((0..20).map(|_| type_code(&client, &wrong))).await;
    assert!(tries.iter().all(|r| r.body["code"] == "invalid_code"));
    assert_eq!(
        app.count("SELECT max(attempts)::bigint FROM phone_verifications"),
        5,
        "no try beyond the fifth counted"
    );
    type_code(&client, &code).await.assert_problem(422, "invalid_code");
    // A new code works (a minute later: codes to one number are a minute apart).
    a_minute_passes(&app);
    assert_eq!(ask_code(&client).await.status, StatusCode::ACCEPTED);
    let messages = gateway.wait_for(2, SOON).await;
    assert_eq!(type_code(&client, &code_of_latest(&messages)).await.status, StatusCode::OK);
}

fn code_of_latest(messages: &[serde_json::Value]) -> String {
    code(messages.last().unwrap())
}

#[tokio::test]
async fn an_expired_code_is_invalid() {
    let gateway = SmsGateway::start();
    let app = app_with_sms(&gateway, false).await;
    let client = app.customer("late", Some(PHONE)).await;
    ask_code(&client).await;
    let code = code(&gateway.wait_for(1, SOON).await[0]);
    app.db_exec("UPDATE phone_verifications SET sent_at = now() - interval '11 minutes'");
    type_code(&client, &code).await.assert_problem(422, "invalid_code");
}

#[tokio::test]
async fn five_codes_an_hour_per_account_whatever_its_numbers_however_many_are_asked_for_at_once() {
    let gateway = SmsGateway::start();
    let app = app_with_sms(&gateway, false).await;
    let client = app.customer("eager", None).await;
    // A new number each time, so that only the account's own limit is in play.
    for i in 0..5 {
        let res = client.patch("/api/v1/users/me", json!({"phone": format!("010-2468-135{i}")})).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        assert_eq!(ask_code(&client).await.status, StatusCode::ACCEPTED);
    }
    client.patch("/api/v1/users/me", json!({"phone": "010-2468-1359"})).await;
    let answers = join_all((0..12).map(|_| ask_code(&client))).await;
    for res in &answers {
        res.assert_problem(429, "too_many_attempts");
        let retry: u64 = res.header("retry-after").unwrap().parse().unwrap();
        assert!((3500..=3600).contains(&retry), "{retry}");
    }
    assert_eq!(app.count("SELECT count(*) FROM phone_verifications"), 5);
}

#[tokio::test]
async fn three_accounts_listing_one_number_get_at_most_three_codes_an_hour_between_them() {
    let gateway = SmsGateway::start();
    let app = app_with_sms(&gateway, true).await;
    let accounts = [
        app.customer("pumper1", Some(PHONE)).await,
        app.customer("pumper2", Some(PHONE)).await,
        app.customer("pumper3", Some(PHONE)).await,
    ];
    let mut sent = 0;
    for round in 0..4 {
        // 50 requests at once, from the three accounts: a minute apart at most one goes out.
        let answers = join_all((0..50).map(|i| ask_code(&accounts[i % 3]))).await;
        let accepted = answers.iter().filter(|r| r.status == StatusCode::ACCEPTED).count();
        assert_eq!(
            accepted,
            usize::from(round < 3),
            "round {round}: {:?}",
            answers.iter().map(|r| r.status).collect::<Vec<_>>()
        );
        for res in answers.iter().filter(|r| r.status != StatusCode::ACCEPTED) {
            res.assert_problem(429, "too_many_attempts");
            let retry: u64 = res.header("retry-after").unwrap().parse().unwrap();
            // The minute between codes (a second more for a request that began before the code
            // it waited for was counted), then, once the third went out, the hour.
            assert!(if round < 2 { retry <= 61 } else { retry > 3000 }, "round {round}: {retry}");
        }
        sent += accepted;
        a_minute_passes(&app);
    }
    assert_eq!(sent, 3);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(gateway.wait_for(3, SOON).await.len(), 3, "three SMS reached the number");
}

#[tokio::test]
async fn a_number_gets_at_most_ten_codes_a_day_whichever_accounts_ask() {
    let gateway = SmsGateway::start();
    let app = app_with_sms(&gateway, true).await;
    let accounts = [app.customer("daily1", Some(PHONE)).await, app.customer("daily2", Some(PHONE)).await];
    let mut accepted = 0;
    for hour in 0..4 {
        for i in 0..3 {
            if ask_code(&accounts[(hour + i) % 2]).await.status == StatusCode::ACCEPTED {
                accepted += 1;
            }
            a_minute_passes(&app);
        }
        // An hour later (the accounts' own counts of five an hour included).
        app.db_exec("UPDATE limit_hits SET at = at - interval '1 hour'");
        app.db_exec("UPDATE phone_verifications SET created_at = created_at - interval '1 hour'");
    }
    assert_eq!(accepted, 10, "ten a day, whichever accounts ask");
    let refused = ask_code(&accounts[0]).await;
    refused.assert_problem(429, "too_many_attempts");
    let retry: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!(retry > 3600, "until the day's first code is a day old: {retry}");
}

#[tokio::test]
async fn wrong_codes_count_per_number_whichever_accounts_type_them() {
    let gateway = SmsGateway::start();
    let app = app_with_sms(&gateway, true).await;
    let mut accounts = Vec::new();
    for i in 0..3 {
        let client = app.customer(&format!("typist{i}"), Some(PHONE)).await;
        assert_eq!(ask_code(&client).await.status, StatusCode::ACCEPTED);
        accounts.push((client, code(&gateway.wait_for(i + 1, SOON).await[i])));
        a_minute_passes(&app);
    }
    // Five wrong codes each from two accounts, all at once: the number's ten for the hour.
    let guesses: Vec<(&Client, String)> =
        accounts[..2].iter().flat_map(|(client, right)| (0..5).map(move |_| (client, wrong(right)))).collect();
    let tries = join_all(guesses.iter().map(|(client, guess)| type_code(client, guess))).await;
    assert!(
        tries.iter().all(|r| r.body["code"] == "invalid_code"),
        "{:?}",
        tries.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    // The third account's code was never tried, yet the number may not be guessed at any more.
    let (third, right) = &accounts[2];
    type_code(third, &wrong(right)).await.assert_problem(429, "too_many_attempts");
    type_code(third, right).await.assert_problem(429, "too_many_attempts");
    assert_eq!(app.count("SELECT max(attempts)::bigint FROM phone_verifications"), 5);
    app.db_exec("UPDATE limit_hits SET at = at - interval '1 hour'");
    assert_eq!(type_code(third, right).await.status, StatusCode::OK, "an hour later the right code works");
}

#[tokio::test]
async fn no_phone_no_code_and_no_gateway_no_code() {
    let gateway = SmsGateway::start();
    let app = app_with_sms(&gateway, false).await;
    let client = app.customer("phoneless", None).await;
    let res = ask_code(&client).await;
    res.assert_problem(422, "validation_failed");
    assert_eq!(res.field_errors(), [("phone".to_owned(), "required".to_owned())]);
    app.client().post(VERIFY, json!({})).await.assert_problem(401, "unauthenticated");

    let production = spawn_app_with(|c| c.dev = Some(false)).await;
    let client = production.client();
    let signup = json!({"username": "prod", "password": crate::helpers::PASSWORD, "phone": PHONE});
    let res = client.post("/api/v1/users", signup).await;
    let cookie = res.set_cookie("__Host-stampcard_session").unwrap();
    let value = cookie.split(';').next().unwrap();
    let res = client.send(reqwest::Method::POST, VERIFY, Some(json!({})), &[("cookie", value)]).await;
    res.assert_problem(503, "service_unavailable");
}

#[tokio::test]
async fn a_gateway_that_fails_is_tried_again() {
    let gateway = SmsGateway::start();
    gateway.answer(503);
    let app = app_with_sms(&gateway, false).await;
    let client = app.customer("retried", Some(PHONE)).await;
    assert_eq!(ask_code(&client).await.status, StatusCode::ACCEPTED);
    let tried = || std::future::ready(app.count("SELECT count(*) FROM outbox WHERE attempts > 0") > 0);
    eventually(SOON, "the worker's first, failed try", tried).await;
    gateway.answer(200);
    let code = code(&gateway.wait_for(1, SOON).await[0]);
    assert_eq!(type_code(&client, &code).await.status, StatusCode::OK);
}

#[tokio::test]
async fn with_verified_phones_required_staff_find_only_a_verified_holder_who_takes_the_number() {
    let gateway = SmsGateway::start();
    let app = app_with_sms(&gateway, true).await;
    let squatter = app.customer("squatter", Some(PHONE)).await;
    let owner = app.customer("owner", Some(PHONE)).await;
    let staff = app.user_with_role("barista", "staff").await;

    let stamp = || staff.post("/api/v1/stamps", json!({"phone": PHONE}));
    stamp().await.assert_problem(404, "customer_not_found");
    staff.get(&format!("/api/v1/stamps?phone={E164}")).await.assert_problem(404, "customer_not_found");

    ask_code(&owner).await;
    let code = code(&gateway.wait_for(1, SOON).await[0]);
    assert_eq!(type_code(&owner, &code).await.status, StatusCode::OK);
    assert_eq!(
        squatter.get("/api/v1/users/me").await.body["phone"],
        serde_json::Value::Null,
        "taken from the unverified"
    );
    let res = stamp().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(owner.get("/api/v1/stamps").await.body["balance"], 1);
    // A verified holder makes the number taken.
    squatter.patch("/api/v1/users/me", json!({"phone": PHONE})).await.assert_problem(409, "phone_taken");
}

#[tokio::test]
async fn with_verified_phones_required_one_of_several_holders_proving_the_number_at_once_gets_it() {
    let gateway = SmsGateway::start();
    let app = app_with_sms(&gateway, true).await;
    let mut holders = Vec::new();
    // Three: a number is sent three codes an hour, a minute apart.
    for i in 0..3 {
        let client = app.customer(&format!("holder{i}"), Some(PHONE)).await;
        assert_eq!(ask_code(&client).await.status, StatusCode::ACCEPTED);
        let code = code(&gateway.wait_for(i + 1, SOON).await[i]);
        holders.push((client, code));
        a_minute_passes(&app);
    }
    let answers = join_all(holders.iter().map(|(client, code)| type_code(client, code))).await;
    let proven = answers.iter().filter(|r| r.status == StatusCode::OK).count();
    assert_eq!(proven, 1, "{:?}", answers.iter().map(|r| &r.text).collect::<Vec<_>>());
    // The others' codes were for a number that is no longer theirs.
    assert!(answers.iter().filter(|r| r.status != StatusCode::OK).all(|r| r.body["code"] == "invalid_code"));
    // One account holds the number, proven; no other is marked proven, with or without it.
    let rows = app.text_rows(
        "SELECT coalesce(phone, '-') || ' ' || phone_verified FROM users WHERE username LIKE 'holder%' ORDER BY 1",
    );
    assert_eq!(rows.iter().filter(|r| r.ends_with("true")).count(), 1, "{rows:?}");
    assert_eq!(rows.iter().filter(|r| r.starts_with('+')).count(), 1, "{rows:?}");
}

#[tokio::test]
async fn without_the_setting_a_phone_belongs_to_one_account_even_when_two_claim_it_at_once() {
    let gateway = SmsGateway::start();
    let app = app_with_sms(&gateway, false).await;
    let clients: Vec<Client> = (0..6).map(|_| app.client()).collect();
    let signups = clients.iter().enumerate().map(|(i, client)| {
        let body = json!({"username": format!("claimant{i}"), "password": crate::helpers::PASSWORD, "phone": PHONE});
        client.post("/api/v1/users", body)
    });
    let answers = join_all(signups).await;
    assert_eq!(answers.iter().filter(|r| r.status == StatusCode::CREATED).count(), 1);
    assert!(answers.iter().filter(|r| r.status != StatusCode::CREATED).all(|r| r.body["code"] == "phone_taken"));
}

#[tokio::test]
async fn a_code_that_is_not_six_digits_is_malformed_and_no_try() {
    let gateway = SmsGateway::start();
    let app = app_with_sms(&gateway, false).await;
    let client = app.customer("typo", Some(PHONE)).await;
    ask_code(&client).await;
    let code = code(&gateway.wait_for(1, SOON).await[0]);
    for typo in ["abc", "12345", "1234567", ""] {
        let res = type_code(&client, typo).await;
        res.assert_problem(422, "validation_failed");
        assert_eq!(res.field_errors(), [("code".to_owned(), "invalid_format".to_owned())], "{typo:?}");
    }
    assert_eq!(app.count("SELECT max(attempts)::bigint FROM phone_verifications"), 0);
    assert_eq!(type_code(&client, &format!(" {code} ")).await.status, StatusCode::OK);
}
