//! `GET /metrics`, on the metrics listener only (see `startup`): the counters kept as things
//! happen, and the states (the pool, the bcrypt queue, the outbox) read at scrape time.

use actix_web::{web, HttpResponse};

use crate::auth::password::Passwords;
use crate::db::Db;
use crate::metrics::Metrics;
use strum::VariantArray;

use crate::models::outbox::{self, Kind};
use crate::models::phone;

/// What a scrape reads.
pub struct Sources {
    pub metrics: Metrics,
    pub db: Db,
    pub passwords: Passwords,
    /// `STAMPCARD_SMS_HOURLY_LIMIT`, shown beside what was sent.
    pub sms_hourly_limit: u32,
}

pub async fn scrape(sources: web::Data<Sources>) -> HttpResponse {
    let Sources { metrics, db, passwords, sms_hourly_limit } = sources.as_ref();
    let (in_use, idle) = db.pool_state();
    metrics.db_connections.with_label_values(&["in_use"]).set(i64::from(in_use));
    metrics.db_connections.with_label_values(&["idle"]).set(i64::from(idle));
    let (pending, running) = passwords.load();
    metrics.password_jobs.with_label_values(&["queued"]).set((pending - running.min(pending)) as i64);
    metrics.password_jobs.with_label_values(&["running"]).set(running as i64);
    Metrics::catch_up(&metrics.password_verifications, passwords.verifications());
    Metrics::catch_up(&metrics.password_jobs_refused, passwords.refused());
    // A scrape while the database is away still answers, without these.
    let sms_limit = i64::from(*sms_hourly_limit);
    let read = db
        .run(|conn| Ok((outbox::pending_by_kind(conn)?, outbox::failed(conn)?, phone::sms_in_last_hour(conn)?)))
        .await;
    if let Ok((pending, failed, sms)) = read {
        for kind in Kind::VARIANTS {
            let (n, oldest) = pending.iter().find(|p| p.0 == *kind).map_or((0, 0.0), |p| (p.1, p.2));
            metrics.outbox_pending.with_label_values(&[<&str>::from(*kind)]).set(n);
            metrics.outbox_oldest_pending.with_label_values(&[<&str>::from(*kind)]).set(oldest);
        }
        metrics.outbox_failed.set(failed);
        metrics.sms_this_hour.with_label_values(&["sent"]).set(sms);
    }
    metrics.sms_this_hour.with_label_values(&["limit"]).set(sms_limit);
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(metrics.render())
}
