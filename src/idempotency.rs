//! The `Idempotency-Key` header (after the IETF draft and Stripe): a client that retries an
//! unsafe request with the same key and body gets the first response again, never a second
//! effect. The records live in [`crate::models::idempotency`]; this module decides what to
//! store, and turns a stored response back into an HTTP answer.
//!
//! Handlers check authentication, role and body first, so 401, 403 and 422 are never stored.
//! Stored and replayed are the outcomes of a request that actually ran: its success, and the
//! errors in [`is_replayed`]. Any other failure (a 5xx) releases the key for a retry.
//!
//! Ours on purpose: no actix crate implements the draft, and the guarantee we need (the effect
//! and its stored answer commit in one transaction) lives in our own database.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use diesel::PgConnection;
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::codes::FieldCode;
use crate::db::Db;
use crate::error::ApiError;
use crate::models::idempotency::{Begun, Key};
use crate::preferences::Lang;

/// The request header.
pub const HEADER: &str = "Idempotency-Key";

/// The response header that marks a replay.
pub const REPLAYED: &str = "Idempotent-Replayed";

/// An unsafe request that may carry an `Idempotency-Key`.
pub struct Idempotent {
    /// Only a request with a key stores anything, so only it needs the rest.
    keyed: Option<Keyed>,
}

struct Keyed {
    key: String,
    /// The fingerprint of the body the key was sent with.
    fingerprint: [u8; 32],
    /// Stored error bodies are rendered in the language the first request asked for, so that
    /// a replay is byte for byte the first answer.
    lang: Lang,
}

impl Idempotent {
    /// Reads the header (422 `Idempotency-Key` `invalid_format` unless 1..=255 printable
    /// ASCII characters) and fingerprints `body`, which the handler has already validated.
    pub fn new(req: &HttpRequest, body: &[u8]) -> Result<Self, ApiError> {
        let invalid = || ApiError::field(HEADER, FieldCode::InvalidFormat);
        let mut values = req.headers().get_all(HEADER);
        let key = match (values.next(), values.next()) {
            (None, _) => None,
            (Some(value), None) => {
                let bytes = value.as_bytes();
                if bytes.is_empty() || bytes.len() > 255 || !bytes.iter().all(|b| (0x20..=0x7e).contains(b)) {
                    return Err(invalid());
                }
                Some(value.to_str().map_err(|_| invalid())?.to_owned())
            }
            // Two keys on one request: which one would the client retry with?
            (Some(_), Some(_)) => return Err(invalid()),
        };
        let keyed = match key {
            Some(key) => Some(Keyed { key, fingerprint: fingerprint(body)?, lang: Lang::of(req) }),
            None => None,
        };
        Ok(Self { keyed })
    }

    /// Runs `effect` and answers `success` with the JSON it returns, at most once per key:
    /// with a key, the effect and its response commit together, in the transaction that holds
    /// the key, and a repeated request gets the stored response with `Idempotent-Replayed: true`.
    /// Besides the response: what the effect left for after its commit (a card to announce),
    /// when it ran now, not for a replay or a stored failure.
    pub async fn run<F, A>(
        self,
        db: &Db,
        user_id: Uuid,
        endpoint: String,
        success: StatusCode,
        effect: F,
    ) -> Result<(HttpResponse, Option<A>), ApiError>
    where
        F: FnOnce(&mut PgConnection) -> Result<(Value, A), ApiError> + Send + 'static,
        A: Send + 'static,
    {
        let Some(Keyed { key, fingerprint, lang }) = self.keyed else {
            // No transaction of ours: a stamp is one statement, and an effect of several makes
            // its own (a round trip each for BEGIN and COMMIT is a third of a stamp's cost).
            let (body, after) = db.run(effect).await?;
            return Ok((HttpResponse::build(success).json(body), Some(after)));
        };
        let key = Key { user_id, endpoint, key };
        // An error that is not a stored answer (a 5xx) rolls everything back, the key included:
        // a retry runs the effect.
        let outcome = db
            .transaction(move |conn| {
                if let Begun::Done { status, body } = key.begin(conn, &fingerprint)? {
                    return Ok(Outcome::Replay { status, body });
                }
                let result = effect(conn);
                let (status, stored) = match &result {
                    Ok((body, _)) => (success, body.clone()),
                    Err(err) if is_replayed(err) => (err.status_code(), err.problem().body(lang)),
                    Err(_) => return result.map(|done| Outcome::Ran(Ok(done))),
                };
                key.store(conn, &fingerprint, status.as_u16(), &stored)?;
                // A stored error is committed like a success, and answered as it was stored.
                Ok(Outcome::Ran(result))
            })
            .await?;
        match outcome {
            Outcome::Ran(result) => {
                let (body, after) = result?;
                Ok((HttpResponse::build(success).json(body), Some(after)))
            }
            Outcome::Replay { status, body } => Ok((replay(status, &body)?, None)),
        }
    }
}

/// What the key's transaction came to.
enum Outcome<A> {
    Ran(Result<(Value, A), ApiError>),
    Replay { status: i16, body: Value },
}

/// The failures that are a request's real answer, stored and replayed like a success.
fn is_replayed(err: &ApiError) -> bool {
    matches!(
        err,
        ApiError::CustomerNotFound
            | ApiError::CardCodeNotFound
            | ApiError::InsufficientStamps { .. }
            | ApiError::AlreadyVoided
    )
}

/// The stored response again, marked as a replay.
fn replay(status: i16, body: &Value) -> Result<HttpResponse, ApiError> {
    let status = u16::try_from(status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or_else(|| anyhow::anyhow!("stored idempotent status {status} is not a status"))?;
    let content_type = if status.is_success() { "application/json" } else { "application/problem+json" };
    Ok(HttpResponse::build(status).content_type(content_type).insert_header((REPLAYED, "true")).body(body.to_string()))
}

/// SHA-256 of the body's canonical JSON: the same JSON value, whatever its key order and
/// whitespace, has one fingerprint. An empty body is `{}`, as for the handlers.
fn fingerprint(body: &[u8]) -> Result<[u8; 32], ApiError> {
    let value: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Default::default())
    } else {
        serde_json::from_slice(body).map_err(|e| ApiError::MalformedRequest(e.to_string()))?
    };
    let mut text = String::new();
    canonical(&value, &mut text);
    Ok(Sha256::digest(text.as_bytes()).into())
}

/// Compact JSON with object keys sorted. Written out rather than trusting `Value`'s map to be
/// sorted: any crate turning on serde_json's `preserve_order` would silently change that.
fn canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (name, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(name.clone()).to_string());
                out.push(':');
                canonical(value, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_json_value_has_one_fingerprint() {
        let a = fingerprint(br#"{"phone": "010-1234-5678", "count": 2, "x": {"b": [1, {"d": 1, "c": 2}], "a": null}}"#);
        let b = fingerprint(br#"{"x":{"a":null,"b":[1,{"c":2,"d":1}]},"count":2,"phone":"010-1234-5678"}"#);
        assert_eq!(a.unwrap(), b.unwrap());
        assert_ne!(fingerprint(br#"{"count": 2}"#).unwrap(), fingerprint(br#"{"count": 3}"#).unwrap());
        assert_eq!(fingerprint(b"").unwrap(), fingerprint(b" {} ").unwrap());
    }
}
