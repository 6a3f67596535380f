//! The test databases: one throwaway PostgreSQL cluster per test run (or the server of
//! `DATABASE_URL`, whose role needs CREATEDB), a migrated template database, and a fresh copy
//! of it for every test.

use std::sync::OnceLock;
use std::time::Duration;

use diesel::{Connection, PgConnection, RunQueryDsl};
use stampcard::db;

const TEMPLATE: &str = "stampcard_template";

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

/// A new, empty database (no migrations applied); returns its URL.
pub fn empty_database() -> String {
    let server = server_url();
    let name = format!("empty_{}", uuid::Uuid::new_v4().simple());
    let mut conn = connect_with_retry(&format!("{server}/postgres"));
    diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE template0")).execute(&mut conn).expect("create db");
    format!("{server}/{name}")
}
