//! The owner's reports: what happened per calendar day and per barista, and every event of a
//! range for the export.
//!
//! Days are the cafe's (`STAMPCARD_TIMEZONE`), and PostgreSQL does the calendar: a day runs
//! from its local midnight to the next, whatever their distance in hours (a day with a
//! daylight-saving change has 23 or 25), and the days of a range come from `generate_series`
//! over dates, so a day without activity is a row of zeros.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::pg::{Pg, PgRowByRowLoadingMode};
use diesel::prelude::*;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::sql_types::{BigInt, Date, Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use serde::Serialize;
use uuid::Uuid;

use super::audit::Named;
use crate::error::ApiError;

/// The longest range a report or the export covers, in days.
pub const MAX_DAYS: i64 = 366;

/// Calendar days `from` to `to`, both included, in the cafe's time zone.
#[derive(Debug, Clone)]
pub struct Range {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub time_zone: String,
}

/// `column` within the range, in SQL whose `$1` is the first day, `$2` the last, `$3` the zone.
fn within(column: &str) -> String {
    format!(
        "{column} >= ($1::date::timestamp AT TIME ZONE $3) \
         AND {column} < (($2::date + 1)::timestamp AT TIME ZONE $3)"
    )
}

/// `sql` with the range bound to `$1`, `$2` and `$3`.
fn ranged(sql: String, range: &Range) -> BoxedSqlQuery<'static, Pg, SqlQuery> {
    diesel::sql_query(sql)
        .into_boxed()
        .bind::<Date, _>(range.from)
        .bind::<Date, _>(range.to)
        .bind::<Text, _>(range.time_zone.clone())
}

/// One day of `GET /api/v1/reports/daily`.
#[derive(Debug, Serialize, QueryableByName, PartialEq)]
pub struct Day {
    #[diesel(sql_type = Date)]
    pub date: NaiveDate,
    /// Stamps given: the counts of `earned` events, voided ones included.
    #[diesel(sql_type = BigInt)]
    pub stamps: i64,
    /// Rewards redeemed (one `redeemed` event each), voided ones included.
    #[diesel(sql_type = BigInt)]
    pub redemptions: i64,
    /// `voided` events.
    #[diesel(sql_type = BigInt)]
    pub voids: i64,
    /// Customers who signed up that day (and still have an account).
    #[diesel(sql_type = BigInt)]
    pub new_customers: i64,
    /// Cards with any event that day.
    #[diesel(sql_type = BigInt)]
    pub active_customers: i64,
}

/// The cafe's date today.
pub fn today(conn: &mut PgConnection, time_zone: &str) -> Result<NaiveDate, ApiError> {
    #[derive(QueryableByName)]
    struct Today {
        #[diesel(sql_type = Date)]
        today: NaiveDate,
    }
    let row: Today = diesel::sql_query("SELECT (now() AT TIME ZONE $1)::date AS today")
        .bind::<Text, _>(time_zone)
        .get_result(conn)?;
    Ok(row.today)
}

/// Fails unless PostgreSQL knows `time_zone` (an abbreviation such as `KST` is refused too:
/// the setting it is tried on takes zone names only).
pub fn check_time_zone(conn: &mut PgConnection, time_zone: &str) -> QueryResult<()> {
    conn.transaction(|conn| {
        diesel::sql_query("SELECT set_config('timezone', $1, true)").bind::<Text, _>(time_zone).execute(conn)
    })?;
    Ok(())
}

/// Every day of the range, in order.
pub fn daily(conn: &mut PgConnection, range: &Range) -> Result<Vec<Day>, ApiError> {
    let sql = format!(
        "WITH days AS (
            SELECT d::date AS date FROM generate_series($1::date, $2::date, interval '1 day') AS d
        ), events AS (
            SELECT (created_at AT TIME ZONE $3)::date AS date,
                   coalesce(sum(count) FILTER (WHERE kind = 'earned'), 0) AS stamps,
                   count(*) FILTER (WHERE kind = 'redeemed') AS redemptions,
                   count(*) FILTER (WHERE kind = 'voided') AS voids,
                   count(DISTINCT user_id) AS active_customers
            FROM stamp_events WHERE {events} GROUP BY 1
        ), signups AS (
            SELECT (created_at AT TIME ZONE $3)::date AS date, count(*) AS new_customers
            FROM users WHERE role = 'customer' AND {signups} GROUP BY 1
        )
        SELECT days.date, coalesce(stamps, 0)::bigint AS stamps, coalesce(redemptions, 0) AS redemptions,
               coalesce(voids, 0) AS voids, coalesce(new_customers, 0) AS new_customers,
               coalesce(active_customers, 0) AS active_customers
        FROM days LEFT JOIN events USING (date) LEFT JOIN signups USING (date)
        ORDER BY days.date",
        events = within("created_at"),
        signups = within("created_at"),
    );
    Ok(ranged(sql, range).load(conn)?)
}

/// One person of `GET /api/v1/reports/staff`.
#[derive(Debug, Serialize, PartialEq)]
pub struct StaffMember {
    pub user: Named,
    pub stamps: i64,
    pub redemptions: i64,
    pub voids: i64,
}

/// Every active staff member and admin, and anyone else who stamped, redeemed or voided in the
/// range (a former barista; `username` null once the account is gone): most stamps first.
pub fn staff(conn: &mut PgConnection, range: &Range) -> Result<Vec<StaffMember>, ApiError> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
        #[diesel(sql_type = Nullable<Text>)]
        username: Option<String>,
        #[diesel(sql_type = BigInt)]
        stamps: i64,
        #[diesel(sql_type = BigInt)]
        redemptions: i64,
        #[diesel(sql_type = BigInt)]
        voids: i64,
    }
    let sql = format!(
        "WITH work AS (
            SELECT issued_by AS id,
                   coalesce(sum(count) FILTER (WHERE kind = 'earned'), 0)::bigint AS stamps,
                   count(*) FILTER (WHERE kind = 'redeemed') AS redemptions,
                   count(*) FILTER (WHERE kind = 'voided') AS voids
            FROM stamp_events WHERE issued_by IS NOT NULL AND {events} GROUP BY issued_by
        ), people AS (
            SELECT id FROM users WHERE role IN ('staff', 'admin') AND is_active
            UNION SELECT id FROM work
        )
        SELECT people.id, users.username, coalesce(stamps, 0) AS stamps,
               coalesce(redemptions, 0) AS redemptions, coalesce(voids, 0) AS voids
        FROM people LEFT JOIN work USING (id) LEFT JOIN users USING (id)
        ORDER BY stamps DESC, users.username_key NULLS LAST, people.id",
        events = within("created_at"),
    );
    let rows: Vec<Row> = ranged(sql, range).load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| StaffMember {
            user: Named { id: r.id, username: r.username },
            stamps: r.stamps,
            redemptions: r.redemptions,
            voids: r.voids,
        })
        .collect())
}

/// One event of the export, with the names it refers to as they are now.
#[derive(Debug, QueryableByName)]
pub struct ExportedEvent {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    /// The cafe's calendar day of the event.
    #[diesel(sql_type = Date)]
    pub date: NaiveDate,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Integer)]
    pub count: i32,
    #[diesel(sql_type = Integer)]
    pub balance_after: i32,
    #[diesel(sql_type = SqlUuid)]
    pub customer_id: Uuid,
    /// The customer's phone, while the account exists.
    #[diesel(sql_type = Nullable<Text>)]
    pub phone: Option<String>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub by_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    pub by: Option<String>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub voids: Option<Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    pub reason: Option<String>,
}

/// Hands every event of the range to `each`, oldest first, one row at a time as PostgreSQL
/// sends them (libpq's single-row mode: memory stays flat whatever the range), until `each`
/// returns false.
pub fn each_event(
    conn: &mut PgConnection,
    range: &Range,
    mut each: impl FnMut(ExportedEvent) -> bool,
) -> Result<(), ApiError> {
    let sql = format!(
        "SELECT e.id, e.created_at, (e.created_at AT TIME ZONE $3)::date AS date, e.kind, e.count,
                e.balance_after, e.user_id AS customer_id, customer.phone, e.issued_by AS by_id,
                issuer.username AS by, e.voids, e.reason
         FROM stamp_events e
         LEFT JOIN users customer ON customer.id = e.user_id
         LEFT JOIN users issuer ON issuer.id = e.issued_by
         WHERE {events}
         ORDER BY e.seq",
        events = within("e.created_at"),
    );
    let rows = ranged(sql, range).load_iter::<ExportedEvent, PgRowByRowLoadingMode>(conn)?;
    for row in rows {
        if !each(row?) {
            break;
        }
    }
    Ok(())
}
