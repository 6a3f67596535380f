//! The `stampcard` binary, run as a child process with a clean environment.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The built `stampcard` binary, in a directory with no `.env`, with none of the settings the
/// tests care about inherited from the environment.
pub fn stampcard() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stampcard"));
    cmd.current_dir(std::env::temp_dir()).env_remove("DATABASE_URL");
    for var in
        ["STAMPCARD_SECRET_KEY", "STAMPCARD_BCRYPT_COST", "STAMPCARD_DEV", "STAMPCARD_ADDR", "STAMPCARD_PASSWORD"]
    {
        cmd.env_remove(var);
    }
    cmd
}

/// A `stampcard serve` child process, killed when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// `stampcard serve` on a migrated database and a free port.
pub async fn serve(database_url: &str, extra: &[(&str, &str)]) -> Server {
    spawn_server(database_url, extra, false)
}

/// [`serve`], with its standard error kept in a pipe (`server.child.stderr`) to read the log.
pub fn serve_logging(database_url: &str, extra: &[(&str, &str)]) -> Server {
    spawn_server(database_url, extra, true)
}

fn spawn_server(database_url: &str, extra: &[(&str, &str)], capture_stderr: bool) -> Server {
    let port = devdb::free_port().unwrap();
    let child = stampcard()
        .arg("serve")
        .env("DATABASE_URL", database_url)
        .env("STAMPCARD_DEV", "1")
        .env("STAMPCARD_ADDR", format!("127.0.0.1:{port}"))
        .env("STAMPCARD_WORKERS", "1")
        .envs(extra.iter().copied())
        .stdout(Stdio::null())
        .stderr(if capture_stderr { Stdio::piped() } else { Stdio::null() })
        .spawn()
        .unwrap();
    Server { child, base: format!("http://127.0.0.1:{port}") }
}

/// How long `/readyz` took to answer 200, if it did within `within`.
pub async fn wait_ready(base: &str, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < within {
        if reqwest::get(format!("{base}/readyz")).await.is_ok_and(|r| r.status().is_success()) {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    None
}
