//! Password-attempt throttling, in PostgreSQL so that every instance of the service agrees.
//!
//! - An account name is locked after 10 consecutive failures: for 1 minute, then 2, 4, ...
//!   doubling per further failure, capped at 1 hour. While locked no password is evaluated,
//!   so at most about 16 guesses per account per hour are ever checked (ASVS 2.2.1 allows 100).
//!   A successful check clears the count.
//! - A client address is refused after 100 failures within 15 minutes, until the oldest of
//!   them leaves the window.
//!
//! An attempt is counted *before* its password is checked ([`claim`]), as a failure until it
//! proves otherwise ([`succeeded`]). Checking first and counting after would let every
//! request of a burst pass the check before any of them was counted. The account's row lock
//! and a per-address advisory lock make each claim atomic, so a burst of any size gets at most
//! the allowed number of checks. A failure needs no second write, and an attempt whose
//! request died half-way still counts.
//!
//! Ours on purpose: rate-limit crates count in process memory, which neither several instances
//! share nor survives a restart, and none counts an attempt before its password is checked.

use chrono::{DateTime, Duration, Utc};
use diesel::dsl::{count_star, min};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz};
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::schema::{login_failures, login_throttles};

pub const ACCOUNT_FAILURES_BEFORE_LOCK: i32 = 10;
pub const IP_FAILURES_PER_WINDOW: i64 = 100;
pub const IP_WINDOW: Duration = Duration::minutes(15);

/// Names longer than any username are still counted (an attacker must not escape the count
/// with one), under their SHA-256: a btree key cannot hold 16 KiB.
const LONGEST_PLAIN_KEY: usize = 600;

/// One counted attempt, to be settled by [`succeeded`] or taken back by [`withdraw`].
#[derive(Debug, Clone)]
pub struct Claim {
    account: String,
    ip_row: i64,
    /// The lock this claim set (pessimistically, as if it would fail), if it set one.
    lock: Option<DateTime<Utc>>,
}

/// The throttling key of an account name (a username key, known or not).
pub fn account_key(username_key: &str) -> String {
    if username_key.len() <= LONGEST_PLAIN_KEY {
        username_key.to_owned()
    } else {
        format!("sha256:{}", hex::encode(Sha256::digest(username_key.as_bytes())))
    }
}

#[derive(QueryableByName)]
struct Counted {
    #[diesel(sql_type = Nullable<Timestamptz>)]
    locked_until: Option<DateTime<Utc>>,
}

#[derive(QueryableByName)]
struct Inserted {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Counts an attempt of `account` (see [`account_key`]) from `ip` (see
/// `client_ip::attempt_key`), or answers 429 with the seconds to wait when either may not try
/// now.
pub fn claim(conn: &mut PgConnection, account: &str, ip: &str) -> Result<Claim, ApiError> {
    conn.transaction(|conn| {
        // Attempts from one address queue here, so that counting the window and adding to it
        // is one step. The account's row lock, taken below, does the same per account; the
        // order (address, then account) is the same for everyone, so nothing deadlocks.
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended('login-ip:' || $1, 0))")
            .bind::<Text, _>(ip)
            .execute(conn)?;
        let now = Utc::now();
        let (failures, oldest): (i64, Option<DateTime<Utc>>) = login_failures::table
            .filter(login_failures::ip.eq(ip))
            .filter(login_failures::failed_at.gt(now - IP_WINDOW))
            .select((count_star(), min(login_failures::failed_at)))
            .first(conn)?;
        if let Some(oldest) = oldest.filter(|_| failures >= IP_FAILURES_PER_WINDOW) {
            return Err(too_many(oldest + IP_WINDOW - now));
        }
        // The tenth attempt in a row locks the account at once, before its password is
        // checked; a success takes the lock away again. Once a lock has run out, each new
        // attempt locks again, for twice as long. A locked row is left alone (no row back).
        let counted: Option<Counted> = diesel::sql_query(
            "INSERT INTO login_throttles AS t (username_key, failures, locked_until, updated_at) \
             VALUES ($1, 1, NULL, now()) \
             ON CONFLICT (username_key) DO UPDATE SET \
               failures = t.failures + 1, \
               locked_until = CASE WHEN t.failures + 1 >= $2 \
                 THEN now() + least(3600, 60 * power(2, least(t.failures + 1 - $2, 12))) * interval '1 second' \
                 END, \
               updated_at = now() \
             WHERE t.locked_until IS NULL OR t.locked_until <= now() \
             RETURNING t.locked_until",
        )
        .bind::<Text, _>(account)
        .bind::<diesel::sql_types::Integer, _>(ACCOUNT_FAILURES_BEFORE_LOCK)
        .get_result(conn)
        .optional()?;
        let Some(Counted { locked_until: lock }) = counted else {
            let until: Option<DateTime<Utc>> =
                login_throttles::table.find(account).select(login_throttles::locked_until).first(conn)?;
            return Err(too_many(until.map_or(Duration::zero(), |until| until - now)));
        };
        let Inserted { id: ip_row } = diesel::sql_query("INSERT INTO login_failures (ip) VALUES ($1) RETURNING id")
            .bind::<Text, _>(ip)
            .get_result(conn)?;
        Ok(Claim { account: account.to_owned(), ip_row, lock })
    })
}

/// The right password: the account's count starts again, and the address's attempt was no
/// failure. (Not the address's whole count: one good password must not wash away a spray of
/// guesses at other accounts.)
pub fn succeeded(conn: &mut PgConnection, claim: &Claim) -> Result<(), ApiError> {
    diesel::delete(login_throttles::table.find(&claim.account)).execute(conn)?;
    diesel::delete(login_failures::table.find(claim.ip_row)).execute(conn)?;
    Ok(())
}

/// Takes back an attempt that was never checked (the server was too busy to check it), unless
/// later attempts have changed the account's lock since.
pub fn withdraw(conn: &mut PgConnection, claim: &Claim) -> Result<(), ApiError> {
    diesel::sql_query(
        "UPDATE login_throttles SET failures = greatest(failures - 1, 0), locked_until = NULL \
         WHERE username_key = $1 AND locked_until IS NOT DISTINCT FROM $2",
    )
    .bind::<Text, _>(&claim.account)
    .bind::<Nullable<Timestamptz>, _>(claim.lock)
    .execute(conn)?;
    diesel::delete(login_failures::table.find(claim.ip_row)).execute(conn)?;
    Ok(())
}

fn too_many(wait: Duration) -> ApiError {
    ApiError::TooManyAttempts { retry_after: (wait.num_milliseconds().max(0) as u64).div_ceil(1000).max(1) }
}

/// Forgets what no longer matters: address attempts out of the window, idle account counts.
pub fn purge(conn: &mut PgConnection) -> Result<usize, ApiError> {
    let now = Utc::now();
    let a =
        diesel::delete(login_failures::table.filter(login_failures::failed_at.le(now - IP_WINDOW))).execute(conn)?;
    let b = diesel::delete(login_throttles::table.filter(login_throttles::updated_at.le(now - Duration::days(1))))
        .execute(conn)?;
    Ok(a + b)
}
