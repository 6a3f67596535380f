//! The test harness: one throwaway PostgreSQL cluster per test run, a migrated template
//! database, a fresh database per test copied from it, and the real app served on port 0.
//!
//! With `DATABASE_URL` set, its server is used instead of a throwaway cluster (the role needs
//! CREATEDB).

use std::net::TcpListener;
use std::sync::OnceLock;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use diesel::{Connection, PgConnection, RunQueryDsl};
use rand::RngCore;
use reqwest::header::{HeaderMap, HeaderValue, COOKIE, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use stampcard::auth::password::Passwords;
use stampcard::config::Config;
use stampcard::db::{self, Db};
use stampcard::routes::Resource;
use stampcard::startup::{self, ServerParts};

const TEMPLATE: &str = "stampcard_template";

/// A password that passes every rule.
pub const PASSWORD: &str = "flat white at dawn";

/// `postgres://...:port` of the server that holds the test databases, with the template ready.
fn server_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let server = match std::env::var("DATABASE_URL") {
            Ok(url) if !url.is_empty() => url.rsplit_once('/').map(|(server, _)| server.to_owned()).unwrap_or(url),
            _ => start_throwaway_cluster(),
        };
        let mut conn = connect_with_retry(&format!("{server}/postgres"));
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {TEMPLATE}")).execute(&mut conn).expect("drop template");
        diesel::sql_query(format!("CREATE DATABASE {TEMPLATE}")).execute(&mut conn).expect("create template");
        db::migrate(&format!("{server}/{TEMPLATE}")).expect("migrate the template");
        let mut template = connect_with_retry(&format!("{server}/{TEMPLATE}"));
        diesel::sql_query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            .execute(&mut template)
            .expect("pg_stat_statements");
        server
    })
}

/// A throwaway cluster for this test run. pg_stat_statements lets a test count the statements
/// a request costs.
fn start_throwaway_cluster() -> String {
    let settings =
        ["max_connections=300", "shared_preload_libraries=pg_stat_statements", "pg_stat_statements.track_planning=on"];
    devdb::throwaway_cluster(&settings).unwrap_or_else(|e| panic!("cannot start PostgreSQL: {e:#}"))
}

fn connect_with_retry(url: &str) -> PgConnection {
    let mut last = None;
    for _ in 0..200 {
        match PgConnection::establish(url) {
            Ok(conn) => return conn,
            Err(err) => last = Some(err),
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("cannot connect to {url}: {last:?}");
}

/// A new database, a copy of the migrated template; returns its URL.
pub fn new_database() -> String {
    let server = server_url();
    let name = format!("test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = connect_with_retry(&format!("{server}/postgres"));
    diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {TEMPLATE}"))
        .execute(&mut conn)
        .expect("create test db");
    format!("{server}/{name}")
}

/// Serialises the tests that measure time with bcrypt at its production cost: run side by
/// side on two cores they would measure each other.
pub async fn timing_sensitive() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

/// The configuration tests run with: dev mode, cheap bcrypt, one worker, a small pool.
pub fn test_config(database_url: &str) -> Config {
    let mut config = Config::for_database(database_url);
    config.dev = Some(true);
    config.bcrypt_cost = 4;
    config.workers = Some(1);
    config.db_pool_size = 8;
    config
}

/// A running app on its own database.
pub struct TestApp {
    pub address: String,
    pub database_url: String,
    /// The app's bcrypt threads, to count the passwords it compared.
    pub passwords: Passwords,
    handle: ServerHandle,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // The stop command is sent at once; the server thread finishes it on its own.
        drop(self.handle.stop(false));
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Spawns the app with a configuration adjusted by `customize`.
pub async fn spawn_app_with(customize: impl FnOnce(&mut Config)) -> TestApp {
    let database_url = tokio::task::spawn_blocking(new_database).await.expect("create database");
    spawn_app_on(&database_url, &database_url, customize)
}

/// Spawns the app connecting through `connect_url` (e.g. a proxy) to the database of
/// `database_url`.
pub fn spawn_app_on(database_url: &str, connect_url: &str, customize: impl FnOnce(&mut Config)) -> TestApp {
    let mut config = test_config(connect_url);
    customize(&mut config);
    let passwords = Passwords::start(config.bcrypt_cost, cores());
    spawn_app_from(database_url, config, passwords)
}

/// Spawns the app with bcrypt threads of the test's own making (a short queue, one thread).
pub async fn spawn_app_with_passwords(passwords: Passwords, customize: impl FnOnce(&mut Config)) -> TestApp {
    let database_url = tokio::task::spawn_blocking(new_database).await.expect("create database");
    let mut config = test_config(&database_url);
    customize(&mut config);
    config.bcrypt_cost = passwords.cost();
    spawn_app_from(&database_url, config, passwords)
}

pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

fn spawn_app_from(database_url: &str, config: Config, passwords: Passwords) -> TestApp {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    let address = format!("http://{}", listener.local_addr().expect("bound"));
    let db = Db::new(config.database_url.as_deref().expect("a database"), &config);
    let mut key = vec![0u8; 64];
    rand::thread_rng().fill_bytes(&mut key);
    let parts = ServerParts { config, db, passwords: passwords.clone(), key, extra_routes: Some(test_routes) };
    let server = startup::build(listener, parts).expect("build server");
    let handle = server.handle();
    // Its own thread and actix system, so the server outlives no test and blocks none.
    std::thread::spawn(move || actix_web::rt::System::new().block_on(server));
    TestApp { address, database_url: database_url.to_owned(), passwords, handle }
}

/// Routes the product does not have, for tests of the machinery around handlers.
fn test_routes(cfg: &mut actix_web::web::ServiceConfig) {
    async fn panics() -> actix_web::HttpResponse {
        panic!("a handler bug");
    }
    cfg.service(Resource::new("/test/panic").get(panics).build());
}

impl TestApp {
    /// A client with its own cookie jar (a browser, a device).
    pub fn client(&self) -> Client {
        Client { base: self.address.clone(), http: reqwest::Client::new(), cookie: std::sync::Mutex::new(None) }
    }

    /// A direct connection to this test's database, for arranging and checking rows.
    pub fn db(&self) -> PgConnection {
        PgConnection::establish(&self.database_url).expect("connect to the test database")
    }

    /// Runs a statement on this test's database.
    pub fn db_exec(&self, sql: &str) {
        diesel::sql_query(sql).execute(&mut self.db()).expect("statement");
    }

    /// Runs SQL returning one text column, all rows.
    pub fn text_rows(&self, sql: &str) -> Vec<String> {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Text)]
            t: String,
        }
        let rows: Vec<Row> =
            diesel::sql_query(format!("SELECT t FROM ({sql}) AS q(t)")).load(&mut self.db()).expect("text query");
        rows.into_iter().map(|r| r.t).collect()
    }

    /// Runs SQL returning one bigint (`SELECT count(*) ...`).
    pub fn count(&self, sql: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        diesel::sql_query(format!("SELECT ({sql})::bigint AS n"))
            .get_result::<Count>(&mut self.db())
            .expect("count query")
            .n
    }

    /// Signs a new customer up and returns their logged-in client.
    pub async fn customer(&self, username: &str, phone: Option<&str>) -> Client {
        let client = self.client();
        let mut body = json!({"username": username, "password": PASSWORD});
        if let Some(phone) = phone {
            body["phone"] = json!(phone);
        }
        let res = client.post("/api/v1/users", body).await;
        assert_eq!(res.status, StatusCode::CREATED, "signup of {username}: {}", res.body);
        client
    }

    /// Creates a user with `role` (as the CLI does) and logs them in.
    pub async fn user_with_role(&self, username: &str, role: &str) -> Client {
        let mut conn = self.db();
        let role = stampcard::models::user::Role::parse(role).expect("a role");
        stampcard::accounts::create_user_sync(&mut conn, username, PASSWORD, None, None, role, 4).expect("create user");
        let client = self.client();
        let res = client.login(username, PASSWORD).await;
        assert_eq!(res.status, StatusCode::CREATED, "login of {username}: {}", res.body);
        client
    }
}

/// An HTTP client that keeps the session cookie the way a browser would, and lets a test
/// read or replace it.
pub struct Client {
    base: String,
    http: reqwest::Client,
    cookie: std::sync::Mutex<Option<String>>,
}

/// A response, read completely.
#[derive(Debug)]
pub struct Res {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Res {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `Set-Cookie` header of a cookie, if the response set one.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }

    /// Asserts an RFC 9457 problem with this status and code.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "status of {}", self.text);
        assert_eq!(self.header("content-type"), Some("application/problem+json"), "{}", self.text);
        assert_eq!(self.body["code"], code, "{}", self.text);
        assert_eq!(self.body["status"], status, "{}", self.text);
        assert!(self.body["title"].is_string() && self.body["type"].is_string() && self.body["detail"].is_string());
    }

    /// The `code`s of the field errors of a 422, by field.
    pub fn field_errors(&self) -> Vec<(String, String)> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| {
                        (e["field"].as_str().unwrap_or("").to_owned(), e["code"].as_str().unwrap_or("").to_owned())
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Client {
    /// The current session cookie value.
    pub fn cookie(&self) -> Option<String> {
        self.cookie.lock().unwrap().clone()
    }

    /// Replaces the session cookie (to replay an old value).
    pub fn set_cookie(&self, value: Option<String>) {
        *self.cookie.lock().unwrap() = value;
    }

    pub async fn get(&self, path: &str) -> Res {
        self.send(Method::GET, path, None, &[]).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Res {
        self.send(Method::POST, path, Some(body), &[]).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Res {
        self.send(Method::PUT, path, Some(body), &[]).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Res {
        self.send(Method::PATCH, path, Some(body), &[]).await
    }

    pub async fn delete(&self, path: &str) -> Res {
        self.send(Method::DELETE, path, None, &[]).await
    }

    pub async fn delete_with(&self, path: &str, body: Value) -> Res {
        self.send(Method::DELETE, path, Some(body), &[]).await
    }

    pub async fn login(&self, username: &str, password: &str) -> Res {
        self.post("/api/v1/sessions", json!({"username": username, "password": password})).await
    }

    /// Any request: a JSON body when given, extra headers as (name, value).
    pub async fn send(&self, method: Method, path: &str, body: Option<Value>, headers: &[(&str, &str)]) -> Res {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(cookie) = self.cookie() {
            request = request.header(COOKIE, HeaderValue::from_str(&format!("stampcard_session={cookie}")).unwrap());
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.finish(request).await
    }

    /// Sends a raw body with the given content type.
    pub async fn send_raw(&self, method: Method, path: &str, content_type: &str, body: Vec<u8>) -> Res {
        self.send_raw_with(method, path, content_type, body, &[]).await
    }

    /// Sends a raw body with the given content type and extra headers.
    pub async fn send_raw_with(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> Res {
        let mut request =
            self.http.request(method, format!("{}{path}", self.base)).header("content-type", content_type).body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.finish(request).await
    }

    async fn finish(&self, request: reqwest::RequestBuilder) -> Res {
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("a readable body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        let res = Res { status, headers, body, text };
        if let Some(set) = res.set_cookie("stampcard_session") {
            let value = set.split(';').next().unwrap_or("").trim_start_matches("stampcard_session=").to_owned();
            let removed = value.is_empty() || set.contains("Max-Age=0");
            self.set_cookie((!removed).then_some(value));
        }
        res
    }
}
