//! Password reset tokens. The token itself is only ever in the mail; the table holds its
//! SHA-256, so a leaked table (or backup) resets nobody's password. A token is good for 30
//! minutes and once; a newer token, a password change or a login of its user ends it.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::ApiError;
use crate::schema::password_reset_tokens as tokens;

/// How long a reset link works.
pub const TOKEN_LIFETIME: Duration = Duration::minutes(30);

fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A new token for the user (256 random bits, URL-safe), ending any older one.
pub fn issue(conn: &mut PgConnection, user_id: Uuid) -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    end_all(conn, user_id)?;
    diesel::insert_into(tokens::table)
        .values((
            tokens::token_hash.eq(hash(&token)),
            tokens::user_id.eq(user_id),
            tokens::expires_at.eq(Utc::now() + TOKEN_LIFETIME),
        ))
        .execute(conn)?;
    Ok(token)
}

/// Whether a token is known and still good (it may be used up by the time it is redeemed).
pub fn is_valid(conn: &mut PgConnection, token: &str) -> Result<bool, ApiError> {
    let valid = tokens::table.filter(tokens::token_hash.eq(hash(token))).filter(tokens::expires_at.gt(Utc::now()));
    Ok(diesel::select(diesel::dsl::exists(valid)).get_result(conn)?)
}

/// Uses up a token: the user it was for, if it is known and still good. Deleting it is what
/// makes it single-use, even for two confirmations at the same moment.
pub fn redeem(conn: &mut PgConnection, token: &str) -> Result<Option<Uuid>, ApiError> {
    Ok(diesel::delete(
        tokens::table.filter(tokens::token_hash.eq(hash(token))).filter(tokens::expires_at.gt(Utc::now())),
    )
    .returning(tokens::user_id)
    .get_result(conn)
    .optional()?)
}

/// Ends every token of the user (a login, a password change, a completed reset).
pub fn end_all(conn: &mut PgConnection, user_id: Uuid) -> Result<(), ApiError> {
    diesel::delete(tokens::table.filter(tokens::user_id.eq(user_id))).execute(conn)?;
    Ok(())
}

/// Forgets expired tokens.
pub fn purge(conn: &mut PgConnection) -> Result<usize, ApiError> {
    Ok(diesel::delete(tokens::table.filter(tokens::expires_at.le(Utc::now()))).execute(conn)?)
}
