//! Password attempts under concurrency: a burst gets no more guesses than one request at a
//! time would, and password work is bounded. The app's own bcrypt counter
//! (`Passwords::verifications`) tells how many passwords were really compared.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::json;
use stampcard::auth::password::Passwords;

use crate::helpers::{spawn_app, spawn_app_with_passwords, Res, PASSWORD};

/// How many answers had each status.
fn tally(answers: &[Res], status: u16) -> usize {
    answers.iter().filter(|r| r.status.as_u16() == status).count()
}

#[tokio::test]
async fn two_hundred_simultaneous_wrong_logins_get_at_most_ten_checks() {
    let app = spawn_app().await;
    app.customer("burst-target", None).await;
    let before = app.passwords.verifications();
    let clients: Vec<_> = (0..200).map(|_| app.client()).collect();
    let answers = join_all(clients.iter().map(|c| c.login("burst-target", "wrong guess"))).await;
    let checked = app.passwords.verifications() - before;
    assert!(checked <= 10, "{checked} passwords compared");
    assert_eq!(tally(&answers, 401), checked as usize, "every check was a 401");
    assert_eq!(tally(&answers, 429), 200 - checked as usize, "the rest were refused unchecked");
    for res in answers.iter().filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS) {
        res.assert_problem(429, "too_many_attempts");
        assert!(res.header("retry-after").is_some_and(|s| s.parse::<u64>().is_ok_and(|s| (1..=60).contains(&s))));
    }
    app.client().login("burst-target", PASSWORD).await.assert_problem(429, "too_many_attempts");
}

#[tokio::test]
async fn two_hundred_simultaneous_wrong_reauthentications_get_at_most_ten_checks() {
    let app = spawn_app().await;
    let thief = app.customer("stolen-cookie", None).await;
    let before = app.passwords.verifications();
    let guesses: Vec<Pin<Box<dyn Future<Output = Res> + '_>>> = (0..200)
        .map(|i| -> Pin<Box<dyn Future<Output = Res> + '_>> {
            if i % 2 == 0 {
                Box::pin(thief.delete_with("/api/v1/users/me", json!({"password": format!("guess {i}")})))
            } else {
                let body = json!({"current_password": format!("guess {i}"), "new_password": "a brand new secret"});
                Box::pin(thief.put("/api/v1/users/me/password", body))
            }
        })
        .collect();
    let answers = join_all(guesses).await;
    let checked = app.passwords.verifications() - before;
    assert!(checked <= 10, "{checked} passwords compared");
    assert_eq!(tally(&answers, 403), checked as usize, "{:?}", answers.iter().map(|r| r.status).collect::<Vec<_>>());
    assert_eq!(tally(&answers, 429), 200 - checked as usize);
    // Locked now: even the right password is refused, and the account is still there.
    thief.delete_with("/api/v1/users/me", json!({"password": PASSWORD})).await.assert_problem(429, "too_many_attempts");
    assert_eq!(thief.get("/api/v1/users/me").await.status, StatusCode::OK);
    app.client().login("stolen-cookie", PASSWORD).await.assert_problem(429, "too_many_attempts");
}

#[tokio::test]
async fn two_hundred_simultaneous_logins_from_one_address_get_at_most_a_hundred_checks() {
    let app = spawn_app().await;
    let before = app.passwords.verifications();
    let clients: Vec<_> = (0..200).map(|_| app.client()).collect();
    let names: Vec<String> = (0..200).map(|i| format!("sprayed-{i}")).collect();
    let answers = join_all(clients.iter().zip(&names).map(|(c, name)| c.login(name, "Summer2026!"))).await;
    let checked = app.passwords.verifications() - before;
    assert_eq!(checked, 100, "passwords compared");
    assert_eq!(tally(&answers, 401), checked as usize);
    assert_eq!(tally(&answers, 429), 200 - checked as usize);
}

#[tokio::test]
async fn a_right_password_clears_the_account_count_but_not_the_address_count() {
    let app = spawn_app().await;
    app.customer("cleared", None).await;
    for _ in 0..9 {
        app.client().login("cleared", "wrong guess").await.assert_problem(401, "invalid_credentials");
    }
    assert_eq!(app.client().login("cleared", PASSWORD).await.status, StatusCode::CREATED);
    assert_eq!(app.count("SELECT count(*) FROM login_throttles"), 0);
    assert_eq!(app.count("SELECT count(*) FROM login_failures"), 9, "the address keeps its failures, not the success");
}

#[tokio::test]
async fn an_inactive_accounts_right_password_neither_logs_in_nor_clears_the_count() {
    let app = spawn_app().await;
    app.customer("dormant", None).await;
    app.client().login("dormant", "wrong guess").await;
    app.db_exec("UPDATE users SET is_active = false");
    app.client().login("dormant", PASSWORD).await.assert_problem(401, "invalid_credentials");
    assert_eq!(app.count("SELECT failures::bigint FROM login_throttles"), 2);
}

#[tokio::test]
async fn a_full_password_queue_is_503_at_once_and_costs_no_attempt() {
    // One thread and no time to spare: the queue holds one job, the one running.
    let app = spawn_app_with_passwords(Passwords::start_with_max_wait(10, 1, Duration::ZERO), |_| {}).await;
    let clients: Vec<_> = (0..20).map(|_| app.client()).collect();
    let names: Vec<String> = (0..20).map(|i| format!("queued-{i}")).collect();
    let answers = join_all(clients.iter().zip(&names).map(|(c, name)| c.login(name, "guess"))).await;
    let (checked, busy) = (tally(&answers, 401), tally(&answers, 503));
    assert_eq!(checked + busy, 20, "{:?}", answers.iter().map(|r| r.status).collect::<Vec<_>>());
    assert!(busy >= 1, "the queue was never full");
    assert_eq!(app.passwords.verifications(), checked as u64);
    for res in answers.iter().filter(|r| r.status == StatusCode::SERVICE_UNAVAILABLE) {
        res.assert_problem(503, "service_unavailable");
        assert!(res.header("retry-after").is_some_and(|s| s.parse::<u64>().is_ok_and(|s| s >= 1)));
    }
    // Unchecked attempts were taken back: only the checked ones count against the address.
    assert_eq!(app.count("SELECT count(*) FROM login_failures"), checked as i64);
    assert_eq!(app.count("SELECT coalesce(sum(failures), 0)::bigint FROM login_throttles"), checked as i64);
}

#[tokio::test]
async fn a_password_of_exactly_72_bytes_works_from_signup_to_password_change() {
    let app = spawn_app().await;
    let seventy_two = "가".repeat(24);
    let client = app.client();
    let res = client.post("/api/v1/users", json!({"username": "bytes72", "password": seventy_two})).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(app.client().login("bytes72", &seventy_two).await.status, StatusCode::CREATED);
    // bcrypt reads 72 bytes: one more must not match by its first 72.
    app.client().login("bytes72", &format!("{seventy_two}!")).await.assert_problem(401, "invalid_credentials");
    let other = format!("{}!", "x".repeat(71));
    let body = json!({"current_password": seventy_two, "new_password": other});
    assert_eq!(client.put("/api/v1/users/me/password", body).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.client().login("bytes72", &other).await.status, StatusCode::CREATED);
    let too_long = json!({"current_password": other, "new_password": format!("{other}y")});
    let res = client.put("/api/v1/users/me/password", too_long).await;
    res.assert_problem(422, "validation_failed");
    assert_eq!(res.field_errors(), [("new_password".to_owned(), "too_long".to_owned())]);
    let res =
        app.client().post("/api/v1/users", json!({"username": "bytes73", "password": format!("{seventy_two}!")})).await;
    assert_eq!(res.field_errors(), [("password".to_owned(), "too_long".to_owned())]);
}

#[tokio::test]
async fn no_password_input_is_a_500() {
    let app = spawn_app().await;
    app.customer("robust", None).await;
    let odd: Vec<String> =
        vec![String::new(), " ".into(), "\u{1F600}".repeat(18), "x".repeat(10_000), "\u{FEFF}password".into()];
    for password in &odd {
        for username in ["robust", "nobody", ""] {
            let res = app.client().login(username, password).await;
            assert!(
                [401, 429].contains(&res.status.as_u16()),
                "{} for {username:?} / {} bytes: {}",
                res.status,
                password.len(),
                res.text
            );
        }
    }
    let res = app.client().login(&"n".repeat(15 * 1024), "guess").await;
    assert!(matches!(res.status.as_u16(), 401 | 429), "a long name is a plain failure: {}", res.text);
    let res = app
        .client()
        .send(Method::POST, "/api/v1/sessions", Some(json!({"username": ["a"], "password": {"x": 1}})), &[])
        .await;
    res.assert_problem(422, "validation_failed");
    assert_eq!(res.field_errors().len(), 2, "both fields named: {}", res.text);
}

#[tokio::test]
async fn renaming_an_account_neither_resets_nor_moves_its_lock_even_after_a_burst() {
    let app = spawn_app().await;
    let owner = app.customer("renamed", None).await;
    let guessers: Vec<_> = (0..50).map(|_| app.client()).collect();
    let answers = join_all(guessers.iter().map(|c| c.login("renamed", "wrong guess"))).await;
    assert!(tally(&answers, 401) <= 10 && tally(&answers, 429) >= 40);

    // The owner's session proved the password at signup: the rename goes through.
    let res = owner.patch("/api/v1/users/me", json!({"username": "renamed-again"})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);

    // The lock is the account's: under its new name, and for its re-authentication too.
    app.client().login("renamed-again", PASSWORD).await.assert_problem(429, "too_many_attempts");
    owner
        .post("/api/v1/sessions/current/reauthentication", json!({"password": PASSWORD}))
        .await
        .assert_problem(429, "too_many_attempts");
    // The freed name belongs to no lock: whoever takes it next starts clean.
    app.customer("renamed", None).await;
    assert_eq!(app.client().login("renamed", PASSWORD).await.status, StatusCode::CREATED);
}

#[tokio::test]
async fn a_burst_of_wrong_reauthentications_locks_the_account_whatever_it_is_renamed_to() {
    let app = spawn_app().await;
    let thief = app.customer("hunted", None).await;
    let reauth = "/api/v1/sessions/current/reauthentication";
    let guesses = join_all((0..30).map(|i| thief.post(reauth, json!({"password": format!("guess {i}")})))).await;
    assert!(tally(&guesses, 403) <= 10, "{:?}", guesses.iter().map(|r| r.status).collect::<Vec<_>>());
    assert_eq!(tally(&guesses, 403) + tally(&guesses, 429), 30);
    // Renamed (the signup's proof is recent), the lock stays where it was.
    assert_eq!(thief.patch("/api/v1/users/me", json!({"username": "hunted2"})).await.status, StatusCode::OK);
    thief.post(reauth, json!({"password": "one more guess"})).await.assert_problem(429, "too_many_attempts");
    app.client().login("hunted2", PASSWORD).await.assert_problem(429, "too_many_attempts");
    assert_eq!(
        app.count("SELECT count(*) FROM login_throttles WHERE account LIKE 'user:%' AND locked_until > now()"),
        1,
        "one locked account, keyed by its id"
    );
}

#[tokio::test]
async fn a_login_whose_password_changes_before_its_session_is_stored_stores_none() {
    let app = spawn_app().await;
    app.customer("raced-login", None).await;
    // A reset in another transaction, committed while the login waits to store its session.
    let url = app.database_url.clone();
    let (locked_tx, locked_rx) = std::sync::mpsc::channel::<()>();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let reset = std::thread::spawn(move || {
        use diesel::{Connection, RunQueryDsl};
        let mut conn = diesel::PgConnection::establish(&url).unwrap();
        diesel::sql_query("BEGIN").execute(&mut conn).unwrap();
        diesel::sql_query("SELECT 1 FROM users WHERE username = 'raced-login' FOR UPDATE").execute(&mut conn).unwrap();
        locked_tx.send(()).unwrap();
        go_rx.recv().unwrap();
        diesel::sql_query("UPDATE users SET password_hash = 'reset meanwhile' WHERE username = 'raced-login'")
            .execute(&mut conn)
            .unwrap();
        diesel::sql_query("DELETE FROM sessions").execute(&mut conn).unwrap();
        diesel::sql_query("COMMIT").execute(&mut conn).unwrap();
    });
    locked_rx.recv().unwrap();
    let client = app.client();
    let login = client.login("raced-login", PASSWORD);
    let waiting = async {
        // The login has checked the old password and waits for the user's row to store its
        // session: then the reset commits.
        while app.count(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        ) == 0
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        go_tx.send(()).unwrap();
    };
    let (res, ()) = tokio::join!(login, waiting);
    reset.join().unwrap();
    res.assert_problem(401, "invalid_credentials");
    assert!(res.set_cookie("stampcard_session").is_none(), "no cookie for a session that does not exist");
    assert_eq!(app.count("SELECT count(*) FROM sessions"), 0, "no session stored");
}

/// How many password attempts reached the database (`claim_password_attempt` calls) in this
/// test's database so far.
fn claims(app: &crate::helpers::TestApp) -> i64 {
    app.count(
        "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements \
         WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) \
         AND query LIKE '%claim_password_attempt%'",
    )
}

#[tokio::test]
async fn a_locked_accounts_attempts_cost_no_database_round_trip_and_leave_the_pool_to_others() {
    let app = spawn_app().await;
    let owner = app.customer("besieged", None).await;
    let bystander = app.customer("bystander", None).await;
    let reauth = "/api/v1/sessions/current/reauthentication";
    for i in 0..10 {
        owner.post(reauth, json!({"password": format!("guess {i}")})).await.assert_problem(403, "invalid_password");
    }

    // The account is locked, and this process remembers it: the attempts that follow are
    // refused without asking the database, one after the other or all at once.
    let before = claims(&app);
    for _ in 0..5 {
        owner.post(reauth, json!({"password": PASSWORD})).await.assert_problem(429, "too_many_attempts");
    }
    let burst = join_all((0..100).map(|_| owner.post(reauth, json!({"password": PASSWORD})))).await;
    assert_eq!(tally(&burst, 429), 100);
    assert_eq!(claims(&app) - before, 0, "no attempt at a lock this process knows reached the database");

    // A burst at the locked account's name: a claim learns the lock, the attempts queued
    // behind it are refused with what it learned (a name's gate forgets as soon as nobody waits
    // at it, so a burst that arrives in waves asks once per wave); the pool stays free for
    // everyone else.
    let before = claims(&app);
    let guessers: Vec<_> = (0..200).map(|_| app.client()).collect();
    let logins = join_all(guessers.iter().map(|c| c.login("besieged", "another guess")));
    let others = async {
        let started = std::time::Instant::now();
        for _ in 0..20 {
            assert_eq!(bystander.get("/api/v1/stamps").await.status, StatusCode::OK);
        }
        started.elapsed()
    };
    let (answers, others_took) = tokio::join!(logins, others);
    assert_eq!(tally(&answers, 429), 200);
    let asked = claims(&app) - before;
    assert!(asked < 20, "{asked} of 200 attempts at a locked account reached the database");
    assert!(others_took < Duration::from_secs(5), "other users waited {others_took:?}");
}

#[tokio::test]
async fn right_reset_tokens_from_one_address_never_run_into_the_address_limit() {
    let app = spawn_app().await;
    // 120 accounts with a reset link each (arranged in the database: one address may ask for
    // ten links an hour), every link used from this one client address.
    app.db_exec(
        "INSERT INTO users (id, username, username_key, password_hash) \
         SELECT gen_random_uuid(), 'reset' || i, 'reset' || i, 'x' FROM generate_series(1, 120) AS i",
    );
    app.db_exec(
        "INSERT INTO password_reset_tokens (token_hash, user_id, expires_at) \
         SELECT sha256(convert_to(lpad(to_hex(i), 64, '0'), 'UTF8')), u.id, now() + interval '30 minutes' \
         FROM generate_series(1, 120) AS i JOIN users u ON u.username = 'reset' || i",
    );
    let client = app.client();
    for i in 1..=120u32 {
        let body = json!({"token": format!("{i:064x}"), "new_password": "a brand new secret"});
        let res = client.post("/api/v1/password-resets/confirm", body).await;
        assert_eq!(res.status, StatusCode::NO_CONTENT, "token {i}: {}", res.text);
    }
    assert_eq!(app.count("SELECT count(*) FROM login_failures"), 0, "right tokens are no failures");
}
