//! What an authenticated request costs the database, counted by pg_stat_statements.

use reqwest::StatusCode;

use crate::helpers::spawn_app;

/// Statements executed so far in this test's database, other than our own counting and the
/// `SET`s of a new pooled connection (r2d2 opens connections in the background as it likes;
/// that is not a cost of the request).
fn statements(app: &crate::helpers::TestApp) -> i64 {
    app.count(
        "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements \
         WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) \
         AND query NOT ILIKE '%pg_stat_statements%' AND query NOT LIKE 'SET %'",
    )
}

#[tokio::test]
async fn whoami_costs_one_database_round_trip() {
    let app = spawn_app().await;
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
        let breakdown = app.text_rows(
            "SELECT calls || ' x ' || left(query, 120) FROM pg_stat_statements \
             WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY calls DESC",
        );
        eprintln!("statements by query:\n{}", breakdown.join("\n"));
    }
    assert!(
        per_request <= 1.0,
        "whoami costs {per_request} statements (the contract allows two; the design needs one)"
    );
    assert!(per_request >= 1.0, "the session really is checked in the database: {per_request}");
}
