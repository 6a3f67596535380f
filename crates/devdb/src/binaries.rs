//! A PostgreSQL cluster run from the machine's own server binaries: the development database
//! of `serve` (`dev.rs`) and the throwaway cluster of the test harness both use it.
//!
//! PostgreSQL refuses to run as root, so when we are root every server command runs as the
//! `postgres` user, and the data directory is handed to that user.

use std::ffi::CString;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::{bail, Context};

/// The directory holding `initdb`, `pg_ctl` and `postgres`.
#[derive(Debug, Clone)]
pub struct PgBinaries {
    dir: PathBuf,
    /// `(uid, gid)` of the `postgres` user when we must drop root for the server.
    run_as: Option<(u32, u32)>,
}

impl PgBinaries {
    /// Finds the server binaries via `pg_config --bindir`, else the newest
    /// `/usr/lib/postgresql/*/bin`.
    pub fn locate() -> anyhow::Result<Self> {
        let from_pg_config = Command::new("pg_config")
            .arg("--bindir")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
        let mut versioned: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
            .collect();
        versioned.sort();
        let dir = from_pg_config
            .into_iter()
            .chain(versioned.into_iter().rev().map(|(_, p)| p))
            .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
            .context(
                "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found: install them \
                 (Debian/Ubuntu: `apt-get install postgresql`), or set DATABASE_URL to an existing database",
            )?;
        // SAFETY: geteuid has no preconditions and cannot fail.
        let run_as = if unsafe { libc::geteuid() } == 0 { Some(postgres_user()?) } else { None };
        Ok(Self { dir, run_as })
    }

    /// A command for one of the binaries, already lowered to the `postgres` user when needed.
    pub fn command(&self, name: &str) -> Command {
        let mut cmd = Command::new(self.dir.join(name));
        if let Some((uid, gid)) = self.run_as {
            cmd.uid(uid).gid(gid);
        }
        cmd
    }

    /// Whether the server's user can reach `dir`: every directory above it must let that user
    /// through (a checkout under `/root` does not let `postgres` in).
    pub fn can_reach(&self, dir: &Path) -> bool {
        use std::os::unix::fs::MetadataExt;
        let Some((uid, gid)) = self.run_as else { return true };
        dir.ancestors().skip(1).all(|ancestor| {
            let Ok(meta) = std::fs::metadata(ancestor) else { return true };
            let mode = meta.mode();
            if meta.uid() == uid {
                mode & 0o100 != 0
            } else if meta.gid() == gid {
                mode & 0o010 != 0
            } else {
                mode & 0o001 != 0
            }
        })
    }

    /// Creates `dir` (mode 0700) owned by whoever will run the server.
    pub fn prepare_dir(&self, dir: &Path) -> anyhow::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        if let Some((uid, gid)) = self.run_as {
            std::os::unix::fs::chown(dir, Some(uid), Some(gid))?;
        }
        Ok(())
    }

    /// `initdb` with UTF-8, the `postgres` superuser and the given authentication. `password`
    /// (for password authentication over TCP) is passed through a file, never the command line.
    pub fn initdb(&self, data: &Path, password: Option<&str>) -> anyhow::Result<()> {
        self.prepare_dir(data)?;
        let mut cmd = self.command("initdb");
        cmd.arg("-D").arg(data).args(["-U", "postgres", "-E", "UTF8", "--no-locale", "--no-sync"]);
        let pwfile = data.with_extension("pw");
        match password {
            Some(pw) => {
                std::fs::write(&pwfile, pw)?;
                if let Some((uid, gid)) = self.run_as {
                    std::os::unix::fs::chown(&pwfile, Some(uid), Some(gid))?;
                }
                cmd.args(["--auth-host=scram-sha-256", "--auth-local=peer"])
                    .arg(format!("--pwfile={}", pwfile.display()));
            }
            None => {
                cmd.arg("--auth=trust");
            }
        }
        let out = cmd.output();
        let _ = std::fs::remove_file(&pwfile);
        checked("initdb", out)
    }

    /// `pg_ctl start` on `127.0.0.1:port` (no Unix socket, so no path-length or directory
    /// permission surprises), logging to `log`.
    pub fn start(&self, data: &Path, port: u16, log: &Path) -> anyhow::Result<()> {
        let options = format!("-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''");
        let out = self
            .command("pg_ctl")
            .arg("-D")
            .arg(data)
            .arg("-l")
            .arg(log)
            .args(["-w", "-t", "60", "-o"])
            .arg(options)
            .arg("start")
            .output();
        checked("pg_ctl start", out)
    }

    /// `pg_ctl stop -m fast`: open sessions are disconnected, committed data is kept.
    pub fn stop(&self, data: &Path) -> anyhow::Result<()> {
        let out = self.command("pg_ctl").arg("-D").arg(data).args(["-m", "fast", "-w", "stop"]).output();
        checked("pg_ctl stop", out)
    }

    /// Runs `postgres` in the foreground for a throwaway cluster. The kernel sends it SIGINT
    /// (fast shutdown) when the *thread* that called this exits, so call it from a thread that
    /// lives as long as the process: then the cluster can never outlive its test run.
    pub fn spawn_tied_to_thread(
        &self,
        data: &Path,
        port: u16,
        settings: &[&str],
    ) -> anyhow::Result<std::process::Child> {
        let mut cmd = self.command("postgres");
        cmd.arg("-D").arg(data).arg("-p").arg(port.to_string());
        cmd.args(["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="]);
        for setting in settings {
            cmd.args(["-c", setting]);
        }
        cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
        // SAFETY: prctl is async-signal-safe; it runs in the child after the uid change (which
        // would otherwise clear the parent-death signal) and before exec.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGINT) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        cmd.spawn().context("starting postgres")
    }

    /// The port of a server already running on `data`, read from its `postmaster.pid`.
    pub fn running_port(&self, data: &Path) -> Option<u16> {
        let status = self.command("pg_ctl").arg("-D").arg(data).arg("status").output().ok()?;
        if !status.status.success() {
            return None;
        }
        std::fs::read_to_string(data.join("postmaster.pid")).ok()?.lines().nth(3)?.trim().parse().ok()
    }
}

/// A TCP port that was free a moment ago.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn postgres_user() -> anyhow::Result<(u32, u32)> {
    let name = CString::new("postgres").expect("no NUL");
    // SAFETY: getpwnam returns NULL or a pointer to static storage that we read at once.
    let pw = unsafe { libc::getpwnam(name.as_ptr()) };
    if pw.is_null() {
        bail!("running as root, but there is no `postgres` user to run PostgreSQL as (PostgreSQL refuses root)");
    }
    // SAFETY: checked non-null above.
    Ok(unsafe { ((*pw).pw_uid, (*pw).pw_gid) })
}

fn checked(what: &str, out: std::io::Result<Output>) -> anyhow::Result<()> {
    let out = out.with_context(|| format!("running {what}"))?;
    if !out.status.success() {
        bail!(
            "{what} failed: {}{}",
            String::from_utf8_lossy(&out.stderr).trim(),
            String::from_utf8_lossy(&out.stdout).trim()
        );
    }
    Ok(())
}
