//! Liveness, readiness (also across a database outage), the spec, request ids.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::helpers::{new_database, spawn_app, spawn_app_on};

#[tokio::test]
async fn healthz_answers_ok_with_the_standard_headers() {
    let app = spawn_app().await;
    let res = app.client().get("/healthz").await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.body["status"], "ok");
    assert_eq!(res.header("x-content-type-options"), Some("nosniff"));
    assert!(res.header("x-request-id").is_some_and(|id| !id.is_empty()));
}

#[tokio::test]
async fn a_given_request_id_is_echoed() {
    let app = spawn_app().await;
    let res = app.client().send(reqwest::Method::GET, "/healthz", None, &[("x-request-id", "trace-me-42")]).await;
    assert_eq!(res.header("x-request-id"), Some("trace-me-42"));
}

#[tokio::test]
async fn the_openapi_document_is_served() {
    let app = spawn_app().await;
    let res = app.client().get("/openapi.yaml").await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.text.starts_with("openapi: 3.1"), "{}", &res.text[..res.text.len().min(80)]);
    assert_eq!(res.text, stampcard::routes::OPENAPI_YAML);
}

/// A TCP proxy in front of PostgreSQL that a test can cut and restore.
struct FlakyProxy {
    port: u16,
    up: Arc<watch::Sender<bool>>,
}

impl FlakyProxy {
    async fn start(target_port: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(watch::channel(true).0);
        let accept_up = up.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else { return };
                if !*accept_up.borrow() {
                    continue; // dropping the socket refuses the connection
                }
                let mut down = accept_up.subscribe();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(("127.0.0.1", target_port)).await else { return };
                    tokio::select! {
                        _ = copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = down.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Self { port, up }
    }

    fn set_up(&self, up: bool) {
        self.up.send_replace(up);
    }
}

async fn wait_for_status(client: &crate::helpers::Client, status: StatusCode) -> crate::helpers::Res {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let res = client.get("/readyz").await;
        if res.status == status || Instant::now() > deadline {
            return res;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// An app whose database connections go through a [`FlakyProxy`].
async fn app_behind_proxy() -> (crate::helpers::TestApp, FlakyProxy) {
    app_behind_proxy_with(|_| {}).await
}

async fn app_behind_proxy_with(
    customize: impl FnOnce(&mut stampcard::config::Config),
) -> (crate::helpers::TestApp, FlakyProxy) {
    let database_url = tokio::task::spawn_blocking(new_database).await.unwrap();
    let (server, name) = database_url.rsplit_once('/').unwrap();
    let db_port: u16 = server.rsplit_once(':').unwrap().1.parse().unwrap();
    let proxy = FlakyProxy::start(db_port).await;
    let via_proxy = format!("{}:{}/{name}", server.rsplit_once(':').unwrap().0, proxy.port);
    let app = spawn_app_on(&database_url, &via_proxy, |c| {
        c.db_timeout_ms = 500;
        customize(c);
    });
    (app, proxy)
}

#[tokio::test]
async fn readyz_is_503_while_the_database_is_down_and_recovers_by_itself() {
    let (app, proxy) = app_behind_proxy().await;
    let client = app.client();
    assert_eq!(wait_for_status(&client, StatusCode::OK).await.status, StatusCode::OK);

    proxy.set_up(false);
    let res = wait_for_status(&client, StatusCode::SERVICE_UNAVAILABLE).await;
    res.assert_problem(503, "service_unavailable");
    assert!(res.header("retry-after").is_some());
    assert_eq!(client.get("/healthz").await.status, StatusCode::OK, "the process stays up");

    proxy.set_up(true);
    let res = wait_for_status(&client, StatusCode::OK).await;
    assert_eq!(res.status, StatusCode::OK, "back without a restart: {}", res.text);
}

#[tokio::test]
async fn a_database_outage_is_503_for_logged_in_requests_and_logout_not_a_500() {
    let (app, proxy) = app_behind_proxy().await;
    let client = app.customer("during_outage", None).await;

    proxy.set_up(false);
    let me = client.get("/api/v1/users/me").await;
    let logout = client.delete("/api/v1/sessions/current").await;
    let login = app.client().login("during_outage", crate::helpers::PASSWORD).await;

    me.assert_problem(503, "service_unavailable");
    assert!(me.header("retry-after").is_some());
    logout.assert_problem(503, "service_unavailable");
    login.assert_problem(503, "service_unavailable");
    proxy.set_up(true);
    let deadline = Instant::now() + Duration::from_secs(20);
    while client.get("/api/v1/users/me").await.status != StatusCode::OK {
        assert!(Instant::now() < deadline, "the session works again once the database is back");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_connection_cut_before_it_prepared_a_statement_is_replaced() {
    // One connection, so that every request after the cut is given the same one.
    let (app, proxy) = app_behind_proxy_with(|c| c.db_pool_size = 1).await;
    // Signing up never looks a session up: the connection has not prepared that query yet.
    let client = app.customer("cut_off", None).await;
    proxy.set_up(false);
    tokio::time::sleep(Duration::from_millis(100)).await; // the proxy drops its connections
    proxy.set_up(true);
    // The first request may meet the dead connection (503); the ones after it must not.
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let status = client.get("/api/v1/users/me").await.status;
        statuses.push(status);
        if status == StatusCode::OK {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(statuses.last(), Some(&StatusCode::OK), "{statuses:?}");
    assert!(statuses.len() <= 2, "the lost connection was handed out again: {statuses:?}");
}

#[test]
fn instances_started_at_once_on_an_empty_database_migrate_it_once() {
    let url = crate::helpers::empty_database();
    let starts: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || stampcard::db::migrate(&url))
        })
        .collect();
    let applied: Vec<usize> = starts.into_iter().map(|s| s.join().unwrap().expect("every instance comes up")).collect();
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations")).unwrap().count();
    assert_eq!(applied.iter().sum::<usize>(), migrations, "each migration ran once: {applied:?}");
    assert_eq!(applied.iter().filter(|n| **n > 0).count(), 1, "one migrated, the others found it done: {applied:?}");
}
