//! Proving an email address: links mailed to it. As with reset tokens, the token itself is only
//! ever in the mail (made by the outbox worker as it sends it); the table holds its SHA-256 and
//! the address it was sent to. A link is good for 24 hours and once, and only while the address
//! is still the user's; a newer link or a change of the address ends it (a login does not).

use chrono::{Duration, Utc};
use diesel::prelude::*;
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::ApiError;
use crate::models::user::User;
use crate::schema::{email_verification_tokens as tokens, users};

/// How long a verification link works.
pub const LINK_LIFETIME: Duration = Duration::hours(24);

fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A new link token for the user's current address (256 random bits), ending any older one;
/// `None` when the user no longer has the address `email_key` (nothing to send).
pub fn issue(conn: &mut PgConnection, user_id: Uuid, email_key: &str) -> Result<Option<String>, ApiError> {
    let current: Option<Option<String>> = users::table.find(user_id).select(users::email_key).first(conn).optional()?;
    if current.flatten().as_deref() != Some(email_key) {
        return Ok(None);
    }
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    end_all(conn, user_id)?;
    diesel::insert_into(tokens::table)
        .values((
            tokens::token_hash.eq(hash(&token)),
            tokens::user_id.eq(user_id),
            tokens::email_key.eq(email_key),
            tokens::expires_at.eq(Utc::now() + LINK_LIFETIME),
        ))
        .execute(conn)?;
    Ok(Some(token))
}

/// Uses up a token and marks the address it was sent to verified, if that is still the user's
/// address; 422 `invalid_token` otherwise (unknown, used, expired, or the address changed).
pub fn confirm(conn: &mut PgConnection, token: &str) -> Result<User, ApiError> {
    conn.transaction(|conn| {
        let (user_id, email_key): (Uuid, String) = diesel::delete(
            tokens::table.filter(tokens::token_hash.eq(hash(token))).filter(tokens::expires_at.gt(Utc::now())),
        )
        .returning((tokens::user_id, tokens::email_key))
        .get_result(conn)
        .optional()?
        .ok_or(ApiError::InvalidToken)?;
        diesel::update(users::table.find(user_id).filter(users::email_key.eq(&email_key)))
            .set((users::email_verified.eq(true), users::updated_at.eq(Utc::now())))
            .returning(User::as_returning())
            .get_result(conn)
            .optional()?
            .ok_or(ApiError::InvalidToken)
    })
}

/// Ends every link of the user (the address changed).
pub fn end_all(conn: &mut PgConnection, user_id: Uuid) -> Result<(), ApiError> {
    diesel::delete(tokens::table.filter(tokens::user_id.eq(user_id))).execute(conn)?;
    Ok(())
}

/// Forgets expired links.
pub fn purge(conn: &mut PgConnection) -> Result<usize, ApiError> {
    Ok(diesel::delete(tokens::table.filter(tokens::expires_at.le(Utc::now()))).execute(conn)?)
}
