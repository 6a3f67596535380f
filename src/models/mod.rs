//! Rows, their invariants and their queries, one module per table group.

/// Stores a closed set (an enum deriving strum's `IntoStaticStr` and `EnumString`, and
/// Diesel's `AsExpression` and `FromSqlRow` with `sql_type = Text`) as its text: one spelling
/// of each value, the one strum derives, in the API, the CLI and the database alike. A text
/// the type does not know is an error when read, never a silent default; the table's `CHECK`
/// lists the same values.
macro_rules! text_enum {
    ($name:ident) => {
        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                use std::io::Write;
                out.write_all(<&'static str>::from(*self).as_bytes())?;
                Ok(diesel::serialize::IsNull::No)
            }
        }

        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn from_sql(bytes: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                let text = std::str::from_utf8(bytes.as_bytes())?;
                text.parse().map_err(|_| format!("unknown {} {text:?}", stringify!($name)).into())
            }
        }
    };
}

pub mod audit;
pub mod card;
pub mod card_code;
pub mod email;
pub mod idempotency;
pub mod limit;
pub mod outbox;
pub mod page;
pub mod phone;
pub mod report;
pub mod reset;
pub mod session;
pub mod statement;
pub mod throttle;
pub mod user;

/// Deletes what has run out: expired sessions, stale throttling rows, Idempotency-Keys past a
/// day, expired reset tokens, old outbox messages, audit entries past their retention. The
/// server calls it periodically (and `stampcard sessions purge`, for the sessions). Returns
/// how many rows went.
pub fn purge_expired(conn: &mut diesel::PgConnection) -> Result<usize, crate::error::ApiError> {
    Ok(session::Session::purge_expired(conn)?
        + throttle::purge(conn)?
        + idempotency::purge(conn)?
        + reset::purge(conn)?
        + email::purge(conn)?
        + card_code::purge(conn)?
        + limit::purge(conn)?
        + outbox::purge(conn)?
        + audit::purge(conn)?)
}
