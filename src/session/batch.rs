//! Looks sessions up in batches: the requests that arrive while one lookup is running wait
//! for the next one, which finds all their sessions in a single query.
//!
//! Authenticating is the query nearly every request makes. Run one by one, each lookup costs a
//! hand-off to the blocking pool and back, a pool checkout and a round trip whose fixed cost
//! in PostgreSQL is several times that of the index lookup itself (docs/performance.md). In a
//! batch, concurrent requests share all of that. Nothing waits for a batch to fill: a lookup
//! starts as soon as the previous one ends, so a lone request goes straight through.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use tokio::sync::oneshot;

use crate::codes::EndReason;
use crate::db::Db;
use crate::error::ApiError;
use crate::models::session::Session;
use crate::models::user::User;

/// What a key hash names.
#[derive(Debug, Clone)]
pub enum Row {
    /// A live session and its active user.
    Live(Box<(Session, User)>),
    /// A session an admin's deactivation ended.
    Ended(EndReason),
    /// Nothing (any more).
    Unknown,
}

/// Bounds one query's array parameter; the rest wait for the next round.
const MAX_BATCH: usize = 256;

/// One batching queue. Clones share it; the server makes one per worker, so that each worker
/// has at most one lookup in flight.
#[derive(Clone)]
pub struct SessionLoader {
    db: Db,
    queue: Arc<Mutex<Queue>>,
}

type Reply = oneshot::Sender<Result<Row, ApiError>>;

struct Waiting {
    key_hash: Vec<u8>,
    reply: Reply,
    /// When the request began to wait: the wait for a connection counts from here.
    asked: Instant,
}

#[derive(Default)]
struct Queue {
    waiting: Vec<Waiting>,
    /// A blocking thread is draining `waiting`; it clears this when it finds it empty.
    draining: bool,
}

fn lock(queue: &Mutex<Queue>) -> MutexGuard<'_, Queue> {
    // Nothing panics while holding the lock, and the queue stays consistent if it did.
    queue.lock().unwrap_or_else(PoisonError::into_inner)
}

impl SessionLoader {
    pub fn new(db: Db) -> Self {
        Self { db, queue: Arc::default() }
    }

    /// The live session of `key_hash` and its user.
    pub async fn load(&self, key_hash: Vec<u8>) -> Result<Row, ApiError> {
        let (reply, answer) = oneshot::channel();
        let start = {
            let mut queue = lock(&self.queue);
            queue.waiting.push(Waiting { key_hash, reply, asked: Instant::now() });
            !std::mem::replace(&mut queue.draining, true)
        };
        if start {
            let (db, queue) = (self.db.clone(), Arc::clone(&self.queue));
            // Detached: it ends by itself once the queue is empty.
            drop(actix_web::rt::task::spawn_blocking(move || drain(&db, &queue)));
        }
        answer.await.map_err(|_| ApiError::Internal(anyhow::anyhow!("the session lookup was abandoned")))?
    }
}

/// Answers batches until nobody is waiting. Runs on a blocking thread.
fn drain(db: &Db, queue: &Mutex<Queue>) {
    let _reset = ResetOnPanic(queue);
    loop {
        let batch: Vec<Waiting> = {
            let mut queue = lock(queue);
            if queue.waiting.is_empty() {
                queue.draining = false;
                return;
            }
            let n = queue.waiting.len().min(MAX_BATCH);
            queue.waiting.drain(..n).collect()
        };
        // The queue is first in, first out: the batch's first request has waited longest.
        let asked = batch[0].asked;
        let (keys, replies): (Vec<Vec<u8>>, Vec<Reply>) = batch.into_iter().map(|w| (w.key_hash, w.reply)).unzip();
        if let Some(metrics) = db.metrics() {
            metrics.session_lookups.inc();
            metrics.session_batch_size.observe(keys.len() as f64);
        }
        match db.run_here(asked, |conn| look_up(conn, &keys)) {
            Ok(by_key) => {
                for (key, reply) in keys.iter().zip(replies) {
                    // One key may be in a batch many times (a client's parallel requests). A
                    // receiver that went away (the client hung up) needs no answer.
                    let _ = reply.send(Ok(by_key.get(key.as_slice()).cloned().unwrap_or(Row::Unknown)));
                }
            }
            Err(err) => {
                let why = err.to_string();
                for reply in replies {
                    let _ = reply.send(Err(ApiError::Unavailable(why.clone())));
                }
            }
        }
    }
}

/// What each key names: one query for the live sessions, and only when some key named none
/// (a logged-out cookie, a revoked session), a second for why those ended.
fn look_up(conn: &mut diesel::PgConnection, keys: &[Vec<u8>]) -> Result<HashMap<Vec<u8>, Row>, ApiError> {
    let mut by_key: HashMap<Vec<u8>, Row> = Session::find_live_with_users(conn, keys)?
        .into_iter()
        .map(|(session, user)| (session.key_hash.clone(), Row::Live(Box::new((session, user)))))
        .collect();
    let missing: Vec<Vec<u8>> = keys.iter().filter(|k| !by_key.contains_key(k.as_slice())).cloned().collect();
    if !missing.is_empty() {
        by_key.extend(Session::ended_reasons(conn, &missing)?.into_iter().map(|(key, why)| (key, Row::Ended(why))));
    }
    Ok(by_key)
}

/// If a lookup panics, its waiters get an error (their senders are dropped) and the next
/// request starts a fresh drain instead of queueing behind one that will never run.
struct ResetOnPanic<'a>(&'a Mutex<Queue>);

impl Drop for ResetOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let mut queue = lock(self.0);
            queue.waiting.clear();
            queue.draining = false;
        }
    }
}
