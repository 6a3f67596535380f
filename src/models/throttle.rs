//! Login throttling state, in PostgreSQL so that every instance of the service agrees.
//!
//! - An account name is locked after 10 consecutive failures: for 1 minute, then 2, 4, ...
//!   doubling per further failure, capped at 1 hour. While locked no password is evaluated,
//!   so at most about 16 guesses per account per hour are ever checked (ASVS 2.2.1 allows 100).
//!   A successful login clears the count.
//! - A client address is refused after 100 failures within 15 minutes, until the oldest of
//!   them leaves the window.

use chrono::{DateTime, Duration, Utc};
use diesel::dsl::{count_star, min};
use diesel::prelude::*;
use diesel::upsert::excluded;

use crate::error::ApiError;
use crate::schema::{login_failures, login_throttles};

pub const ACCOUNT_FAILURES_BEFORE_LOCK: i32 = 10;
pub const IP_FAILURES_PER_WINDOW: i64 = 100;
pub const IP_WINDOW: Duration = Duration::minutes(15);
const FIRST_LOCK_SECONDS: i64 = 60;
const MAX_LOCK_SECONDS: i64 = 3600;

/// Seconds to wait, when this account or address may not try now.
pub fn retry_after(conn: &mut PgConnection, username_key: &str, ip: &str) -> Result<Option<u64>, ApiError> {
    let now = Utc::now();
    let locked_until: Option<DateTime<Utc>> = login_throttles::table
        .find(username_key)
        .select(login_throttles::locked_until)
        .first::<Option<DateTime<Utc>>>(conn)
        .optional()?
        .flatten();
    let account_wait = locked_until.filter(|until| *until > now).map(|until| until - now);
    let (failures, oldest): (i64, Option<DateTime<Utc>>) = login_failures::table
        .filter(login_failures::ip.eq(ip))
        .filter(login_failures::failed_at.gt(now - IP_WINDOW))
        .select((count_star(), min(login_failures::failed_at)))
        .first(conn)?;
    let ip_wait = oldest.filter(|_| failures >= IP_FAILURES_PER_WINDOW).map(|oldest| oldest + IP_WINDOW - now);
    let wait = account_wait.into_iter().chain(ip_wait).max();
    Ok(wait.map(|w| (w.num_milliseconds().max(0) as u64).div_ceil(1000).max(1)))
}

/// Counts a failed login for the account name and the address.
pub fn record_failure(conn: &mut PgConnection, username_key: &str, ip: &str) -> Result<(), ApiError> {
    let now = Utc::now();
    let failures: i32 = diesel::insert_into(login_throttles::table)
        .values((login_throttles::username_key.eq(username_key), login_throttles::failures.eq(1)))
        .on_conflict(login_throttles::username_key)
        .do_update()
        .set((
            login_throttles::failures.eq(login_throttles::failures + excluded(login_throttles::failures)),
            login_throttles::updated_at.eq(now),
        ))
        .returning(login_throttles::failures)
        .get_result(conn)?;
    if failures >= ACCOUNT_FAILURES_BEFORE_LOCK {
        let doublings = (failures - ACCOUNT_FAILURES_BEFORE_LOCK).min(12) as u32;
        let seconds = (FIRST_LOCK_SECONDS << doublings).min(MAX_LOCK_SECONDS);
        diesel::update(login_throttles::table.find(username_key))
            .set(login_throttles::locked_until.eq(now + Duration::seconds(seconds)))
            .execute(conn)?;
    }
    diesel::insert_into(login_failures::table).values(login_failures::ip.eq(ip)).execute(conn)?;
    Ok(())
}

/// A successful login clears the account's count (not the address's: one good password must
/// not wash away a spray of guesses at other accounts).
pub fn record_success(conn: &mut PgConnection, username_key: &str) -> Result<(), ApiError> {
    diesel::delete(login_throttles::table.find(username_key)).execute(conn)?;
    Ok(())
}

/// Forgets what no longer matters: address failures out of the window, idle account counts.
pub fn purge(conn: &mut PgConnection) -> Result<usize, ApiError> {
    let now = Utc::now();
    let a =
        diesel::delete(login_failures::table.filter(login_failures::failed_at.le(now - IP_WINDOW))).execute(conn)?;
    let b = diesel::delete(login_throttles::table.filter(login_throttles::updated_at.le(now - Duration::days(1))))
        .execute(conn)?;
    Ok(a + b)
}
