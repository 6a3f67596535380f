//! Who holds a phone number, and proving it: verification codes sent by SMS.
//!
//! A code is made by the outbox worker when it sends the SMS, and only its SHA-256 (with the
//! verification's id) is stored. It is good for 10 minutes and 5 tries; a user may ask for 5
//! codes an hour.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text, Uuid as SqlUuid};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::codes::FieldCode;
use crate::error::{ApiError, Unique};
use crate::models::limit::{self, Rate};
use crate::models::user::User;
use crate::problem::retry_after_secs;
use crate::schema::{phone_verifications, users};

/// How long a code may be typed after it was sent.
pub const CODE_LIFETIME: Duration = Duration::minutes(10);
/// Wrong codes after which a code is dead.
pub const CODE_TRIES: i32 = 5;
/// Codes a user may ask for per hour.
pub const CODES_PER_HOUR: i64 = 5;

/// Who else may list a phone number a user lists (`STAMPCARD_REQUIRE_VERIFIED_PHONE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneHolders {
    /// One user per number, verified or not (the setting off).
    One,
    /// Any number of unverified users, until one of them verifies it and takes it from the
    /// others; only a verified holder makes the number taken (the setting on).
    VerifiedTakes,
}

impl PhoneHolders {
    pub fn from_setting(require_verified_phone: bool) -> Self {
        if require_verified_phone {
            Self::VerifiedTakes
        } else {
            Self::One
        }
    }

    /// Whether another user holds `phone` by this rule. Runs in the caller's transaction, under
    /// a lock per number (held until it ends), so that two users listing one number at the same
    /// moment cannot both see it free.
    pub fn is_taken(self, conn: &mut PgConnection, phone: &str, user_id: Uuid) -> Result<bool, ApiError> {
        lock_number(conn, phone)?;
        let others = users::table.filter(users::phone.eq(phone)).filter(users::id.ne(user_id));
        Ok(match self {
            Self::One => diesel::select(diesel::dsl::exists(others)).get_result::<bool>(conn)?,
            Self::VerifiedTakes => {
                diesel::select(diesel::dsl::exists(others.filter(users::phone_verified))).get_result::<bool>(conn)?
            }
        })
    }
}

fn lock_number(conn: &mut PgConnection, phone: &str) -> Result<(), ApiError> {
    crate::db::lock_name_for_transaction(conn, "phone", phone)
}

/// The stored form of a code: bound to its verification, so equal codes hash differently.
pub fn code_hash(verification: Uuid, code: &str) -> Vec<u8> {
    Sha256::digest(format!("{verification}:{code}").as_bytes()).to_vec()
}

/// Asks for a code for the user's current phone, in the caller's transaction: 422 without a
/// phone; 429 after [`CODES_PER_HOUR`] for the
/// user or past the number's own limits (`limit::SMS_PER_NUMBER`, whichever accounts ask);
/// 503 once the service's hourly SMS budget is spent. Returns the verification's id, for the
/// outbox message that will carry the code. Every count is taken before the SMS is queued,
/// under locks held until the transaction ends, so a burst cannot pass any of them.
pub fn request_code(conn: &mut PgConnection, user_id: Uuid, sms_hourly_limit: u32) -> Result<(Uuid, String), ApiError> {
    let phone: Option<String> = users::table.find(user_id).select(users::phone).for_update().first(conn)?;
    let phone = phone.ok_or_else(|| ApiError::field("phone", FieldCode::Required))?;
    let hour_ago = Utc::now() - Duration::hours(1);
    let recent: Vec<DateTime<Utc>> = phone_verifications::table
        .filter(phone_verifications::user_id.eq(user_id))
        .filter(phone_verifications::created_at.gt(hour_ago))
        .order(phone_verifications::created_at)
        .select(phone_verifications::created_at)
        .load(conn)?;
    if recent.len() as i64 >= CODES_PER_HOUR {
        let wait = recent[0] + Duration::hours(1) - Utc::now();
        return Err(ApiError::TooManyAttempts {
            limit: "phone_codes_user",
            retry_after: retry_after_secs(wait.num_milliseconds()),
        });
    }
    if let Err(refused) = limit::SMS_PER_NUMBER.claim(conn, &phone)? {
        return Err(ApiError::TooManyAttempts { limit: limit::SMS_PER_NUMBER.name, retry_after: refused.retry_after });
    }
    let budget = [Rate::per_hour(sms_hourly_limit.try_into().unwrap_or(i32::MAX))];
    if let Err(refused) = limit::SMS_SERVICE.claim_with(conn, limit::SERVICE, &budget)? {
        return Err(ApiError::SmsBudgetSpent { retry_after: refused.retry_after });
    }
    let id = Uuid::new_v4();
    diesel::insert_into(phone_verifications::table)
        .values((
            phone_verifications::id.eq(id),
            phone_verifications::user_id.eq(user_id),
            phone_verifications::phone.eq(&phone),
        ))
        .execute(conn)?;
    Ok((id, phone))
}

/// SMS counted against the service's budget within the last hour (for the metrics).
pub fn sms_in_last_hour(conn: &mut PgConnection) -> Result<i64, ApiError> {
    use crate::schema::limit_hits;
    let bucket = format!("{}:{}", limit::SMS_SERVICE.name, limit::SERVICE);
    Ok(limit_hits::table
        .filter(limit_hits::bucket.eq(bucket))
        .filter(limit_hits::at.gt(Utc::now() - Duration::hours(1)))
        .count()
        .get_result(conn)?)
}

/// For the outbox worker: stores the hash of the code it is about to send, if the
/// verification still stands (the user still has that phone). `false`: nothing to send.
pub fn attach_code(conn: &mut PgConnection, verification: Uuid, code: &str) -> Result<bool, ApiError> {
    let n = diesel::sql_query(
        "UPDATE phone_verifications v SET code_hash = $2, sent_at = now() \
         FROM users u WHERE v.id = $1 AND u.id = v.user_id AND u.phone = v.phone AND v.verified_at IS NULL",
    )
    .bind::<SqlUuid, _>(verification)
    .bind::<diesel::sql_types::Bytea, _>(code_hash(verification, code))
    .execute(conn)?;
    Ok(n == 1)
}

#[derive(QueryableByName)]
struct Pending {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Bytea)]
    code_hash: Vec<u8>,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    attempts: i32,
    #[diesel(sql_type = Text)]
    phone: String,
    #[diesel(sql_type = Bool)]
    fresh: bool,
}

/// Checks a code typed by the user against the latest code sent to their current phone, and
/// on a match marks the phone verified, taking it from any unverified account that listed it
/// (under [`PhoneHolders::VerifiedTakes`]). 422 `invalid_code` for a wrong, expired or dead
/// code; each wrong try counts. The verification's row is locked, so concurrent tries count
/// one by one.
pub fn confirm_code(
    conn: &mut PgConnection,
    user_id: Uuid,
    code: &str,
    holders: PhoneHolders,
) -> Result<User, ApiError> {
    conn.transaction(|conn| {
        // The number's lock first, then the code: every change of who holds a number happens
        // under its lock, so a code read after it sees any proof of the same number by another
        // user that committed meanwhile (the number is no longer this user's: invalid_code).
        let phone: Option<String> = users::table.find(user_id).select(users::phone).first(conn)?;
        let Some(phone) = phone else { return Err(ApiError::InvalidCode) };
        lock_number(conn, &phone)?;
        let pending: Option<Pending> = diesel::sql_query(
            "SELECT v.id, v.code_hash, v.attempts, v.phone, v.sent_at > now() - make_interval(secs => $2) AS fresh \
             FROM phone_verifications v JOIN users u ON u.id = v.user_id AND u.phone = v.phone \
             WHERE v.user_id = $1 AND v.phone = $3 AND v.code_hash IS NOT NULL AND v.verified_at IS NULL \
             ORDER BY v.sent_at DESC LIMIT 1 FOR UPDATE OF v",
        )
        .bind::<SqlUuid, _>(user_id)
        .bind::<diesel::sql_types::Integer, _>(CODE_LIFETIME.num_seconds() as i32)
        .bind::<Text, _>(&phone)
        .get_result(conn)
        .optional()?;
        // Wrong codes are counted per number too, whichever accounts type them: under the
        // number's lock, taken above, so that tries at one number are counted one by one.
        if let Some(refused) = limit::WRONG_CODES_PER_NUMBER.wait(conn, &phone)? {
            return Err(ApiError::TooManyAttempts {
                limit: limit::WRONG_CODES_PER_NUMBER.name,
                retry_after: refused.retry_after,
            });
        }
        let Some(pending) = pending.filter(|p| p.fresh && p.attempts < CODE_TRIES) else {
            return Err(ApiError::InvalidCode);
        };
        if code_hash(pending.id, code.trim()) != pending.code_hash {
            diesel::update(phone_verifications::table.find(pending.id))
                .set(phone_verifications::attempts.eq(phone_verifications::attempts + 1))
                .execute(conn)?;
            limit::WRONG_CODES_PER_NUMBER.record(conn, &phone)?;
            // The wrong try is stored; the answer says so.
            return Ok(Err(ApiError::InvalidCode));
        }
        diesel::update(phone_verifications::table.find(pending.id))
            .set(phone_verifications::verified_at.eq(Utc::now()))
            .execute(conn)?;
        if holders == PhoneHolders::VerifiedTakes {
            diesel::update(
                users::table
                    .filter(users::phone.eq(&pending.phone))
                    .filter(users::id.ne(user_id))
                    .filter(users::phone_verified.eq(false)),
            )
            .set((users::phone.eq(None::<String>), users::updated_at.eq(Utc::now())))
            .execute(conn)?;
        }
        // Still the number the code was sent to: a change of the user's own phone that
        // committed meanwhile (it is locked under the new number) leaves nothing proven.
        let proven = diesel::update(users::table.find(user_id).filter(users::phone.eq(&pending.phone)))
            .set((users::phone_verified.eq(true), users::updated_at.eq(Utc::now())))
            .returning(User::as_returning())
            .get_result(conn)
            .optional()
            .map_err(|e| match &e {
                diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _) => {
                    ApiError::Taken(vec![Unique::Phone])
                }
                _ => e.into(),
            })?;
        proven.map(Ok).ok_or(ApiError::InvalidCode)
    })?
}
