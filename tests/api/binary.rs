//! The `stampcard` binary itself: configuration errors and the command line. (Its start-up
//! time and graceful shutdown are measured in `tests/timing`.)

use crate::helpers::{new_database, stampcard, PASSWORD};

fn run(vars: &[(&str, &str)]) -> (i32, String) {
    let out = stampcard().arg("serve").envs(vars.iter().copied()).output().expect("run the binary");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_short_secret_key_stops_the_process_naming_the_variable() {
    let (code, stderr) = run(&[("STAMPCARD_SECRET_KEY", "too-short")]);
    assert_ne!(code, 0);
    assert!(stderr.contains("STAMPCARD_SECRET_KEY"), "{stderr}");
    assert!(!stderr.contains("too-short"), "the secret itself is never printed: {stderr}");
}

#[test]
fn a_bcrypt_cost_out_of_range_stops_the_process_naming_the_variable() {
    let (code, stderr) = run(&[("STAMPCARD_BCRYPT_COST", "32")]);
    assert_ne!(code, 0);
    assert!(stderr.contains("STAMPCARD_BCRYPT_COST"), "{stderr}");
}

#[test]
fn production_mode_without_a_secret_key_refuses_to_start() {
    let (code, stderr) = run(&[("STAMPCARD_DEV", "0"), ("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")]);
    assert_ne!(code, 0);
    assert!(stderr.contains("STAMPCARD_SECRET_KEY"), "{stderr}");
}

#[test]
fn help_documents_every_variable() {
    let out = stampcard().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for var in [
        "DATABASE_URL",
        "STAMPCARD_ADDR",
        "STAMPCARD_SECRET_KEY",
        "STAMPCARD_DEV",
        "STAMPCARD_ALLOWED_ORIGINS",
        "STAMPCARD_BCRYPT_COST",
        "STAMPCARD_STAMPS_PER_REWARD",
        "STAMPCARD_SESSION_TTL",
        "STAMPCARD_TRUSTED_PROXIES",
    ] {
        assert!(help.contains(var), "{var} missing from --help");
    }
}

#[tokio::test]
async fn the_cli_creates_users_sets_roles_and_purges_expired_sessions() {
    let app = crate::helpers::spawn_app().await;
    let cli = |args: &[&str]| {
        let out = stampcard()
            .args(args)
            .env("DATABASE_URL", &app.database_url)
            .env("STAMPCARD_PASSWORD", PASSWORD)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };

    cli(&["user", "create", "--username", "counter", "--role", "staff", "--phone", "010-7777-8888"]);
    let staff = app.client();
    let res = staff.login("counter", PASSWORD).await;
    assert_eq!(res.body["user"]["role"], "staff", "{}", res.text);
    assert_eq!(res.body["user"]["phone"], "+821077778888");

    cli(&["user", "set-role", "--username", "COUNTER", "--role", "admin"]);
    assert_eq!(staff.get("/api/v1/users/me").await.body["role"], "admin");

    app.db_exec("UPDATE sessions SET expires_at = now() - interval '1 minute'");
    let out = cli(&["sessions", "purge"]);
    assert!(out.contains("purged 1"), "{out}");
    assert_eq!(app.count("SELECT count(*) FROM sessions"), 0);
}

#[test]
fn user_create_help_shows_its_own_options_and_the_password_rules() {
    let help = stampcard().args(["user", "create", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for own in
        ["--username", "--role", "--phone", "--email", "8 to 72 bytes", "common passwords", "similar to the username"]
    {
        assert!(help.contains(own), "{own} missing from:\n{help}");
    }
    for server_setting in ["--smtp-url", "--workers", "--bcrypt-cost", "--database-url"] {
        assert!(!help.contains(server_setting), "{server_setting} in:\n{help}");
    }
    // The top-level help still lists every setting.
    let top = stampcard().arg("--help").output().unwrap();
    assert!(String::from_utf8_lossy(&top.stdout).contains("--smtp-url"));
}

#[tokio::test]
async fn the_cli_refuses_weak_passwords_and_unknown_roles() {
    let url = tokio::task::spawn_blocking(new_database).await.unwrap();
    let weak = stampcard()
        .args(["user", "create", "--username", "weakling"])
        .env("DATABASE_URL", &url)
        .env("STAMPCARD_PASSWORD", "password")
        .output()
        .unwrap();
    assert!(!weak.status.success());
    // A reason a person can act on, not a code.
    let said = String::from_utf8_lossy(&weak.stderr);
    assert!(said.contains("password") && said.contains("too common; choose one that is harder to guess"), "{said}");
    let role = stampcard()
        .args(["user", "create", "--username", "someone", "--role", "owner"])
        .env("DATABASE_URL", &url)
        .env("STAMPCARD_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(!role.status.success());
}

#[tokio::test]
async fn the_cli_deactivates_and_reactivates_and_takes_a_72_byte_password() {
    let app = crate::helpers::spawn_app().await;
    let seventy_two = "가".repeat(24);
    let cli = |args: &[&str]| {
        let out = stampcard()
            .args(args)
            .env("DATABASE_URL", &app.database_url)
            .env("STAMPCARD_PASSWORD", &seventy_two)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (ok, out) = cli(&["user", "create", "--username", "longpass", "--role", "admin"]);
    assert!(ok, "{out}");
    let device = app.client();
    assert_eq!(device.login("longpass", &seventy_two).await.status, reqwest::StatusCode::CREATED);

    let (ok, out) = cli(&["user", "set-active", "--username", "longpass", "--active", "false"]);
    assert!(!ok && out.contains("no active admin"), "the last admin stays: {out}");
    assert!(cli(&["user", "create", "--username", "deputy", "--role", "admin"]).0);
    let (ok, out) = cli(&["user", "set-active", "--username", "longpass", "--active", "false"]);
    assert!(ok, "{out}");
    device.get("/api/v1/users/me").await.assert_problem(401, "unauthenticated");
    app.client().login("longpass", &seventy_two).await.assert_problem(401, "invalid_credentials");
    let (ok, out) = cli(&["user", "set-active", "--username", "longpass", "--active", "true"]);
    assert!(ok, "{out}");
    assert_eq!(app.client().login("longpass", &seventy_two).await.status, reqwest::StatusCode::CREATED);
    assert!(!cli(&["user", "set-active", "--username", "longpass", "--active", "maybe"]).0);
}

#[tokio::test]
async fn json_logs_are_one_object_per_line_with_the_request_fields() {
    use std::io::Read;
    let url = tokio::task::spawn_blocking(new_database).await.unwrap();
    let mut server = crate::helpers::serve_logging(&url, &[("STAMPCARD_LOG_FORMAT", "json")]);
    crate::helpers::wait_ready(&server.base, std::time::Duration::from_secs(10)).await.expect("ready");
    let res = reqwest::get(format!("{}/api/v1/users/me", server.base)).await.unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::UNAUTHORIZED);
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(server.child.id() as i32, libc::SIGTERM) };
    let mut log = String::new();
    server.child.stderr.take().unwrap().read_to_string(&mut log).unwrap();
    let lines: Vec<serde_json::Value> =
        log.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}"))).collect();
    let request = lines
        .iter()
        .find(|l| l["route"] == "/api/v1/users/me" && l["status"] == 401)
        .unwrap_or_else(|| panic!("no line for the request in {log}"));
    assert_eq!(request["message"], "request");
    assert_eq!(request["level"], "INFO");
    assert!(request["timestamp"].is_string() && request["duration_ms"].is_number(), "{request}");
    assert_eq!(request["span"]["method"], "GET");
    assert!(request["span"]["id"].as_str().is_some_and(|id| !id.is_empty()), "{request}");
}
