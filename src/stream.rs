//! The live card: `GET /api/v1/stamps/stream` as Server-Sent Events, on every instance.
//!
//! Each instance has one [`Hub`]: a thread with a PostgreSQL connection of its own that
//! `LISTEN`s on `card_changed`, and the streams of this instance's clients. A change of a card
//! (a stamp, a redemption, a void) is announced by the request that made it, *after* its
//! transaction committed ([`Hub::announce`]): the hub thread sends one `NOTIFY` for all the
//! announcements it has gathered since its last one. Every instance's hub hears it, loads the
//! changed cards its clients watch in one query, and sends each its `card` event.
//!
//! Why after the commit, batched, and not a `NOTIFY` inside each stamp's transaction: PostgreSQL
//! serialises the commits of all transactions that notified (one lock for the whole cluster at
//! commit), which capped stamping in our measurements (docs/performance.md); and a change
//! announced from inside its transaction could be loaded by a listener before it committed. The
//! price: a crash between a commit and its announcement leaves a stream a change behind, until
//! the next change or the app's fallback poll.
//!
//! A stream closes within 30 s of its session ending (a check of every open stream's session, in
//! one query, every 10 s), when a sixth stream of its session opens (the oldest goes), and when
//! the instance stops. A comment line every 10 s keeps proxies from closing an idle one.

use std::collections::{HashMap, HashSet, VecDeque};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use actix_web::web::Bytes;
use diesel::{Connection, PgConnection, RunQueryDsl};
use futures_util::Stream;
use uuid::Uuid;

use crate::metrics::Metrics;
use crate::models::card::Card;
use crate::models::session::Session;

/// The `NOTIFY` channel.
const CHANNEL: &str = "card_changed";
/// How long the hub thread waits for announcements before it reads notifications again.
const TICK: Duration = Duration::from_millis(25);
/// Every how long each stream gets a comment line: proxies close idle connections, and
/// deploy/haproxy.cfg's `timeout server` is 15 s.
const HEARTBEAT: Duration = Duration::from_secs(10);
/// Every how long the sessions of the open streams are checked.
const SESSION_CHECK: Duration = Duration::from_secs(10);
/// Streams one session may hold open; a new one closes the oldest.
pub const STREAMS_PER_SESSION: usize = 5;
/// Events a stream may have waiting for a slow client; past it, one is dropped (the next card
/// event carries the whole card anyway).
const BUFFER: usize = 16;
/// A `NOTIFY` payload holds at most 8000 bytes: this many ids of 36 characters and a comma.
const IDS_PER_NOTIFY: usize = 200;

/// This instance's streams and its listening connection. Cheap to clone.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

struct Inner {
    announcements: Mutex<mpsc::Sender<Uuid>>,
    streams: Mutex<Streams>,
    stop: AtomicBool,
    metrics: Metrics,
}

#[derive(Default)]
struct Streams {
    next_id: u64,
    open: HashMap<u64, Open>,
    by_session: HashMap<Uuid, VecDeque<u64>>,
    /// Once the instance stops, no stream opens.
    closed: bool,
}

struct Open {
    user_id: Uuid,
    session_id: Uuid,
    events: tokio::sync::mpsc::Sender<Bytes>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Hub {
    /// Starts the hub thread on the database at `url`; cards are shown with `stamps_per_reward`.
    pub fn start(url: String, stamps_per_reward: i32, metrics: Metrics) -> Self {
        let (announcements, announced) = mpsc::channel();
        let inner = Arc::new(Inner {
            announcements: Mutex::new(announcements),
            streams: Mutex::default(),
            stop: AtomicBool::new(false),
            metrics,
        });
        let hub = Self { inner };
        let thread_hub = hub.clone();
        std::thread::Builder::new()
            .name("stream-hub".into())
            .spawn(move || thread_hub.run(&url, stamps_per_reward, &announced))
            .expect("spawn the stream hub");
        hub
    }

    /// Says that `user_id`'s card changed: call it once the change is committed.
    pub fn announce(&self, user_id: Uuid) {
        let _ = lock(&self.inner.announcements).send(user_id);
    }

    /// Opens a stream of the changes of `user_id`'s card for the session `session_id`; a
    /// sixth of one session closes its oldest.
    pub fn open(&self, user_id: Uuid, session_id: Uuid) -> Subscription {
        let (events, received) = tokio::sync::mpsc::channel(BUFFER);
        let mut streams = lock(&self.inner.streams);
        if streams.closed {
            drop(events);
            return Subscription { received, hub: Arc::clone(&self.inner), id: None };
        }
        let id = streams.next_id;
        streams.next_id += 1;
        streams.open.insert(id, Open { user_id, session_id, events });
        let of_session = streams.by_session.entry(session_id).or_default();
        of_session.push_back(id);
        if of_session.len() > STREAMS_PER_SESSION {
            let oldest = of_session.pop_front().expect("more than five");
            // Its sender goes, so its stream ends.
            streams.open.remove(&oldest);
        }
        self.inner.metrics.streams_open.set(streams.open.len() as i64);
        Subscription { received, hub: Arc::clone(&self.inner), id: Some(id) }
    }

    /// Ends every stream (the instance is stopping: a stream would hold its graceful stop up
    /// until the timeout) and the hub thread.
    pub fn close(&self) {
        {
            let mut streams = lock(&self.inner.streams);
            streams.closed = true;
            streams.open.clear();
            streams.by_session.clear();
            self.inner.metrics.streams_open.set(0);
        }
        // The thread sees it within a tick and ends, with its connection.
        self.inner.stop.store(true, Ordering::Release);
        let _ = lock(&self.inner.announcements).send(Uuid::nil());
    }

    /// The hub thread: announce, listen, fan out, keep alive, close ended sessions' streams.
    fn run(&self, url: &str, stamps_per_reward: i32, announced: &mpsc::Receiver<Uuid>) {
        let mut conn: Option<PgConnection> = None;
        let mut connected_before = false;
        let (mut last_heartbeat, mut last_check) = (Instant::now(), Instant::now());
        while !self.inner.stop.load(Ordering::Acquire) {
            let mut changed: HashSet<Uuid> = HashSet::new();
            if let Ok(first) = announced.recv_timeout(TICK) {
                changed.insert(first);
                changed.extend(announced.try_iter());
            }
            changed.remove(&Uuid::nil());
            if self.inner.stop.load(Ordering::Acquire) {
                return;
            }
            let connected = match conn.as_mut() {
                Some(c) => Ok(c),
                None => listen(url).map(|c| {
                    // Changes made while we were away were not heard: after a reconnection,
                    // everyone gets the card as it is now.
                    if std::mem::replace(&mut connected_before, true) {
                        changed.extend(self.watched());
                    }
                    conn.insert(c)
                }),
            };
            let cycle = connected.and_then(|c| {
                notify(c, &changed)?;
                let heard = heard(c)?;
                self.send_cards(c, &heard, stamps_per_reward)?;
                if last_check.elapsed() >= SESSION_CHECK {
                    last_check = Instant::now();
                    self.close_ended_sessions(c)?;
                }
                Ok(())
            });
            if let Err(err) = cycle {
                tracing::warn!(error = %err, "stream hub: database unavailable; reconnecting");
                conn = None;
                std::thread::sleep(Duration::from_secs(1));
            }
            if last_heartbeat.elapsed() >= HEARTBEAT {
                last_heartbeat = Instant::now();
                self.send_to(|_| true, &Bytes::from_static(b": keep-alive\n\n"));
            }
        }
    }

    /// The users whose card some stream of this instance shows.
    fn watched(&self) -> HashSet<Uuid> {
        lock(&self.inner.streams).open.values().map(|open| open.user_id).collect()
    }

    /// Sends the changed cards that streams here show, each to its streams.
    fn send_cards(&self, conn: &mut PgConnection, changed: &HashSet<Uuid>, per_reward: i32) -> anyhow::Result<()> {
        let watched: Vec<Uuid> = self.watched().intersection(changed).copied().collect();
        if watched.is_empty() {
            return Ok(());
        }
        for card in Card::load_many(conn, &watched).map_err(|e| anyhow::anyhow!("{e}"))? {
            let event = card_event(&card.view(per_reward));
            self.send_to(|open| open.user_id == card.user_id, &event);
        }
        Ok(())
    }

    /// Sends `event` to the streams `to` picks; a stream whose client went away is dropped.
    fn send_to(&self, to: impl Fn(&Open) -> bool, event: &Bytes) {
        let mut streams = lock(&self.inner.streams);
        let gone: Vec<u64> = streams
            .open
            .iter()
            .filter(|(_, open)| to(open))
            .filter(|(_, open)| {
                matches!(open.events.try_send(event.clone()), Err(tokio::sync::mpsc::error::TrySendError::Closed(_)))
            })
            .map(|(id, _)| *id)
            .collect();
        for id in gone {
            remove(&mut streams, id);
        }
        self.inner.metrics.streams_open.set(streams.open.len() as i64);
    }

    /// Closes the streams whose session ended (logout, revocation, expiry, deactivation).
    fn close_ended_sessions(&self, conn: &mut PgConnection) -> anyhow::Result<()> {
        let sessions: Vec<Uuid> = lock(&self.inner.streams).by_session.keys().copied().collect();
        if sessions.is_empty() {
            return Ok(());
        }
        let live: HashSet<Uuid> =
            Session::live_ids(conn, &sessions).map_err(|e| anyhow::anyhow!("{e}"))?.into_iter().collect();
        let mut streams = lock(&self.inner.streams);
        let ended: Vec<u64> =
            streams.open.iter().filter(|(_, o)| !live.contains(&o.session_id)).map(|(id, _)| *id).collect();
        for id in ended {
            remove(&mut streams, id);
        }
        self.inner.metrics.streams_open.set(streams.open.len() as i64);
        Ok(())
    }
}

fn remove(streams: &mut Streams, id: u64) {
    if let Some(open) = streams.open.remove(&id) {
        if let Some(of_session) = streams.by_session.get_mut(&open.session_id) {
            of_session.retain(|other| *other != id);
            if of_session.is_empty() {
                streams.by_session.remove(&open.session_id);
            }
        }
    }
}

/// A `card` event: the card's JSON.
pub fn card_event(card: &impl serde::Serialize) -> Bytes {
    let json = serde_json::to_string(card).expect("a card serialises");
    Bytes::from(format!("event: card\ndata: {json}\n\n"))
}

/// A connection that listens on [`CHANNEL`].
fn listen(url: &str) -> anyhow::Result<PgConnection> {
    let mut conn = PgConnection::establish(url)?;
    diesel::sql_query(format!("LISTEN {CHANNEL}")).execute(&mut conn)?;
    Ok(conn)
}

/// One `NOTIFY` per [`IDS_PER_NOTIFY`] changed cards.
fn notify(conn: &mut PgConnection, changed: &HashSet<Uuid>) -> anyhow::Result<()> {
    let ids: Vec<String> = changed.iter().map(Uuid::to_string).collect();
    for chunk in ids.chunks(IDS_PER_NOTIFY) {
        diesel::sql_query("SELECT pg_notify($1, $2)")
            .bind::<diesel::sql_types::Text, _>(CHANNEL)
            .bind::<diesel::sql_types::Text, _>(chunk.join(","))
            .execute(conn)?;
    }
    Ok(())
}

/// The cards whose change any instance announced since the last call.
fn heard(conn: &mut PgConnection) -> anyhow::Result<HashSet<Uuid>> {
    let mut heard = HashSet::new();
    for notification in conn.notifications_iter() {
        let notification = notification?;
        heard.extend(notification.payload.split(',').filter_map(|id| id.parse::<Uuid>().ok()));
    }
    Ok(heard)
}

/// One open stream's events, for the response body; it leaves the hub when dropped.
pub struct Subscription {
    received: tokio::sync::mpsc::Receiver<Bytes>,
    hub: Arc<Inner>,
    id: Option<u64>,
}

impl Stream for Subscription {
    type Item = Result<Bytes, actix_web::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.received.poll_recv(cx).map(|event| event.map(Ok))
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            let mut streams = lock(&self.hub.streams);
            remove(&mut streams, id);
            self.hub.metrics.streams_open.set(streams.open.len() as i64);
        }
    }
}
