//! Password-attempt throttling, in PostgreSQL so that every instance of the service agrees.
//!
//! - An account is locked after 10 consecutive failures: for 1 minute, then 2, 4, ...
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
//! the allowed number of checks; the claim is one statement, a function defined in the
//! migrations. A failure needs no second write, and an attempt whose request died half-way
//! still counts.
//!
//! Ours on purpose: rate-limit crates count in process memory, which neither several instances
//! share nor survives a restart, and none counts an attempt before its password is checked.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::ApiError;
use crate::models::statement::{Bind, Statement};
use crate::problem::retry_after_secs;
use crate::schema::{login_failures, login_throttles};

pub const ACCOUNT_FAILURES_BEFORE_LOCK: i32 = 10;
pub const IP_FAILURES_PER_WINDOW: i32 = 100;
pub const IP_WINDOW: Duration = Duration::minutes(15);

/// Whether `key` (of [`account_key`]) is a name's, not an account's.
pub fn is_name_key(key: &str) -> bool {
    key.starts_with("name:")
}

/// The longest username key counted as it is (see [`account_key`]).
const LONGEST_PLAIN_KEY: usize = 600;

/// One counted attempt, to be settled by [`succeeded`] or taken back by [`withdraw`].
#[derive(Debug, Clone)]
pub struct Claim {
    account: String,
    ip_row: i64,
    /// The lock this claim set (pessimistically, as if it would fail), if it set one.
    lock: Option<DateTime<Utc>>,
}

impl Claim {
    /// Whether this attempt locked its account (it was the one that made the failures enough).
    pub fn sets_lock(&self) -> bool {
        self.lock.is_some()
    }

    /// Until when this attempt locks its account, if it fails (the lock it set).
    pub fn locked_until(&self) -> Option<DateTime<Utc>> {
        self.lock
    }
}

/// Whose count an attempt adds to: the account's own, whatever it is called now, or, for a
/// name that belongs to no account, that name's (so that known and unknown names answer alike).
pub fn account_key(user: Option<Uuid>, username_key: &str) -> String {
    match user {
        Some(id) => format!("user:{id}"),
        // Names longer than any username are still counted (an attacker must not escape the
        // count with one), under their SHA-256: a btree key cannot hold 16 KiB.
        None if username_key.len() <= LONGEST_PLAIN_KEY => format!("name:{username_key}"),
        None => format!("name:sha256:{}", hex::encode(Sha256::digest(username_key.as_bytes()))),
    }
}

#[derive(QueryableByName)]
struct Claimed {
    #[diesel(sql_type = Nullable<BigInt>)]
    attempt_id: Option<i64>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    lock_set: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<BigInt>)]
    retry_after_ms: Option<i64>,
    #[diesel(sql_type = Nullable<diesel::sql_types::Bool>)]
    account_locked: Option<bool>,
}

/// Why an attempt may not be made now.
#[derive(Debug, Clone, Copy)]
pub struct Refusal {
    /// Seconds until it may.
    pub retry_after: u64,
    /// The account is locked (else: the address has too many failures).
    pub account_locked: bool,
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        let limit = if refusal.account_locked { "account" } else { "address" };
        ApiError::TooManyAttempts { limit, retry_after: refusal.retry_after }
    }
}

/// Counts an attempt of `account` (see [`account_key`]) from `ip` (see
/// `client_ip::attempt_key`), or says why either may not try now. One statement: the rules
/// are the migration's `claim_password_attempt`.
pub fn claim(conn: &mut PgConnection, account: &str, ip: &str) -> Result<Result<Claim, Refusal>, ApiError> {
    let claimed: Claimed = Statement::new("SELECT * FROM claim_password_attempt($1, $2, $3, $4, $5)")
        .bind(Bind::Text(account.to_owned()))
        .bind(Bind::Text(ip.to_owned()))
        .bind(Bind::Int(ACCOUNT_FAILURES_BEFORE_LOCK))
        .bind(Bind::Int(IP_FAILURES_PER_WINDOW))
        .bind(Bind::Int(IP_WINDOW.num_seconds() as i32))
        .get_result(conn)?;
    Ok(match claimed {
        Claimed { attempt_id: Some(ip_row), lock_set, .. } => {
            Ok(Claim { account: account.to_owned(), ip_row, lock: lock_set })
        }
        Claimed { retry_after_ms, account_locked, .. } => Err(Refusal {
            retry_after: retry_after_secs(retry_after_ms.unwrap_or(0)),
            account_locked: account_locked.unwrap_or(false),
        }),
    })
}

#[derive(QueryableByName)]
struct AddressClaimed {
    #[diesel(sql_type = Nullable<BigInt>)]
    attempt_id: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    retry_after_ms: Option<i64>,
}

/// An attempt of the address alone (a reset token is tried without an account): the row of
/// `login_failures` to delete when it turns out right, or why it may not be made now.
pub fn claim_address(conn: &mut PgConnection, ip: &str) -> Result<Result<i64, Refusal>, ApiError> {
    let claimed: AddressClaimed = Statement::new("SELECT * FROM claim_address_attempt($1, $2, $3)")
        .bind(Bind::Text(ip.to_owned()))
        .bind(Bind::Int(IP_FAILURES_PER_WINDOW))
        .bind(Bind::Int(IP_WINDOW.num_seconds() as i32))
        .get_result(conn)?;
    Ok(match claimed {
        AddressClaimed { attempt_id: Some(row), .. } => Ok(row),
        AddressClaimed { retry_after_ms, .. } => {
            Err(Refusal { retry_after: retry_after_secs(retry_after_ms.unwrap_or(0)), account_locked: false })
        }
    })
}

/// The address's attempt was no failure.
pub fn address_succeeded(conn: &mut PgConnection, row: i64) -> Result<(), ApiError> {
    diesel::delete(login_failures::table.find(row)).execute(conn)?;
    Ok(())
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
         WHERE account = $1 AND locked_until IS NOT DISTINCT FROM $2",
    )
    .bind::<Text, _>(&claim.account)
    .bind::<Nullable<Timestamptz>, _>(claim.lock)
    .execute(conn)?;
    diesel::delete(login_failures::table.find(claim.ip_row)).execute(conn)?;
    Ok(())
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
