//! The app under test: the real server on port 0, on its own database, and what a test needs
//! to arrange and check rows there.

use actix_web::web;
use diesel::{Connection, PgConnection, RunQueryDsl};
use reqwest::StatusCode;
use serde_json::json;
use stampcard::auth::password::Passwords;
use stampcard::config::Config;
use stampcard::outbox::Worker;
use stampcard::routes::Resource;
use stampcard::startup::{Application, Handle, Options};

use super::client::Client;
use super::database::new_database;
use super::PASSWORD;

/// The configuration tests run with: dev mode, cheap bcrypt, one worker, a small pool, both
/// listeners on free ports.
pub fn test_config(database_url: &str) -> Config {
    let mut config = Config::for_database(database_url);
    config.dev = Some(true);
    config.bcrypt_cost = 4;
    config.workers = Some(1);
    config.db_pool_size = 8;
    config.addr = "127.0.0.1:0".into();
    // For the tests that turn dev mode off.
    let mut key = vec![0u8; 64];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut key);
    config.secret_key = Some(stampcard::config::SecretKey(key));
    config.metrics_addr = Some("127.0.0.1:0".into());
    config
}

/// A running app on its own database.
pub struct TestApp {
    pub address: String,
    pub database_url: String,
    /// Where the app's metrics listener answers `GET /metrics`.
    pub metrics_address: String,
    /// The app's bcrypt threads, to count the passwords it compared.
    pub passwords: Passwords,
    handle: Handle,
    /// The app's outbox worker; it stops with the app (or [`TestApp::stop_outbox_worker`]).
    deliveries: Option<Worker>,
}

impl TestApp {
    /// Stops the outbox worker (after its current message): for tests that count the
    /// database's statements, which its polling, once a second, would add to.
    pub fn stop_outbox_worker(&mut self) {
        self.deliveries = None;
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // The stop commands are sent at once; the server thread finishes them on its own.
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
    spawn_app_from(database_url, config, None)
}

/// Spawns the app with bcrypt threads of the test's own making (a short queue, one thread).
pub async fn spawn_app_with_passwords(passwords: Passwords, customize: impl FnOnce(&mut Config)) -> TestApp {
    let database_url = tokio::task::spawn_blocking(new_database).await.expect("create database");
    let mut config = test_config(&database_url);
    customize(&mut config);
    config.bcrypt_cost = passwords.cost();
    spawn_app_from(&database_url, config, Some(passwords))
}

/// The app as `serve` builds it (plus the test routes), on its own thread and actix system.
fn spawn_app_from(database_url: &str, config: Config, passwords: Option<Passwords>) -> TestApp {
    let connect_url = config.database_url.clone().expect("a database");
    let options = Options { passwords, extra_routes: Some(test_routes) };
    let mut app = Application::build_with(config, &connect_url, options).expect("build the app");
    let address = format!("http://{}", app.address());
    let metrics_address = format!("http://{}", app.metrics_address().expect("a metrics listener"));
    let (passwords, handle, deliveries) = (app.passwords().clone(), app.handle(), app.take_outbox_worker());
    // Their own thread and actix system, so the servers outlive no test and block none.
    std::thread::spawn(move || actix_web::rt::System::new().block_on(app.run_until_stopped()));
    TestApp { address, database_url: database_url.to_owned(), metrics_address, passwords, handle, deliveries }
}

/// Routes the product does not have, for tests of the machinery around handlers.
fn test_routes(cfg: &mut web::ServiceConfig) {
    async fn panics() -> actix_web::HttpResponse {
        panic!("a handler bug");
    }
    cfg.service(Resource::new("/test/panic").get(panics).build());
}

impl TestApp {
    /// A client with its own cookie jar (a browser, a device).
    pub fn client(&self) -> Client {
        Client::new(&self.address)
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
        let account = stampcard::accounts::NewAccount { username, password: PASSWORD, email: None, phone: None, role };
        stampcard::accounts::create_user_sync(&mut conn, account, &test_config(&self.database_url))
            .expect("create user");
        let client = self.client();
        let res = client.login(username, PASSWORD).await;
        assert_eq!(res.status, StatusCode::CREATED, "login of {username}: {}", res.body);
        client
    }
}
