//! `/api/v1/reports`: the owner's figures per day and per barista, and every event as CSV.
//! Admins only; they read from the replica when there is one ([`ReportDb`]).

use std::borrow::Cow;
use std::io;

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{web, HttpResponse};
use chrono::{Days, NaiveDate};
use diesel::PgConnection;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::mpsc;

use crate::codes::FieldCode;
use crate::config::Config;
use crate::db::ReportDb;
use crate::error::ApiError;
use crate::models::report::{self, ExportedEvent, Range, MAX_DAYS};
use crate::problem::FieldError;
use crate::session::CurrentUser;

/// `?from=&to=`: dates (`2026-12-02`), both included; the default is the 30 days ending today.
#[derive(Debug, Deserialize)]
pub struct RangeQuery {
    from: Option<String>,
    to: Option<String>,
}

/// Days in the default range.
const DEFAULT_DAYS: u64 = 30;

/// The range a query asks for, every bad field at once (422).
async fn range(query: RangeQuery, reports: &ReportDb, config: &Config) -> Result<Range, ApiError> {
    let date = |field: &'static str, text: &Option<String>, errors: &mut Vec<FieldError>| match text.as_deref() {
        None => None,
        Some(text) => {
            let parsed = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().filter(|_| text.len() == 10);
            if parsed.is_none() {
                errors.push(FieldError::new(field, FieldCode::InvalidFormat));
            }
            parsed
        }
    };
    let mut errors = Vec::new();
    let (from, to) = (date("from", &query.from, &mut errors), date("to", &query.to, &mut errors));
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let time_zone = config.timezone.clone();
    let to = match to {
        Some(to) => to,
        None => {
            let zone = time_zone.clone();
            reports.run(move |conn| report::today(conn, &zone)).await?
        }
    };
    let from = from.or_else(|| to.checked_sub_days(Days::new(DEFAULT_DAYS - 1))).unwrap_or(to);
    let days = (to - from).num_days() + 1;
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(ApiError::field("to", FieldCode::OutOfRange));
    }
    Ok(Range { from, to, time_zone })
}

/// The range's own fields of an answer, so that a client sees what the defaults became.
fn described(range: &Range) -> serde_json::Value {
    json!({"from": range.from, "to": range.to, "time_zone": range.time_zone})
}

/// An admin's report over the range the query asks for: the range's fields and its `items`.
async fn answer<T: Serialize + Send + 'static>(
    current: CurrentUser,
    reports: &ReportDb,
    config: &Config,
    query: RangeQuery,
    items: fn(&mut PgConnection, &Range) -> Result<Vec<T>, ApiError>,
) -> Result<HttpResponse, ApiError> {
    current.require_admin()?;
    let range = range(query, reports, config).await?;
    let mut body = described(&range);
    body["items"] = json!(reports.run(move |conn| items(conn, &range)).await?);
    Ok(HttpResponse::Ok().json(body))
}

/// `GET /api/v1/reports/daily`: one row per day of the range, days without activity included.
pub async fn daily(
    current: CurrentUser,
    reports: web::Data<ReportDb>,
    config: web::Data<Config>,
    query: web::Query<RangeQuery>,
) -> Result<HttpResponse, ApiError> {
    answer(current, &reports, &config, query.into_inner(), report::daily).await
}

/// `GET /api/v1/reports/staff`: what each barista and admin did in the range.
pub async fn staff(
    current: CurrentUser,
    reports: web::Data<ReportDb>,
    config: web::Data<Config>,
    query: web::Query<RangeQuery>,
) -> Result<HttpResponse, ApiError> {
    answer(current, &reports, &config, query.into_inner(), report::staff).await
}

/// The export's columns.
const COLUMNS: [&str; 12] = [
    "id",
    "created_at",
    "date",
    "kind",
    "count",
    "balance_after",
    "customer_id",
    "phone",
    "by",
    "by_id",
    "voids",
    "reason",
];

/// Bytes gathered before they are sent; also the most the export holds per client.
const CHUNK: usize = 32 * 1024;

/// `GET /api/v1/reports/events.csv`: every event of the range, oldest first, streamed while
/// PostgreSQL sends the rows. Needs a recent password proof: the whole customer list's phones
/// leave with it.
pub async fn events_csv(
    current: CurrentUser,
    reports: web::Data<ReportDb>,
    config: web::Data<Config>,
    query: web::Query<RangeQuery>,
) -> Result<HttpResponse, ApiError> {
    current.require_admin()?;
    current.require_recent_proof(config.reauth_window())?;
    let range = range(query.into_inner(), &reports, &config).await?;
    let filename = format!("stamp-events-{}-to-{}.csv", range.from, range.to);
    // A few chunks in flight: a slow client holds the export (and its connection) back rather
    // than the server buffering the whole range for it.
    let (chunks, mut received) = mpsc::channel::<io::Result<Bytes>>(4);
    reports.start("an export", move |conn| export(conn, &range, &chunks)).await?;
    let body = futures_util::stream::poll_fn(move |cx| received.poll_recv(cx));
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")))
        .streaming(body))
}

/// Writes the range's events as CSV into `chunks`. A failure after the first bytes cannot be a
/// problem+json any more: the stream ends with an error, so the client sees a broken download
/// rather than a short file that looks whole.
fn export(conn: &mut PgConnection, range: &Range, chunks: &mpsc::Sender<io::Result<Bytes>>) -> Result<(), ApiError> {
    let mut csv = csv::Writer::from_writer(Chunks { buffer: Vec::with_capacity(CHUNK * 2), to: chunks });
    // A write fails only when the client has gone: then the rows stop.
    let mut client_left = csv.write_record(COLUMNS).is_err();
    let result = report::each_event(conn, range, |event| {
        client_left = csv.write_record(record(&event)).is_err();
        !client_left
    });
    match result {
        Ok(()) => {
            let _ = csv.flush();
            Ok(())
        }
        Err(err) => {
            let _ = chunks.blocking_send(Err(io::Error::other("the export failed")));
            Err(err)
        }
    }
}

/// The response body as `csv` writes it: sent in chunks of [`CHUNK`] bytes.
struct Chunks<'a> {
    buffer: Vec<u8>,
    to: &'a mpsc::Sender<io::Result<Bytes>>,
}

impl Chunks<'_> {
    fn send(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK * 2)));
        self.to.blocking_send(Ok(chunk)).map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client left"))
    }
}

impl io::Write for Chunks<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= CHUNK {
            self.send()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

/// One event's cells, in [`COLUMNS`]' order.
fn record(e: &ExportedEvent) -> [String; 12] {
    let text = |value: &Option<String>| value.as_deref().map_or_else(String::new, |v| inert(v).into_owned());
    let id = |value: Option<uuid::Uuid>| value.map_or_else(String::new, |id| id.to_string());
    [
        e.id.to_string(),
        crate::time_format::rfc3339(&e.created_at),
        e.date.to_string(),
        e.kind.clone(),
        e.count.to_string(),
        e.balance_after.to_string(),
        e.customer_id.to_string(),
        e.phone.clone().unwrap_or_default(),
        text(&e.by),
        id(e.by_id),
        id(e.voids),
        text(&e.reason),
    ]
}

/// Free text as a spreadsheet will not run it: a cell that begins with `=`, `+`, `-` or `@`
/// (or a tab or carriage return, which some spreadsheets skip before one) is a formula to
/// Excel and LibreOffice, so it gets a leading `'` (OWASP's CSV injection advice). Phones are
/// not free text: they stay E.164.
fn inert(text: &str) -> Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_a_spreadsheet_would_run_gets_a_quote_and_others_stay() {
        for formula in ["=1+1", "+82", "-2", "@SUM(A1)", "\t=1", "\r=1"] {
            assert_eq!(inert(formula), format!("'{formula}"));
        }
        for plain in ["kim", "잘못 찍음", "a=b", "", "'quoted"] {
            assert_eq!(inert(plain), plain);
        }
    }
}
