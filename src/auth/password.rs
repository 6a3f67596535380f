//! bcrypt hashing and verification, on threads of their own: one verify at cost 12 takes
//! about a quarter of a second of CPU, which must never stall an async worker.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::str::FromStr;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::oneshot;

use crate::error::ApiError;
use crate::models::user::User;

/// Hashes with the non-truncating bcrypt API: a password over 72 bytes is an error, never
/// silently shortened (the rules refuse it before we get here).
pub async fn hash(password: String, cost: u32) -> Result<String, ApiError> {
    on_bcrypt_thread(move || bcrypt::non_truncating_hash(password, cost))
        .await?
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("bcrypt hash: {e}")))
}

/// Verifies `password` against `stored`, or against a dummy hash of the same cost when there
/// is no account, so that "no such user" and "wrong password" take the same time.
pub async fn verify(password: String, stored: Option<String>, cost: u32) -> Result<bool, ApiError> {
    on_bcrypt_thread(move || {
        let (hash, real) = match stored {
            Some(hash) => (hash, true),
            None => (dummy_hash(cost), false),
        };
        // Verify first, whatever `real` says: skipping the work would reveal the answer.
        let matches = bcrypt::non_truncating_verify(password, &hash).unwrap_or(false);
        real && matches
    })
    .await
}

/// Re-authentication of a logged-in user (account deletion, password change): 403
/// `invalid_password` unless `given` is their password.
pub async fn confirm(given: Option<String>, user: &User, cost: u32) -> Result<(), ApiError> {
    if verify(given.unwrap_or_default(), Some(user.password_hash.clone()), cost).await? {
        Ok(())
    } else {
        Err(ApiError::InvalidPassword)
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// Runs `job` on one of the bcrypt threads, waiting for a free one as a future.
///
/// There is one thread per core: more would not finish logins sooner, only crowd out the
/// threads serving other requests. They also run at a lower priority (nice 10) than those,
/// so that a burst of logins takes the CPU nobody else needs and a request that needs no
/// bcrypt is not kept waiting behind one (the S3 probe in docs/performance.md).
async fn on_bcrypt_thread<T: Send + 'static>(job: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
    static JOBS: OnceLock<Sender<Job>> = OnceLock::new();
    let (reply, answer) = oneshot::channel();
    let job: Job = Box::new(move || drop(reply.send(job())));
    let sent = JOBS.get_or_init(start_bcrypt_threads).send(job);
    sent.map_err(|_| ApiError::Internal(anyhow::anyhow!("the bcrypt threads are gone")))?;
    // A job that panicked dropped its reply.
    answer.await.map_err(|_| ApiError::Internal(anyhow::anyhow!("bcrypt job failed")))
}

fn start_bcrypt_threads() -> Sender<Job> {
    let (sender, receiver) = mpsc::channel::<Job>();
    let receiver = Arc::new(Mutex::new(receiver));
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    for i in 0..cores {
        let receiver = Arc::clone(&receiver);
        std::thread::Builder::new()
            .name(format!("bcrypt-{i}"))
            .spawn(move || run_bcrypt_thread(&receiver))
            .expect("spawn a bcrypt thread");
    }
    sender
}

fn run_bcrypt_thread(jobs: &Mutex<Receiver<Job>>) {
    lower_priority();
    loop {
        // One idle thread waits in `recv`, the others for the lock: either way, for work.
        let job = jobs.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).recv();
        let Ok(job) = job else { return };
        // A panic loses that job's answer (its caller gets a 500), not the thread.
        let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
    }
}

/// Raises this thread's nice value to 10. Lowering one's own priority needs no privilege.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: plain system calls on the calling thread, with no pointers.
        let failed = unsafe { libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, 10) } != 0;
        if failed {
            tracing::warn!("could not lower the priority of a bcrypt thread");
        }
    }
}

/// Whether a stored hash should be recomputed at the configured cost (as Django does when
/// its work factor changes).
pub fn needs_rehash(stored: &str, cost: u32) -> bool {
    bcrypt::HashParts::from_str(stored).map_or(true, |parts| parts.get_cost() != cost)
}

/// A hash of a random password at `cost`, computed once per cost.
fn dummy_hash(cost: u32) -> String {
    static HASHES: OnceLock<Mutex<HashMap<u32, String>>> = OnceLock::new();
    let hashes = HASHES.get_or_init(Default::default);
    if let Some(hash) = hashes.lock().expect("not poisoned").get(&cost) {
        return hash.clone();
    }
    let hash = bcrypt::hash(uuid::Uuid::new_v4().to_string(), cost).expect("bcrypt accepts 4..=31");
    hashes.lock().expect("not poisoned").entry(cost).or_insert(hash).clone()
}
