//! `GET /metrics`, on the metrics listener only (see `startup`): the counters kept as things
//! happen, and the states (the pool, the bcrypt queue, the outbox) read at scrape time.

use actix_web::{web, HttpResponse};

use crate::auth::password::Passwords;
use crate::db::Db;
use crate::metrics::Metrics;
use crate::models::outbox::{self, State};

/// What a scrape reads.
pub struct Sources {
    pub metrics: Metrics,
    pub db: Db,
    pub passwords: Passwords,
}

pub async fn scrape(sources: web::Data<Sources>) -> HttpResponse {
    let Sources { metrics, db, passwords } = sources.as_ref();
    let (in_use, idle) = db.pool_state();
    metrics.db_connections.with_label_values(&["in_use"]).set(i64::from(in_use));
    metrics.db_connections.with_label_values(&["idle"]).set(i64::from(idle));
    let (pending, running) = passwords.load();
    metrics.password_jobs.with_label_values(&["queued"]).set((pending - running.min(pending)) as i64);
    metrics.password_jobs.with_label_values(&["running"]).set(running as i64);
    Metrics::catch_up(&metrics.password_verifications, passwords.verifications());
    Metrics::catch_up(&metrics.password_jobs_refused, passwords.refused());
    // A scrape while the database is away still answers, without these.
    if let Ok((pending, failed)) = db.run(outbox::backlog).await {
        metrics.outbox_messages.with_label_values(&[<&str>::from(State::Pending)]).set(pending);
        metrics.outbox_messages.with_label_values(&[<&str>::from(State::Failed)]).set(failed);
    }
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(metrics.render())
}
