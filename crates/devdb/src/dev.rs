//! The local development database: with `DATABASE_URL` unset, `serve` (and the other
//! subcommands) run a PostgreSQL cluster of their own under `./.data/`, reused across runs.

use std::path::{Path, PathBuf};

use anyhow::Context;
use diesel::{Connection, PgConnection, RunQueryDsl};
use rand::distributions::{Alphanumeric, DistString};

use crate::binaries::{free_port, PgBinaries};

const DATABASE: &str = "stampcard";

/// A running development cluster; [`DevDatabase::stop`] shuts it down if we started it.
pub struct DevDatabase {
    bins: PgBinaries,
    data: PathBuf,
    url: String,
    started_here: bool,
}

impl DevDatabase {
    /// Initialises `./.data/` on first use, starts the server (or finds it running) and makes
    /// sure the application database exists.
    pub fn start() -> anyhow::Result<Self> {
        let root = std::env::current_dir()?.join(".data");
        let bins = PgBinaries::locate()?;
        std::fs::create_dir_all(&root)?;
        let data = cluster_dir(&bins, &root)?;
        let password_file = root.join("password");
        if !data.join("PG_VERSION").exists() {
            eprintln!("stampcard: creating a development PostgreSQL cluster in {}", data.display());
            let password = Alphanumeric.sample_string(&mut rand::thread_rng(), 32);
            write_private(&password_file, &password)?;
            bins.initdb(&data, Some(&password)).context(
                "could not create the development cluster (when running as root, the `postgres` user must be able to \
                 reach this directory; otherwise set DATABASE_URL)",
            )?;
        }
        let password =
            std::fs::read_to_string(&password_file).with_context(|| format!("reading {}", password_file.display()))?;
        let (port, started_here) = match bins.running_port(&data) {
            Some(port) => (port, false),
            None => {
                let port = free_port()?;
                bins.start(&data, port, &data.join("server.log"))?;
                (port, true)
            }
        };
        let server = format!("postgres://postgres:{}@127.0.0.1:{port}", password.trim());
        ensure_database(&server)?;
        eprintln!("stampcard: using the development database postgres://postgres:***@127.0.0.1:{port}/{DATABASE} (dev mode on)");
        Ok(Self { bins, data, url: format!("{server}/{DATABASE}"), started_here })
    }

    /// The URL of the application database (it contains the generated password).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Stops the cluster, unless another process had started it.
    pub fn stop(self) -> anyhow::Result<()> {
        if self.started_here {
            self.bins.stop(&self.data)?;
        }
        Ok(())
    }
}

/// `./.data/pg`, or, when the `postgres` user cannot reach this directory (a checkout under
/// `/root`, say), a directory under `/var/lib/stampcard` that `./.data/pg` links to.
fn cluster_dir(bins: &PgBinaries, root: &Path) -> anyhow::Result<PathBuf> {
    let local = root.join("pg");
    if let Ok(target) = std::fs::read_link(&local) {
        return Ok(target);
    }
    if local.exists() || bins.can_reach(&local) {
        return Ok(local);
    }
    use sha2::Digest;
    let digest = hex::encode(&sha2::Sha256::digest(root.as_os_str().as_encoded_bytes())[..8]);
    let outside = Path::new("/var/lib/stampcard").join(digest);
    std::fs::create_dir_all(&outside)?;
    let data = outside.join("pg");
    std::os::unix::fs::symlink(&data, &local).with_context(|| format!("linking {}", local.display()))?;
    eprintln!(
        "stampcard: the postgres user cannot reach {}; the cluster lives in {} (linked from there)",
        root.display(),
        data.display()
    );
    Ok(data)
}

fn ensure_database(server: &str) -> anyhow::Result<()> {
    let mut conn = PgConnection::establish(&format!("{server}/postgres"))?;
    let exists: i64 = diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!(
        "SELECT count(*) FROM pg_database WHERE datname = '{DATABASE}'"
    ))
    .get_result(&mut conn)?;
    if exists == 0 {
        diesel::sql_query(format!("CREATE DATABASE {DATABASE}")).execute(&mut conn)?;
    }
    Ok(())
}

fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    file.write_all(contents.as_bytes())?;
    Ok(())
}
