//! Every password check, at login and at re-authentication, goes through here: the attempt is
//! counted first (429 when the account or address may not try now), then the check waits
//! for its turn on the bcrypt threads (503 when they have more than a few seconds of work),
//! then a success clears the count. See `models::throttle` for the counting rules.

use std::net::IpAddr;

use crate::auth::client_ip::attempt_key;
use crate::auth::password::{Passwords, Verdict};
use crate::db::Db;
use crate::error::ApiError;
use crate::models::throttle::{self, Claim};

/// Whose password is being tried, and from where.
#[derive(Debug, Clone)]
pub struct Attempt {
    account: String,
    ip: String,
}

impl Attempt {
    /// An attempt for the account with this username key (see `fields::username_key`).
    pub fn new(username_key: &str, ip: Option<IpAddr>) -> Self {
        Self { account: throttle::account_key(username_key), ip: attempt_key(ip) }
    }

    /// Counts the attempt, or 429. Runs on a blocking thread, with whatever else the caller
    /// needs from the database in the same turn (the login looks the user up).
    pub fn claim(&self, conn: &mut diesel::PgConnection) -> Result<Claim, ApiError> {
        throttle::claim(conn, &self.account, &self.ip)
    }

    /// Checks `given` against `stored` (`None`: no such account, a dummy hash is used) for an
    /// attempt already claimed, and settles the count. `hash_on_success` is hashed in the same
    /// turn when the password is right (see [`Passwords::verify`]).
    pub async fn check(
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
                // Not checked, so not a failure: the client may simply try again later.
                db.run(move |conn| throttle::withdraw(conn, &claim)).await?;
                return Err(busy);
            }
        };
        let verdict = passwords.verify(ticket, given, stored, hash_on_success).await?;
        if matches!(verdict, Verdict::Right { .. }) {
            db.run(move |conn| throttle::succeeded(conn, &claim)).await?;
        }
        Ok(verdict)
    }

    /// Claims and checks a logged-in user's password (account deletion, password change):
    /// 403 `invalid_password` when it is wrong, 429 once the account is locked.
    pub async fn reauthenticate(
        self,
        db: &Db,
        passwords: &Passwords,
        given: String,
        stored: String,
        hash_on_success: Option<String>,
    ) -> Result<Option<String>, ApiError> {
        let claim = db.run(move |conn| self.claim(conn)).await?;
        match Self::check(claim, db, passwords, given, Some(stored), hash_on_success).await? {
            Verdict::Right { new_hash } => Ok(new_hash),
            Verdict::Wrong => Err(ApiError::InvalidPassword),
        }
    }
}
