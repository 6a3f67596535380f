//! Admin account management: search, roles, deactivation.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{spawn_app, PASSWORD};

#[tokio::test]
async fn only_admins_list_users() {
    let app = spawn_app().await;
    let customer = app.customer("plain", None).await;
    let staff = app.user_with_role("barista", "staff").await;
    customer.get("/api/v1/users").await.assert_problem(403, "forbidden");
    staff.get("/api/v1/users").await.assert_problem(403, "forbidden");
    app.client().get("/api/v1/users").await.assert_problem(401, "unauthenticated");
}

#[tokio::test]
async fn admins_search_by_username_or_phone_prefix_and_page() {
    let app = spawn_app().await;
    let admin = app.user_with_role("boss", "admin").await;
    app.customer("kim_a", Some("010-1111-2222")).await;
    app.customer("kim_b", Some("010-3333-4444")).await;
    app.customer("lee", Some("010-1111-9999")).await;

    let names = |res: &crate::helpers::Res| -> Vec<String> {
        res.body["items"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(names(&admin.get("/api/v1/users?q=KIM").await), ["kim_a", "kim_b"]);
    assert_eq!(names(&admin.get("/api/v1/users?q=010-1111").await), ["kim_a", "lee"]);
    assert_eq!(names(&admin.get("/api/v1/users?q=%2B8210-3333").await), ["kim_b"]);
    let first = admin.get("/api/v1/users?limit=2").await;
    assert_eq!(names(&first), ["boss", "kim_a"]);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = admin.get(&format!("/api/v1/users?limit=2&cursor={cursor}")).await;
    assert_eq!(names(&second), ["kim_b", "lee"]);
    assert!(second.body["next_cursor"].is_null());
}

#[tokio::test]
async fn admins_change_roles_and_validate_them() {
    let app = spawn_app().await;
    let admin = app.user_with_role("boss", "admin").await;
    let customer = app.customer("promoted", None).await;
    let id = customer.get("/api/v1/users/me").await.body["id"].as_str().unwrap().to_owned();

    let res = admin.patch(&format!("/api/v1/users/{id}"), json!({"role": "staff"})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["role"], "staff");
    assert_eq!(customer.get("/api/v1/users/me").await.body["role"], "staff", "seen on the next request");

    admin
        .patch(&format!("/api/v1/users/{id}"), json!({"role": "owner"}))
        .await
        .assert_problem(422, "validation_failed");
    admin
        .patch("/api/v1/users/00000000-0000-0000-0000-000000000000", json!({"role": "staff"}))
        .await
        .assert_problem(404, "not_found");
    customer.patch(&format!("/api/v1/users/{id}"), json!({"role": "admin"})).await.assert_problem(403, "forbidden");
}

#[tokio::test]
async fn deactivation_revokes_every_session_and_blocks_login() {
    let app = spawn_app().await;
    let admin = app.user_with_role("boss", "admin").await;
    let customer = app.customer("leaver", None).await;
    let id = customer.get("/api/v1/users/me").await.body["id"].as_str().unwrap().to_owned();

    let res = admin.patch(&format!("/api/v1/users/{id}"), json!({"is_active": false})).await;

    assert_eq!(res.body["is_active"], false);
    let gone = customer.get("/api/v1/users/me").await;
    gone.assert_problem(401, "unauthenticated");
    // The holder of the cookie is told why, so the app can say so instead of a bare login.
    assert_eq!(gone.body["reason"], "account_deactivated", "{}", gone.text);
    assert_eq!(app.count(&format!("SELECT count(*) FROM sessions WHERE user_id = '{id}'")), 0);
    app.client().login("leaver", PASSWORD).await.assert_problem(401, "invalid_credentials");
    admin.patch(&format!("/api/v1/users/{id}"), json!({"is_active": true})).await;
    let relogged = app.client();
    assert_eq!(relogged.login("leaver", PASSWORD).await.status, StatusCode::CREATED);
    // Reactivated, the old cookie is still no session, and no longer a deactivated one.
    let old = customer.get("/api/v1/users/me").await;
    old.assert_problem(401, "unauthenticated");
    assert!(old.body.get("reason").is_none(), "{}", old.text);
    // A logout is no deactivation either: its cookie replayed has no reason.
    let cookie = relogged.cookie();
    relogged.delete("/api/v1/sessions/current").await;
    relogged.set_cookie(cookie);
    let after_logout = relogged.get("/api/v1/users/me").await;
    after_logout.assert_problem(401, "unauthenticated");
    assert!(after_logout.body.get("reason").is_none(), "{}", after_logout.text);
}

#[tokio::test]
async fn the_last_active_admin_can_be_neither_demoted_nor_deactivated() {
    let app = spawn_app().await;
    let admin = app.user_with_role("only-boss", "admin").await;
    let id = admin.get("/api/v1/users/me").await.body["id"].as_str().unwrap().to_owned();
    for change in
        [json!({"role": "staff"}), json!({"is_active": false}), json!({"role": "customer", "is_active": true})]
    {
        admin.patch(&format!("/api/v1/users/{id}"), change).await.assert_problem(409, "last_admin");
    }
    assert_eq!(admin.get("/api/v1/users/me").await.body["role"], "admin", "nothing changed");
    // With a second admin, either may step down.
    let second = app.user_with_role("new-boss", "admin").await;
    let res = admin.patch(&format!("/api/v1/users/{id}"), json!({"role": "staff"})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let second_id = second.get("/api/v1/users/me").await.body["id"].as_str().unwrap().to_owned();
    second
        .patch(&format!("/api/v1/users/{second_id}"), json!({"is_active": false}))
        .await
        .assert_problem(409, "last_admin");
}

#[tokio::test]
async fn two_admins_demoting_each_other_at_once_leave_one_admin() {
    for round in 0..5 {
        let app = spawn_app().await;
        let a = app.user_with_role(&format!("alpha{round}"), "admin").await;
        let b = app.user_with_role(&format!("bravo{round}"), "admin").await;
        let a_id = a.get("/api/v1/users/me").await.body["id"].as_str().unwrap().to_owned();
        let b_id = b.get("/api/v1/users/me").await.body["id"].as_str().unwrap().to_owned();
        let (a_path, b_path) = (format!("/api/v1/users/{a_id}"), format!("/api/v1/users/{b_id}"));
        let (ra, rb) =
            tokio::join!(a.patch(&b_path, json!({"role": "customer"})), b.patch(&a_path, json!({"is_active": false})),);
        let mut statuses = [ra.status.as_u16(), rb.status.as_u16()];
        statuses.sort();
        // The second can lose either way: to the lock, or to the first having taken its rights.
        assert!([[200, 401], [200, 403], [200, 409]].contains(&statuses), "{statuses:?}");
        assert_eq!(app.count("SELECT count(*) FROM users WHERE role = 'admin' AND is_active"), 1, "round {round}");
    }
}

#[tokio::test]
async fn a_login_racing_a_deactivation_leaves_no_session_to_come_back() {
    let app = spawn_app().await;
    let admin = app.user_with_role("boss", "admin").await;
    for round in 0..10 {
        let name = format!("racer{round}");
        let customer = app.customer(&name, None).await;
        let id = customer.get("/api/v1/users/me").await.body["id"].as_str().unwrap().to_owned();
        let late = app.client();
        let path = format!("/api/v1/users/{id}");
        let (_, deactivated) =
            tokio::join!(late.login(&name, PASSWORD), admin.patch(&path, json!({"is_active": false})));
        assert_eq!(deactivated.status, StatusCode::OK);
        assert_eq!(app.count(&format!("SELECT count(*) FROM sessions WHERE user_id = '{id}'")), 0, "round {round}");
        admin.patch(&path, json!({"is_active": true})).await;
        late.get("/api/v1/users/me").await.assert_problem(401, "unauthenticated");
        customer.get("/api/v1/users/me").await.assert_problem(401, "unauthenticated");
    }
}
