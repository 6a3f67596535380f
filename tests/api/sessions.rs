//! The Sessions table of the contract: login, whoami, logout, listing and revocation,
//! key rotation, throttling and timing.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_with, PASSWORD};

#[tokio::test]
async fn login_issues_a_new_key_and_the_old_session_is_gone() {
    let app = spawn_app().await;
    let client = app.customer("sora", None).await;
    let before = client.cookie();

    let res = client.login("sora", PASSWORD).await;

    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_ne!(client.cookie(), before, "the session key rotates on login");
    assert_eq!(res.body["user"]["username"], "sora");
    assert_eq!(res.body["session"]["current"], true);
    assert_eq!(res.body["next"], "/");
    assert_eq!(app.count("SELECT count(*) FROM sessions"), 1, "the replaced session was deleted");
    let session_id = res.body["session"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.count(&format!("SELECT count(*) FROM sessions WHERE id = '{session_id}'")),
        1,
        "the described session is the stored one"
    );
    client.set_cookie(before);
    client.get("/api/v1/users/me").await.assert_problem(401, "unauthenticated");
}

#[tokio::test]
async fn the_cookie_holds_no_state_and_the_table_no_key() {
    let app = spawn_app().await;
    let client = app.customer("opaque", None).await;
    let cookie = client.cookie().unwrap();
    assert!(!cookie.contains("opaque") && cookie.len() > 40, "{cookie}");
    assert_eq!(app.count("SELECT count(*) FROM sessions WHERE length(key_hash) = 32"), 1, "a SHA-256, not the key");
}

#[tokio::test]
async fn remember_adds_max_age_and_the_default_is_a_browser_session_cookie() {
    let app = spawn_app().await;
    app.customer("mina", None).await;
    let res = app
        .client()
        .post("/api/v1/sessions", json!({"username": "mina", "password": PASSWORD, "remember": true}))
        .await;
    let cookie = res.set_cookie("stampcard_session").unwrap();
    assert!(cookie.contains("Max-Age=1209600"), "{cookie}");
    let res = app.client().login("mina", PASSWORD).await;
    assert!(!res.set_cookie("stampcard_session").unwrap().contains("Max-Age"));
}

#[tokio::test]
async fn outside_dev_mode_the_cookie_is_a_secure_host_cookie() {
    let app = spawn_app_with(|c| c.dev = Some(false)).await;
    let client = app.client();
    let res = client.post("/api/v1/users", json!({"username": "secure", "password": PASSWORD})).await;
    assert!(res.set_cookie("stampcard_session").is_none(), "the dev name is not used");
    let cookie = res.set_cookie("__Host-stampcard_session").expect("a __Host- cookie");
    for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.split("; ").any(|a| a == attribute), "{cookie}");
    }
    assert!(!cookie.contains("Domain"), "a __Host- cookie has no Domain: {cookie}");
    // The browser sends it back under the same name, and the 401 challenge names it.
    let value = cookie.split(';').next().unwrap();
    let res = client.send(Method::GET, "/api/v1/users/me", None, &[("cookie", value)]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let res = app.client().get("/api/v1/users/me").await;
    assert!(res.header("www-authenticate").is_some_and(|h| h.contains("__Host-stampcard_session")));
}

#[tokio::test]
async fn wrong_password_unknown_user_and_inactive_user_look_the_same() {
    let app = spawn_app().await;
    app.customer("real", None).await;
    app.customer("sleeper", None).await;
    app.db_exec("UPDATE users SET is_active = false WHERE username = 'sleeper'");

    let wrong = app.client().login("real", "not the password").await;
    let unknown = app.client().login("ghost", "not the password").await;
    let inactive = app.client().login("sleeper", PASSWORD).await;

    wrong.assert_problem(401, "invalid_credentials");
    assert_eq!(wrong.body, unknown.body);
    assert_eq!(wrong.body, inactive.body);
    assert!(wrong.set_cookie("stampcard_session").is_none());
}

#[tokio::test]
async fn login_needs_both_fields() {
    let app = spawn_app().await;
    let res = app.client().post("/api/v1/sessions", json!({"username": "x"})).await;
    res.assert_problem(422, "validation_failed");
    assert_eq!(res.field_errors(), [("password".to_owned(), "required".to_owned())]);
}

#[tokio::test]
async fn next_is_echoed_only_when_it_is_a_local_path() {
    let app = spawn_app().await;
    app.customer("nav", None).await;
    let login = |next: &str| {
        let path = format!("/api/v1/sessions?next={}", urlencode(next));
        let client = app.client();
        async move { client.post(&path, json!({"username": "nav", "password": PASSWORD})).await.body["next"].clone() }
    };
    assert_eq!(login("/api/v1/stamps?x=1").await, "/api/v1/stamps?x=1");
    for unsafe_next in [
        "//evil.example",
        "/\\evil.example",
        "https://evil.example",
        "http:///evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        " //evil.example",
        "/%0d%0aSet-Cookie:x",
        "/\t/evil.example",
    ] {
        assert_eq!(login(unsafe_next).await, "/", "{unsafe_next:?}");
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"/-_.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn whoami_describes_the_session_and_the_user() {
    let app = spawn_app().await;
    let client = app.customer("who", None).await;
    let res = client.get("/api/v1/sessions/current").await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.body["user"]["username"], "who");
    assert_eq!(res.body["session"]["current"], true);
    assert!(res.body["session"]["expires_at"].as_str().unwrap().ends_with('Z'));
    app.client().get("/api/v1/sessions/current").await.assert_problem(401, "unauthenticated");
}

#[tokio::test]
async fn logout_deletes_the_session_clears_the_cookie_and_is_idempotent() {
    let app = spawn_app().await;
    let client = app.customer("leaving", None).await;
    let old = client.cookie();

    let res = client.delete("/api/v1/sessions/current").await;

    assert_eq!(res.status, StatusCode::NO_CONTENT);
    assert!(res.set_cookie("stampcard_session").is_some_and(|c| c.contains("Max-Age=0")));
    assert_eq!(app.count("SELECT count(*) FROM sessions"), 0);
    client.set_cookie(old);
    client.get("/api/v1/users/me").await.assert_problem(401, "unauthenticated");
    let again = client.delete("/api/v1/sessions/current").await;
    assert_eq!(again.status, StatusCode::NO_CONTENT);
    assert_eq!(app.client().delete("/api/v1/sessions/current").await.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn sessions_can_be_listed_and_revoked_one_by_one() {
    let app = spawn_app().await;
    let laptop = app.customer("multi", None).await;
    let phone = app.client();
    phone.login("multi", PASSWORD).await;
    let stranger = app.customer("stranger", None).await;

    let list = laptop.get("/api/v1/sessions?limit=1").await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    let rest = laptop.get(&format!("/api/v1/sessions?cursor={}", list.body["next_cursor"].as_str().unwrap())).await;
    let mut all = list.body["items"].as_array().unwrap().clone();
    all.extend(rest.body["items"].as_array().unwrap().iter().cloned());
    assert_eq!(all.len(), 2);
    assert_eq!(all.iter().filter(|s| s["current"] == true).count(), 1);
    assert!(all.iter().all(|s| s["id"].is_string() && s.get("key_hash").is_none()));
    let phone_id = all.iter().find(|s| s["current"] == false).unwrap()["id"].as_str().unwrap().to_owned();

    stranger.delete(&format!("/api/v1/sessions/{phone_id}")).await.assert_problem(404, "not_found");
    laptop.delete("/api/v1/sessions/00000000-0000-0000-0000-000000000000").await.assert_problem(404, "not_found");
    laptop.delete("/api/v1/sessions/not-a-uuid").await.assert_problem(404, "not_found");
    let res = laptop.delete(&format!("/api/v1/sessions/{phone_id}")).await;

    assert_eq!(res.status, StatusCode::NO_CONTENT);
    phone.get("/api/v1/users/me").await.assert_problem(401, "unauthenticated");
    assert_eq!(laptop.get("/api/v1/users/me").await.status, StatusCode::OK);
}

#[tokio::test]
async fn revoking_all_others_keeps_only_this_session() {
    let app = spawn_app().await;
    let main = app.customer("many", None).await;
    let others: Vec<_> = (0..3).map(|_| app.client()).collect();
    for other in &others {
        other.login("many", PASSWORD).await;
    }
    let res = main.delete("/api/v1/sessions").await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.body["revoked"], 3);
    for other in &others {
        other.get("/api/v1/users/me").await.assert_problem(401, "unauthenticated");
    }
    assert_eq!(main.get("/api/v1/users/me").await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_expired_session_is_anonymous() {
    let app = spawn_app().await;
    let client = app.customer("expired", None).await;
    app.db_exec("UPDATE sessions SET expires_at = now() - interval '1 second'");
    client.get("/api/v1/users/me").await.assert_problem(401, "unauthenticated");
}

#[tokio::test]
async fn eleven_wrong_passwords_lock_the_account_even_for_the_right_one() {
    let app = spawn_app().await;
    app.customer("target", None).await;
    app.customer("neighbour", None).await;
    for attempt in 1..=10 {
        let res = app.client().login("target", "wrong guess").await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    let wrong = app.client().login("target", "wrong guess").await;
    let right = app.client().login("target", PASSWORD).await;
    for res in [&wrong, &right] {
        res.assert_problem(429, "too_many_attempts");
        let retry: u64 = res.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry), "{retry}");
    }
    let spoofed = app
        .client()
        .send(
            Method::POST,
            "/api/v1/sessions",
            Some(json!({"username": "target", "password": PASSWORD})),
            &[("x-forwarded-for", "203.0.113.77")],
        )
        .await;
    spoofed.assert_problem(429, "too_many_attempts");
    assert_eq!(
        app.client().login("neighbour", PASSWORD).await.status,
        StatusCode::CREATED,
        "other accounts are unaffected"
    );
}

#[tokio::test]
async fn a_successful_login_resets_the_account_count() {
    let app = spawn_app().await;
    app.customer("forgetful", None).await;
    for _ in 0..9 {
        app.client().login("forgetful", "wrong guess").await;
    }
    assert_eq!(app.client().login("forgetful", PASSWORD).await.status, StatusCode::CREATED);
    for _ in 0..9 {
        assert_eq!(app.client().login("forgetful", "wrong guess").await.status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn a_client_address_is_throttled_after_a_hundred_failures_whatever_it_forwards() {
    let app = spawn_app().await;
    app.customer("victim", None).await;
    for i in 0..100 {
        let spoof = format!("198.51.100.{}", i % 250);
        let res = app
            .client()
            .send(
                Method::POST,
                "/api/v1/sessions",
                Some(json!({"username": format!("user{i}"), "password": "guess"})),
                &[("x-forwarded-for", &spoof)],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "attempt {i}: {}", res.text);
    }
    let res = app.client().login("victim", PASSWORD).await;
    res.assert_problem(429, "too_many_attempts");
    assert!(res.header("retry-after").is_some());
}

#[tokio::test]
async fn forwarded_for_from_a_trusted_proxy_names_the_client() {
    let app = spawn_app_with(|c| c.trusted_proxies.0 = vec!["127.0.0.0/8".parse().unwrap()]).await;
    app.customer("proxied", None).await;
    let res = app
        .client()
        .send(
            Method::POST,
            "/api/v1/sessions",
            Some(json!({"username": "proxied", "password": PASSWORD})),
            &[("x-forwarded-for", "198.51.100.23")],
        )
        .await;
    assert_eq!(res.body["session"]["ip"], "198.51.100.23");
}

#[tokio::test]
async fn a_raised_bcrypt_cost_upgrades_the_hash_at_the_next_login() {
    let app = spawn_app().await;
    app.customer("upgrade", None).await;
    let upgraded = spawn_app_on_same_db(&app, 5);
    let res = upgraded.client().login("upgrade", PASSWORD).await;
    assert_eq!(res.status, StatusCode::CREATED);
    assert_eq!(app.count("SELECT count(*) FROM users WHERE password_hash LIKE '$2b$05$%'"), 1);
    assert_eq!(upgraded.client().login("upgrade", PASSWORD).await.status, StatusCode::CREATED);
}

fn spawn_app_on_same_db(app: &crate::helpers::TestApp, cost: u32) -> crate::helpers::TestApp {
    crate::helpers::spawn_app_on(&app.database_url, &app.database_url, |c| c.bcrypt_cost = cost)
}

#[tokio::test]
async fn last_seen_is_written_at_most_once_a_minute() {
    let app = spawn_app().await;
    let client = app.customer("seen", None).await;
    app.db_exec("UPDATE sessions SET last_seen_at = now() - interval '30 seconds'");
    client.get("/api/v1/users/me").await;
    assert_eq!(
        app.count("SELECT count(*) FROM sessions WHERE last_seen_at < now() - interval '20 seconds'"),
        1,
        "not yet"
    );
    app.db_exec("UPDATE sessions SET last_seen_at = now() - interval '2 minutes'");
    client.get("/api/v1/users/me").await;
    assert_eq!(
        app.count("SELECT count(*) FROM sessions WHERE last_seen_at > now() - interval '10 seconds'"),
        1,
        "refreshed"
    );
}

#[tokio::test]
async fn a_password_change_racing_the_revocation_of_its_session_does_not_bring_it_back() {
    let app = spawn_app().await;
    for round in 0..10 {
        let name = format!("raced{round}");
        let main = app.customer(&name, None).await;
        let other = app.client();
        assert_eq!(other.login(&name, PASSWORD).await.status, StatusCode::CREATED);
        let id = main.get("/api/v1/sessions/current").await.body["session"]["id"].as_str().unwrap().to_owned();
        let new_password = format!("a new secret {round}");
        let revoke = format!("/api/v1/sessions/{id}");
        let (changed, revoked) = tokio::join!(
            main.put("/api/v1/users/me/password", json!({"current_password": PASSWORD, "new_password": new_password})),
            other.delete(&revoke),
        );
        let rows = app.count(&format!("SELECT count(*) FROM sessions WHERE id = '{id}'"));
        let main_now = main.get("/api/v1/users/me").await.status;
        match revoked.status.as_u16() {
            // The revocation happened: whatever the password change did, the session is gone.
            204 => {
                assert_eq!((rows, main_now), (0, StatusCode::UNAUTHORIZED), "round {round}: {}", changed.status);
            }
            // The password change came first and revoked the other device.
            401 => {
                assert_eq!(changed.status, StatusCode::NO_CONTENT, "round {round}");
                assert_eq!((rows, main_now), (1, StatusCode::OK), "round {round}");
            }
            other => panic!("round {round}: revocation answered {other}: {}", revoked.text),
        }
    }
}

#[tokio::test]
async fn forwarded_for_garbage_stops_at_the_proxy_that_wrote_it() {
    let app = spawn_app_with(|c| c.trusted_proxies.0 = vec!["127.0.0.0/8".parse().unwrap()]).await;
    app.customer("walker", None).await;
    let login = |forwarded: &'static str| {
        let body = json!({"username": "walker", "password": PASSWORD});
        let client = app.client();
        async move {
            client.send(Method::POST, "/api/v1/sessions", Some(body), &[("x-forwarded-for", forwarded)]).await.body
                ["session"]["ip"]
                .clone()
        }
    };
    // The client wrote "203.0.113.5, junk"; the proxy appended nothing we can believe past it.
    assert_eq!(login("203.0.113.5, junk").await, "127.0.0.1");
    assert_eq!(login("203.0.113.5, 198.51.100.9").await, "198.51.100.9");
    assert_eq!(login("203.0.113.5, 127.0.0.9").await, "203.0.113.5", "trusted hops are passed");
}
