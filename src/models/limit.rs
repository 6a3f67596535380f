//! Limits on what anyone can make the server do: send an SMS, a mail, make an account, present
//! a card code. Each request is counted in a bucket (whom or what it counts: a phone number, a
//! client address, an account) *before* the work, by one statement under the bucket's lock
//! (the migration's `claim_limit`), so that a burst gets no more than the same requests one at
//! a time, on every instance alike. Ours for the same reason as `throttle`: the count must be
//! shared by every instance and exact under concurrency.

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Integer, Nullable, Text};

use crate::error::ApiError;
use crate::problem::retry_after_secs;

/// One rule of a limit: at most `max` requests within `window_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub max: i32,
    pub window_seconds: i32,
}

impl Rate {
    pub const fn per_hour(max: i32) -> Self {
        Self { max, window_seconds: 3600 }
    }

    pub const fn per_day(max: i32) -> Self {
        Self { max, window_seconds: 86_400 }
    }

    pub const fn per_minutes(max: i32, minutes: i32) -> Self {
        Self { max, window_seconds: minutes * 60 }
    }
}

/// A limit: its rules, and the least time between two requests.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    /// What the bucket names are made of, and the label of the limit in metrics.
    pub name: &'static str,
    pub rates: &'static [Rate],
    pub gap_seconds: i32,
}

/// A counted request, to take back if it turns out not to count (see [`release`]).
#[derive(Debug, Clone, Copy)]
pub struct Hit(i64);

/// A request the limit refused, with the seconds until it would be allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    pub retry_after: u64,
}

#[derive(QueryableByName)]
struct Claimed {
    #[diesel(sql_type = Nullable<BigInt>)]
    hit_id: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    retry_after_ms: Option<i64>,
}

impl Limit {
    /// Counts a request of `whom` against this limit, or says when it may be made. In the
    /// caller's transaction, when there is one: the count then stands only if it commits.
    pub fn claim(&self, conn: &mut PgConnection, whom: &str) -> Result<Result<Hit, Refused>, ApiError> {
        self.claim_with(conn, whom, self.rates)
    }

    /// [`Limit::claim`], with rates of the caller's (a limit set by configuration).
    pub fn claim_with(
        &self,
        conn: &mut PgConnection,
        whom: &str,
        rates: &[Rate],
    ) -> Result<Result<Hit, Refused>, ApiError> {
        let claimed: Claimed = diesel::sql_query("SELECT * FROM claim_limit($1, $2, $3, $4)")
            .bind::<Text, _>(self.bucket(whom))
            .bind::<Array<Integer>, _>(rates.iter().map(|r| r.max).collect::<Vec<_>>())
            .bind::<Array<Integer>, _>(rates.iter().map(|r| r.window_seconds).collect::<Vec<_>>())
            .bind::<Integer, _>(self.gap_seconds)
            .get_result(conn)?;
        Ok(match claimed {
            Claimed { hit_id: Some(id), .. } => Ok(Hit(id)),
            Claimed { retry_after_ms, .. } => {
                Err(Refused { retry_after: retry_after_secs(retry_after_ms.unwrap_or(0)) })
            }
        })
    }

    /// [`Limit::claim_with`], a refusal as the API's 429 (naming this limit).
    pub fn take(&self, conn: &mut PgConnection, whom: &str, rates: &[Rate]) -> Result<Hit, ApiError> {
        self.claim_with(conn, whom, rates)?
            .map_err(|refused| ApiError::TooManyAttempts { limit: self.name, retry_after: refused.retry_after })
    }

    /// How long `whom` must wait before this limit allows a request, without counting one
    /// (`None`: it may go ahead). For limits that count failures ([`Limit::record`]), checked
    /// under a lock of the caller's that orders the requests.
    pub fn wait(&self, conn: &mut PgConnection, whom: &str) -> Result<Option<Refused>, ApiError> {
        #[derive(QueryableByName)]
        struct Wait {
            #[diesel(sql_type = Nullable<BigInt>)]
            wait_ms: Option<i64>,
        }
        let mut longest: Option<i64> = None;
        for rate in self.rates {
            let Wait { wait_ms } = diesel::sql_query(
                "SELECT ceil(extract(epoch FROM (at + make_interval(secs => $3) - now())) * 1000)::bigint AS wait_ms \
                 FROM limit_hits WHERE bucket = $1 AND at > now() - make_interval(secs => $3) \
                 ORDER BY at DESC OFFSET $2 - 1 LIMIT 1",
            )
            .bind::<Text, _>(self.bucket(whom))
            .bind::<Integer, _>(rate.max)
            .bind::<Integer, _>(rate.window_seconds)
            .get_result(conn)
            .optional()?
            .unwrap_or(Wait { wait_ms: None });
            longest = longest.max(wait_ms);
        }
        Ok(longest.map(|ms| Refused { retry_after: retry_after_secs(ms) }))
    }

    /// Counts one request of `whom` without asking: a failure, for limits of failures.
    pub fn record(&self, conn: &mut PgConnection, whom: &str) -> Result<(), ApiError> {
        diesel::sql_query("INSERT INTO limit_hits (bucket) VALUES ($1)")
            .bind::<Text, _>(self.bucket(whom))
            .execute(conn)?;
        Ok(())
    }

    fn bucket(&self, whom: &str) -> String {
        format!("{}:{whom}", self.name)
    }
}

/// Takes a counted request back: it turned out not to be what the limit counts (a card code
/// that was right, say).
pub fn release(conn: &mut PgConnection, hit: Hit) -> Result<(), ApiError> {
    diesel::sql_query("DELETE FROM limit_hits WHERE id = $1").bind::<BigInt, _>(hit.0).execute(conn)?;
    Ok(())
}

/// Forgets requests older than any window (a day).
pub fn purge(conn: &mut PgConnection) -> Result<usize, ApiError> {
    Ok(diesel::sql_query("DELETE FROM limit_hits WHERE at < now() - interval '1 day'").execute(conn)?)
}

/// SMS codes to one phone number, whichever accounts ask: 3 an hour, 10 a day, a minute apart.
pub const SMS_PER_NUMBER: Limit =
    Limit { name: "sms_number", rates: &[Rate::per_hour(3), Rate::per_day(10)], gap_seconds: 60 };
/// SMS the whole service sends an hour (the rate is `STAMPCARD_SMS_HOURLY_LIMIT`).
pub const SMS_SERVICE: Limit = Limit { name: "sms_service", rates: &[], gap_seconds: 0 };
/// The bucket of [`SMS_SERVICE`]: the service is one.
pub const SERVICE: &str = "all";
/// Wrong codes typed for one phone number, whichever accounts type them.
pub const WRONG_CODES_PER_NUMBER: Limit = Limit { name: "wrong_codes", rates: &[Rate::per_hour(10)], gap_seconds: 0 };
/// Signups from one client address (the rate is `STAMPCARD_SIGNUPS_PER_HOUR`).
pub const SIGNUPS_PER_ADDRESS: Limit = Limit { name: "signups", rates: &[], gap_seconds: 0 };
/// Password reset and email verification requests from one client address.
pub const MAIL_REQUESTS_PER_ADDRESS: Limit =
    Limit { name: "mail_requests", rates: &[Rate::per_hour(10)], gap_seconds: 0 };
/// Verification links one user asks for.
pub const EMAIL_LINKS_PER_USER: Limit = Limit { name: "email_links", rates: &[Rate::per_hour(3)], gap_seconds: 0 };
/// Card codes made for one card.
pub const CARD_CODES_PER_CARD: Limit =
    Limit { name: "card_codes", rates: &[Rate::per_minutes(20, 10)], gap_seconds: 0 };
/// Card codes one staff or admin account presents that are unknown or expired: counted when
/// presented, taken back when the code was live.
pub const UNKNOWN_CARD_CODES_PER_ACCOUNT: Limit =
    Limit { name: "unknown_card_codes", rates: &[Rate::per_minutes(20, 10)], gap_seconds: 0 };
