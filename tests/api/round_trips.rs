//! What an authenticated request costs the database, counted by pg_stat_statements.

use futures_util::future::join_all;
use reqwest::StatusCode;

use crate::helpers::spawn_app;

/// pg_stat_statements covers the whole cluster; tests look at their own database only.
const THIS_DB: &str = "dbid = (SELECT oid FROM pg_database WHERE datname = current_database())";

/// Statements executed so far in this test's database, other than our own counting and the
/// `SET`s of a new pooled connection (r2d2 opens connections in the background as it likes;
/// that is not a cost of the request).
fn statements(app: &crate::helpers::TestApp) -> i64 {
    app.count(&format!(
        "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE {THIS_DB} \
             AND query NOT ILIKE '%pg_stat_statements%' AND query NOT LIKE 'SET %'"
    ))
}

#[tokio::test]
async fn whoami_costs_one_database_round_trip() {
    let mut app = spawn_app().await;
    // Its poll (BEGIN, a SELECT, COMMIT once a second) is no cost of the requests, but lands in
    // the count whenever the ten requests take longer than a second (a busy machine).
    app.stop_outbox_worker();
    let client = app.customer("counted", None).await;
    // Warm up: the pool connects (and sets up its connections) before we count.
    for _ in 0..3 {
        assert_eq!(client.get("/api/v1/users/me").await.status, StatusCode::OK);
    }
    let before = statements(&app);
    for _ in 0..10 {
        assert_eq!(client.get("/api/v1/users/me").await.status, StatusCode::OK);
    }
    let per_request = (statements(&app) - before) as f64 / 10.0;
    if per_request > 1.0 {
        let breakdown = app.text_rows(&format!(
            "SELECT calls || ' x ' || left(query, 120) FROM pg_stat_statements WHERE {THIS_DB} ORDER BY calls DESC"
        ));
        eprintln!("statements by query:\n{}", breakdown.join("\n"));
    }
    assert!(
        per_request <= 1.0,
        "whoami costs {per_request} statements (the contract allows two; the design needs one)"
    );
    assert!(per_request >= 1.0, "the session really is checked in the database: {per_request}");
}

#[tokio::test]
async fn concurrent_requests_each_get_their_own_user_and_a_revoked_session_none() {
    let app = spawn_app().await;
    let mut clients = Vec::new();
    for i in 0..8 {
        clients.push((format!("regular{i}"), app.customer(&format!("regular{i}"), None).await));
    }
    // A cookie whose session was revoked rides in the same batches and must stay anonymous.
    let revoked = app.customer("gone", None).await;
    let stale = revoked.cookie();
    assert_eq!(revoked.delete("/api/v1/sessions/current").await.status, StatusCode::NO_CONTENT);
    revoked.set_cookie(stale);
    // Their lookups share batches (how many, bench/run.sh reports as round trips per request).
    let requests = clients.iter().flat_map(|(name, client)| (0..8).map(move |_| (name, client)));
    let answers = join_all(requests.map(|(name, client)| async move { (name, client.get("/api/v1/users/me").await) }));
    let (answers, anonymous) = tokio::join!(answers, join_all((0..8).map(|_| revoked.get("/api/v1/users/me"))));

    for (name, res) in &answers {
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        assert_eq!(res.body["username"], name.as_str(), "a request was answered with another user's session");
    }
    for res in &anonymous {
        res.assert_problem(401, "unauthenticated");
    }
}
