//! Card codes: what the customer's screen shows (as a QR code and as digits) and the barista
//! scans, so that the barista's screen, not the customer's, decides. Eight digits from the
//! operating system's random source, good for [`LIFETIME`], unique among live codes; a new code
//! ends the card's previous one, a redemption uses its code up (`card::Card::redeem`).

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Text, Timestamptz, Uuid as SqlUuid};
use rand::Rng;
use uuid::Uuid;

use crate::error::ApiError;
use crate::models::limit;

/// How long a code can be scanned.
pub const LIFETIME: Duration = Duration::seconds(120);

/// A new code for the user's card, ending the previous one: 429 past twenty codes per card per
/// ten minutes. In the caller's transaction.
pub fn issue(conn: &mut PgConnection, user_id: Uuid) -> Result<(String, DateTime<Utc>), ApiError> {
    limit::CARD_CODES_PER_CARD.take(conn, &user_id.to_string(), limit::CARD_CODES_PER_CARD.rates)?;
    diesel::sql_query("DELETE FROM card_codes WHERE user_id = $1").bind::<SqlUuid, _>(user_id).execute(conn)?;
    #[derive(QueryableByName)]
    struct Issued {
        #[diesel(sql_type = Timestamptz)]
        expires_at: DateTime<Utc>,
    }
    // A live code of another card is never taken over: another number is drawn (with a
    // hundred million numbers and a few hundred live codes, rarely more than once).
    for _ in 0..16 {
        let code = format!("{:08}", rand::rngs::OsRng.gen_range(0..100_000_000u32));
        let issued: Option<Issued> = diesel::sql_query(
            "INSERT INTO card_codes AS c (code, user_id, expires_at) VALUES ($1, $2, now() + make_interval(secs => $3)) \
             ON CONFLICT (code) DO UPDATE SET user_id = EXCLUDED.user_id, created_at = now(), \
                 expires_at = EXCLUDED.expires_at, used_at = NULL \
             WHERE c.expires_at <= now() OR c.used_at IS NOT NULL \
             RETURNING expires_at",
        )
        .bind::<Text, _>(&code)
        .bind::<SqlUuid, _>(user_id)
        .bind::<diesel::sql_types::Double, _>(LIFETIME.num_seconds() as f64)
        .get_result(conn)
        .optional()?;
        if let Some(issued) = issued {
            return Ok((code, issued.expires_at));
        }
    }
    Err(ApiError::Internal(anyhow::anyhow!("no free card code in 16 draws")))
}

/// Forgets codes that can no longer be scanned.
pub fn purge(conn: &mut PgConnection) -> Result<usize, ApiError> {
    Ok(diesel::sql_query("DELETE FROM card_codes WHERE expires_at <= now()").execute(conn)?)
}
