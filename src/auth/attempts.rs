//! Every password check, at login and at re-authentication, goes through here: the attempt is
//! counted first (429 when the account or address may not try now), then the check waits
//! for its turn on the bcrypt threads (503 when they have more than a few seconds of work),
//! then a success clears the count. See `models::throttle` for the counting rules.
//!
//! The count lives in PostgreSQL, which every instance shares. In front of it, each process
//! lets one claim per account go to the database at a time, and remembers an account the
//! database found locked: a burst of guesses at one account then costs a handful of database
//! calls, not one per guess, and leaves the connection pool to everyone else. The database
//! stays the authority; what a process remembers only ever refuses sooner, never allows more.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use diesel::PgConnection;
use uuid::Uuid;

use crate::auth::client_ip::attempt_key;
use crate::auth::password::{Passwords, Verdict};
use crate::db::Db;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::models::throttle::{self, Claim};
use crate::problem::retry_after_secs;

/// Whose password is being tried, and from where.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// What this process queues the attempt under: the name a login gives, or the account.
    gate: String,
    ip: String,
}

impl Attempt {
    /// A login with this username key (see `fields::username_key`): the account it counts
    /// against is whichever the name belongs to when it is counted.
    pub fn by_name(username_key: &str, ip: Option<IpAddr>) -> Self {
        Self { gate: throttle::account_key(None, username_key), ip: attempt_key(ip) }
    }

    /// A logged-in user proving the password again.
    pub fn by_user(user_id: Uuid, ip: Option<IpAddr>) -> Self {
        Self { gate: throttle::account_key(Some(user_id), ""), ip: attempt_key(ip) }
    }
}

/// A counted attempt of an address alone, to settle when it turns out right.
pub struct AddressClaim(i64);

/// This process's front of the attempt count: one per server.
pub struct Attempts {
    accounts: Mutex<HashMap<String, Arc<Gate>>>,
    metrics: Metrics,
}

/// One account's place in the queue of claims, and what the database last said of its lock.
#[derive(Default)]
struct Gate {
    turn: tokio::sync::Mutex<()>,
    locked_until: Mutex<Option<Instant>>,
}

/// More accounts than this in the map, and those neither locked nor in use are dropped.
const REMEMBERED_ACCOUNTS: usize = 10_000;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Gate {
    /// 429 while the database said this account is locked.
    fn refuse_if_locked(&self) -> Result<(), ApiError> {
        match *lock(&self.locked_until) {
            Some(until) if until > Instant::now() => {
                let wait = until - Instant::now();
                Err(ApiError::TooManyAttempts {
                    limit: "account",
                    retry_after: retry_after_secs(wait.as_millis() as i64),
                })
            }
            _ => Ok(()),
        }
    }

    fn is_locked(&self) -> bool {
        lock(&self.locked_until).is_some_and(|until| until > Instant::now())
    }
}

impl Attempts {
    pub fn new(metrics: Metrics) -> Self {
        Self { accounts: Mutex::default(), metrics }
    }

    /// Counts `attempt` (429 when it may not be made now) against the account that `account`
    /// names (the login looks its user up, on the same connection in the same turn), and
    /// hands on what else `account` found.
    pub async fn claim<T: Send + 'static>(
        &self,
        db: &Db,
        attempt: &Attempt,
        account: impl FnOnce(&mut PgConnection) -> Result<(String, T), ApiError> + Send + 'static,
    ) -> Result<(Claim, T), ApiError> {
        let gate = self.gate(&attempt.gate);
        let refused_here = |err| {
            self.metrics.attempts_refused.with_label_values(&["account"]).inc();
            err
        };
        let result = async {
            gate.refuse_if_locked().map_err(refused_here)?;
            let _turn = gate.turn.lock().await;
            // The claim before this one may have found the account locked.
            gate.refuse_if_locked().map_err(refused_here)?;
            let ip = attempt.ip.clone();
            let claimed = db
                .run(move |conn| {
                    let (account, found) = account(conn)?;
                    Ok(throttle::claim(conn, &account, &ip)?.map(|claim| (claim, found)))
                })
                .await?;
            let limit = |refusal: &throttle::Refusal| if refusal.account_locked { "account" } else { "address" };
            match claimed {
                Ok((claim, also)) => {
                    if claim.sets_lock() {
                        self.metrics.lockouts.inc();
                    }
                    Ok((claim, also))
                }
                Err(refusal) => {
                    self.metrics.attempts_refused.with_label_values(&[limit(&refusal)]).inc();
                    if refusal.account_locked {
                        let until = Instant::now() + Duration::from_secs(refusal.retry_after);
                        *lock(&gate.locked_until) = Some(until);
                    }
                    Err(ApiError::from(refusal))
                }
            }
        }
        .await;
        self.forget_unless_needed(&attempt.gate, gate);
        result
    }

    /// Counts an attempt of the client's address alone (a password reset token), or 429.
    pub async fn claim_address(&self, db: &Db, ip: Option<IpAddr>) -> Result<AddressClaim, ApiError> {
        let ip = attempt_key(ip);
        match db.run(move |conn| throttle::claim_address(conn, &ip)).await? {
            Ok(row) => Ok(AddressClaim(row)),
            Err(refusal) => {
                self.metrics.attempts_refused.with_label_values(&["address"]).inc();
                Err(refusal.into())
            }
        }
    }

    /// The address's attempt turned out right: it was no failure.
    pub async fn settle_address(&self, db: &Db, claim: AddressClaim) -> Result<(), ApiError> {
        db.run(move |conn| throttle::address_succeeded(conn, claim.0)).await
    }

    /// Checks `given` against `stored` (`None`: no such account, a dummy hash is used) for an
    /// attempt already claimed, and settles the count. `hash_on_success` is hashed in the same
    /// turn when the password is right (see [`Passwords::verify`]).
    pub async fn check(
        &self,
        attempt: &Attempt,
        claim: Claim,
        db: &Db,
        passwords: &Passwords,
        given: String,
        stored: Option<String>,
        hash_on_success: Option<String>,
    ) -> Result<Verdict, ApiError> {
        let ticket = match passwords.reserve() {
            Ok(ticket) => ticket,
            Err(busy) => {
                // Not checked, so not a failure: the client may simply try again later. A lock
                // this attempt set goes with it, here too.
                db.run(move |conn| throttle::withdraw(conn, &claim)).await?;
                if let Some(gate) = lock(&self.accounts).get(&attempt.gate) {
                    *lock(&gate.locked_until) = None;
                }
                return Err(busy);
            }
        };
        let verdict = passwords.verify(ticket, given, stored, hash_on_success).await?;
        match verdict {
            Verdict::Right { .. } => db.run(move |conn| throttle::succeeded(conn, &claim)).await?,
            Verdict::Wrong => {
                self.metrics.login_failures.inc();
                // This failure locked the account: the next attempt need not ask the database.
                if let Some(until) = claim.locked_until() {
                    let wait = (until - chrono::Utc::now()).to_std().unwrap_or_default();
                    let gate = self.gate(&attempt.gate);
                    *lock(&gate.locked_until) = Some(Instant::now() + wait);
                    self.forget_unless_needed(&attempt.gate, gate);
                }
            }
        }
        Ok(verdict)
    }

    /// Claims and checks a logged-in user's password (account deletion, password change):
    /// 403 `invalid_password` when it is wrong, 429 once the account is locked.
    pub async fn reauthenticate(
        &self,
        attempt: Attempt,
        db: &Db,
        passwords: &Passwords,
        given: String,
        stored: String,
        hash_on_success: Option<String>,
    ) -> Result<Option<String>, ApiError> {
        let account = attempt.gate.clone();
        let (claim, ()) = self.claim(db, &attempt, move |_| Ok((account, ()))).await?;
        match self.check(&attempt, claim, db, passwords, given, Some(stored), hash_on_success).await? {
            Verdict::Right { new_hash } => Ok(new_hash),
            Verdict::Wrong => Err(ApiError::InvalidPassword),
        }
    }

    fn gate(&self, account: &str) -> Arc<Gate> {
        let mut accounts = lock(&self.accounts);
        if accounts.len() > REMEMBERED_ACCOUNTS {
            accounts
                .retain(|key, gate| Arc::strong_count(gate) > 1 || (gate.is_locked() && !throttle::is_name_key(key)));
        }
        Arc::clone(accounts.entry(account.to_owned()).or_default())
    }

    /// Drops the gate when nobody else waits at it, unless it remembers the lock of an
    /// account. A login's gate is its name's, and a name may pass to another account (a
    /// rename frees it, a signup takes it) that must start clean: what a name's gate learned
    /// serves only the attempts queued at it together, a burst.
    fn forget_unless_needed(&self, key: &str, gate: Arc<Gate>) {
        let mut accounts = lock(&self.accounts);
        let an_accounts_lock = gate.is_locked() && !throttle::is_name_key(key);
        // Two references: the map's and ours.
        if Arc::strong_count(&gate) == 2 && !an_accounts_lock {
            accounts.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate_locked_until(until: Option<Instant>) -> Gate {
        let gate = Gate::default();
        *lock(&gate.locked_until) = until;
        gate
    }

    #[test]
    fn a_gate_refuses_while_the_lock_it_learned_lasts_and_not_after() {
        let now = Instant::now();
        let live = gate_locked_until(Some(now + Duration::from_secs(60)));
        assert!(matches!(
            live.refuse_if_locked(),
            Err(ApiError::TooManyAttempts { limit: "account", retry_after: 60 })
        ));
        assert!(live.is_locked());
        for ended in [gate_locked_until(Some(now - Duration::from_millis(1))), gate_locked_until(None)] {
            assert!(ended.refuse_if_locked().is_ok(), "a lock that ended must not refuse");
            assert!(!ended.is_locked());
        }
    }

    fn remembered(attempts: &Attempts) -> Vec<String> {
        let mut keys: Vec<String> = lock(&attempts.accounts).keys().cloned().collect();
        keys.sort();
        keys
    }

    #[test]
    fn a_finished_attempt_forgets_its_gate_unless_it_remembers_an_accounts_live_lock() {
        let attempts = Attempts::new(Metrics::default());
        let lock_for = |key: &str, until: Option<Instant>| {
            let gate = attempts.gate(key);
            *lock(&gate.locked_until) = until;
            attempts.forget_unless_needed(key, gate);
        };
        let minute = Instant::now() + Duration::from_secs(60);
        lock_for("user:never-locked", None);
        lock_for("user:lock-ended", Some(Instant::now() - Duration::from_millis(1)));
        lock_for("user:locked", Some(minute));
        lock_for("name:locked", Some(minute));
        assert_eq!(remembered(&attempts), ["user:locked"], "a name may pass to another account: it starts clean");
    }

    #[test]
    fn past_ten_thousand_gates_only_the_busy_ones_and_accounts_live_locks_are_kept() {
        let attempts = Attempts::new(Metrics::default());
        let minute = Instant::now() + Duration::from_secs(60);
        let busy = attempts.gate("user:busy");
        *lock(&attempts.gate("user:locked").locked_until) = Some(minute);
        *lock(&attempts.gate("name:locked").locked_until) = Some(minute);
        for i in 3..REMEMBERED_ACCOUNTS {
            attempts.gate(&format!("user:idle-{i}"));
        }
        // At the limit nothing goes yet; past it, the idle gates do.
        attempts.gate("user:one-more");
        assert_eq!(lock(&attempts.accounts).len(), REMEMBERED_ACCOUNTS + 1);
        attempts.gate("user:next");
        assert_eq!(remembered(&attempts), ["user:busy", "user:locked", "user:next"]);
        drop(busy);
    }
}
