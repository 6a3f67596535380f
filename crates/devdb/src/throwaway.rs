//! The throwaway cluster of a test run: fast (no durability), in a temporary directory, and
//! gone when the test process is.

use std::path::PathBuf;

use crate::binaries::{free_port, PgBinaries};

/// Starts `postgres` with `settings` (each `name=value`, after the throwaway defaults) from a
/// thread that lives as long as the process, and returns `postgres://postgres@127.0.0.1:port`
/// (trust authentication). The cluster gets SIGINT when the process ends (see
/// [`PgBinaries::spawn_tied_to_thread`]); clusters of earlier runs that have shut down are
/// removed first.
pub fn throwaway_cluster(settings: &[&str]) -> anyhow::Result<String> {
    let settings: Vec<String> = settings.iter().map(|s| (*s).to_owned()).collect();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let started = (|| -> anyhow::Result<(u16, std::process::Child)> {
            let bins = PgBinaries::locate()?;
            let root = std::env::temp_dir().join(format!("stampcard-test-{}", std::process::id()));
            remove_stale_clusters();
            std::fs::create_dir_all(&root)?;
            let data = root.join("pg");
            bins.initdb(&data, None)?;
            let port = free_port()?;
            // Durability buys nothing in a throwaway cluster; speed does.
            let mut all = vec!["fsync=off", "synchronous_commit=off", "full_page_writes=off"];
            all.extend(settings.iter().map(String::as_str));
            let child = bins.spawn_tied_to_thread(&data, port, &all)?;
            Ok((port, child))
        })();
        match started {
            Ok((port, _child)) => {
                let _ = tx.send(Ok(port));
                loop {
                    std::thread::park();
                }
            }
            Err(err) => {
                let _ = tx.send(Err(err));
            }
        }
    });
    let port = rx.recv().map_err(|_| anyhow::anyhow!("the cluster thread died"))??;
    Ok(format!("postgres://postgres@127.0.0.1:{port}"))
}

/// Removes clusters of earlier runs that have shut down (no `postmaster.pid` left).
fn remove_stale_clusters() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else { return };
    for entry in entries.flatten() {
        let path: PathBuf = entry.path();
        let name = entry.file_name();
        if name.to_string_lossy().starts_with("stampcard-test-") && !path.join("pg/postmaster.pid").exists() {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}
