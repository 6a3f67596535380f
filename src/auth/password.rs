//! bcrypt hashing and verification on threads of their own, behind a bounded queue.
//!
//! One verify at cost 12 takes about a quarter of a second of CPU. It must never stall an
//! async worker, and the work a burst of logins can queue must be bounded: a job is admitted
//! only while the work ahead of it can be done within [`MAX_QUEUE_WAIT`]; beyond that the
//! request is answered 503 at once. A job whose client has gone away by its turn is skipped,
//! so hanging up after sending a login costs no bcrypt time.

use std::panic::AssertUnwindSafe;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::codes::FieldCode;
use crate::error::ApiError;

/// bcrypt reads at most 72 bytes of a password; the rules refuse longer ones.
pub const MAX_PASSWORD_BYTES: usize = 72;

/// How long the queued password work may take before new jobs are refused (503): a few
/// seconds, which a client waiting for a login still accepts.
pub const MAX_QUEUE_WAIT: Duration = Duration::from_secs(3);

/// The outcome of a password check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Wrong,
    /// The password matched; `new_hash` is the hash asked for on success, if any.
    Right {
        new_hash: Option<String>,
    },
}

/// The bcrypt threads of one server, with their queue and counters. Cheap to clone.
#[derive(Clone)]
pub struct Passwords {
    inner: Arc<Inner>,
}

struct Inner {
    jobs: Sender<Job>,
    threads: usize,
    cost: u32,
    max_wait: Duration,
    /// Jobs admitted and not yet finished: queued or running.
    pending: AtomicUsize,
    running: AtomicUsize,
    /// A moving average of one job's duration, in microseconds: what admission is based on.
    job_micros: AtomicU64,
    /// Passwords compared with a hash so far (the tests count them; so do the metrics).
    verifications: AtomicU64,
    /// Jobs refused because the queue was full.
    refused: AtomicU64,
    /// A hash of a random password at `cost`, for unknown users (see [`verify`]).
    dummy: OnceLock<String>,
}

type Job = Box<dyn FnOnce() + Send>;

impl Passwords {
    /// Starts `threads` bcrypt threads at `cost`. They end when the last clone is dropped.
    ///
    /// One thread per core is right: more would not finish logins sooner, only crowd out the
    /// threads serving other requests. They also run at a lower priority (nice 10), so that a
    /// burst of logins takes the CPU nobody else needs and a request that needs no bcrypt is
    /// not kept waiting behind one (the S3 probe in docs/performance.md).
    pub fn start(cost: u32, threads: usize) -> Self {
        Self::start_with_max_wait(cost, threads, MAX_QUEUE_WAIT)
    }

    /// [`Passwords::start`] with another bound on the queue (tests use a short one).
    pub fn start_with_max_wait(cost: u32, threads: usize, max_wait: Duration) -> Self {
        let threads = threads.max(1);
        let (jobs, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for i in 0..threads {
            let receiver = Arc::clone(&receiver);
            std::thread::Builder::new()
                .name(format!("bcrypt-{i}"))
                .spawn(move || run_bcrypt_thread(&receiver))
                .expect("spawn a bcrypt thread");
        }
        let inner = Arc::new(Inner {
            jobs,
            threads,
            cost,
            max_wait,
            pending: AtomicUsize::new(0),
            running: AtomicUsize::new(0),
            job_micros: AtomicU64::new(estimated_micros(cost)),
            verifications: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            dummy: OnceLock::new(),
        });
        // The dummy hash is needed at the first unknown-user login; computing it now also
        // measures what a job costs on this machine.
        let warm = Arc::clone(&inner);
        let _ = inner.jobs.send(Box::new(move || {
            let started = Instant::now();
            warm.dummy.get_or_init(|| hash_now(&uuid::Uuid::new_v4().to_string(), warm.cost).expect("valid cost"));
            warm.job_micros.store(micros(started.elapsed()), Ordering::Relaxed);
        }));
        Self { inner }
    }

    /// The configured bcrypt cost.
    pub fn cost(&self) -> u32 {
        self.inner.cost
    }

    /// How many passwords have been compared with a hash.
    pub fn verifications(&self) -> u64 {
        self.inner.verifications.load(Ordering::Relaxed)
    }

    /// How many jobs were refused because the queue was full.
    pub fn refused(&self) -> u64 {
        self.inner.refused.load(Ordering::Relaxed)
    }

    /// Jobs admitted and not finished (queued or running), and of those, running.
    pub fn load(&self) -> (usize, usize) {
        (self.inner.pending.load(Ordering::Relaxed), self.inner.running.load(Ordering::Relaxed))
    }

    /// Room for one job in the queue, or 503 with the seconds the queue needs to drain.
    pub fn reserve(&self) -> Result<Ticket, ApiError> {
        let inner = &self.inner;
        let job = inner.job_micros.load(Ordering::Relaxed).max(1);
        let threads = inner.threads as u64;
        // At least one job per thread, whatever the estimate says.
        let limit = (threads * micros(inner.max_wait) / job).max(threads) as usize;
        match inner.pending.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < limit).then_some(n + 1)) {
            Ok(_) => Ok(Ticket { inner: Arc::clone(inner) }),
            Err(pending) => {
                inner.refused.fetch_add(1, Ordering::Relaxed);
                let wait = (pending as u64 * job).div_ceil(threads).div_ceil(1_000_000);
                Err(ApiError::Overloaded { retry_after: wait.clamp(1, 60) })
            }
        }
    }

    /// Hashes a new password.
    pub async fn hash(&self, ticket: Ticket, password: String) -> Result<String, ApiError> {
        let cost = self.inner.cost;
        self.run(ticket, move |_| hash_now(&password, cost)).await?
    }

    /// Compares `given` with `stored`, or with a dummy hash of the same cost when there is no
    /// account, so that "no such user" and "wrong password" take the same time. On a match,
    /// also hashes `hash_on_success` (a rehash at a new cost, or a new password), in the
    /// same turn.
    pub async fn verify(
        &self,
        ticket: Ticket,
        given: String,
        stored: Option<String>,
        hash_on_success: Option<String>,
    ) -> Result<Verdict, ApiError> {
        let cost = self.inner.cost;
        self.run(ticket, move |inner| {
            let dummy = || inner.dummy.get_or_init(|| hash_now(&uuid::Uuid::new_v4().to_string(), cost).expect("cost"));
            let (hash, real) = match &stored {
                Some(hash) => (hash.as_str(), true),
                None => (dummy().as_str(), false),
            };
            inner.verifications.fetch_add(1, Ordering::Relaxed);
            // Verify first, whatever `real` says: skipping the work would reveal the answer.
            // bcrypt would read only the first 72 bytes of a longer password, so such a
            // password never matches, but it costs the same.
            let matches = bcrypt::verify(&given, hash).unwrap_or(false);
            if !(real && matches && given.len() <= MAX_PASSWORD_BYTES) {
                return Ok(Verdict::Wrong);
            }
            let new_hash = hash_on_success.map(|password| hash_now(&password, cost)).transpose()?;
            Ok(Verdict::Right { new_hash })
        })
        .await?
    }

    /// Runs `job` on a bcrypt thread when its turn comes, unless the caller has gone by then.
    async fn run<T: Send + 'static>(
        &self,
        ticket: Ticket,
        job: impl FnOnce(&Inner) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let (reply, answer) = oneshot::channel();
        let inner = Arc::clone(&self.inner);
        let job: Job = Box::new(move || {
            let _done = ticket;
            // The request was dropped (its client hung up): nobody wants the answer.
            if reply.is_closed() {
                return;
            }
            inner.running.fetch_add(1, Ordering::Relaxed);
            let started = Instant::now();
            let _running = Running(&inner);
            let result = job(&inner);
            // An exponential moving average over about eight jobs.
            let sample = micros(started.elapsed());
            let old = inner.job_micros.load(Ordering::Relaxed);
            inner.job_micros.store(old - old / 8 + sample / 8, Ordering::Relaxed);
            let _ = reply.send(result);
        });
        self.inner.jobs.send(job).map_err(|_| ApiError::Internal(anyhow::anyhow!("the bcrypt threads are gone")))?;
        // A job that panicked dropped its reply.
        answer.await.map_err(|_| ApiError::Internal(anyhow::anyhow!("bcrypt job failed")))
    }
}

/// A place in the password queue, given back when the job ends (or is never sent).
pub struct Ticket {
    inner: Arc<Inner>,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.inner.pending.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Counts a running job down again, even when it panics.
struct Running<'a>(&'a Inner);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::Relaxed);
    }
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

/// A first guess of a job's duration before one has been measured: about 60 µs per round
/// of bcrypt's key schedule on a current core (250 ms at cost 12).
fn estimated_micros(cost: u32) -> u64 {
    60u64.saturating_mul(1 << cost.min(31))
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

/// Hashes on the calling thread (the command line has no async worker to spare).
///
/// bcrypt keys its cipher with the password and a terminating NUL, of which it reads 72
/// bytes: a password of exactly 72 bytes loses only the NUL, no byte of its own. The crate's
/// "non-truncating" functions count the NUL and refuse exactly 72 bytes, which the contract
/// allows, so the length is checked here instead and the plain functions do the work.
pub fn hash_now(password: &str, cost: u32) -> Result<String, ApiError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(ApiError::field("password", FieldCode::TooLong));
    }
    bcrypt::hash(password, cost).map_err(|e| ApiError::Internal(anyhow::anyhow!("bcrypt hash: {e}")))
}

/// Whether a stored hash should be recomputed at the configured cost (as Django does when
/// its work factor changes).
pub fn needs_rehash(stored: &str, cost: u32) -> bool {
    bcrypt::HashParts::from_str(stored).map_or(true, |parts| parts.get_cost() != cost)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn exactly_72_bytes_hash_and_verify_and_73_never_match() {
        let passwords = Passwords::start(4, 1);
        let exact = "가".repeat(24);
        assert_eq!(exact.len(), 72);
        let hash = passwords.hash(passwords.reserve().unwrap(), exact.clone()).await.unwrap();
        let check = |given: String| passwords.verify(passwords.reserve().unwrap(), given, Some(hash.clone()), None);
        assert_eq!(check(exact.clone()).await.unwrap(), Verdict::Right { new_hash: None });
        // The same 72 bytes and one more: bcrypt alone would say yes.
        assert_eq!(check(format!("{exact}!")).await.unwrap(), Verdict::Wrong);
        assert_eq!(check("가".repeat(23)).await.unwrap(), Verdict::Wrong);
        assert_eq!(passwords.verifications(), 3);
    }

    #[tokio::test]
    async fn bcrypt_threads_run_at_nice_10() {
        let passwords = Passwords::start(4, 1);
        let ticket = passwords.reserve().unwrap();
        // SAFETY: reads the calling thread's own priority.
        let nice =
            passwords.run(ticket, |_| unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) });
        assert_eq!(nice.await.unwrap(), 10);
    }

    #[test]
    fn a_full_queue_is_refused_with_a_retry_time() {
        // No time to spare: only one place, for the one thread.
        let passwords = Passwords::start_with_max_wait(4, 1, Duration::ZERO);
        let held = passwords.reserve().expect("one place per thread");
        let err = passwords.reserve().err().expect("full");
        assert!(matches!(err, ApiError::Overloaded { retry_after: 1 }), "{err:?}");
        drop(held);
        assert!(passwords.reserve().is_ok(), "a returned place is free again");
    }
}
