//! A problem document (RFC 9457) before and after it is put into words: what an error
//! becomes on the wire, in the client's language. [`crate::error::ApiError`] makes one for every
//! failure; the problem middleware renders the ones made outside our handlers.

use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;
use serde_json::{json, Map, Value};

use crate::codes::{Code, FieldCode};
use crate::messages;
use crate::preferences::Lang;

/// One invalid field of a 422 answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The request field, as the client spelled it (`password`, `count`).
    pub field: String,
    pub code: FieldCode,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: FieldCode) -> Self {
        Self { field: field.into(), code }
    }
}

/// A wait as a `Retry-After` value: whole seconds, rounded up, and never 0, so that a client
/// that waits that long may try again.
pub fn retry_after_secs(wait_ms: i64) -> u64 {
    (wait_ms.max(0) as u64).div_ceil(1000).max(1)
}

/// A problem document before it is put into words: status, code, field codes, extra members.
/// The problem middleware renders it in the client's language ([`Problem::render`]).
#[derive(Debug, Clone)]
pub struct Problem {
    pub status: StatusCode,
    pub code: Code,
    pub errors: Vec<FieldError>,
    pub extra: Map<String, Value>,
    pub headers: Vec<(header::HeaderName, String)>,
    /// The limit that refused the request (429, or the SMS budget's 503): counted by the
    /// request log, never rendered.
    pub limit: Option<&'static str>,
}

impl Problem {
    pub fn new(code: Code) -> Self {
        Self { status: code.status(), code, errors: Vec::new(), extra: Map::new(), headers: Vec::new(), limit: None }
    }

    /// The generic problem for a status produced outside our handlers (actix, a middleware).
    pub fn for_status(status: StatusCode) -> Self {
        Self { status, ..Self::new(Code::for_status(status)) }
    }

    /// The JSON body in `lang`.
    pub fn body(&self, lang: Lang) -> Value {
        let mut body = Map::new();
        body.insert("type".into(), json!(format!("tag:stampcard,2026:problem:{}", self.code.as_str())));
        body.insert("title".into(), json!(messages::title(lang, self.code)));
        body.insert("status".into(), json!(self.status.as_u16()));
        body.insert("detail".into(), json!(messages::detail(lang, self.code)));
        body.insert("code".into(), json!(self.code));
        if self.status == StatusCode::UNPROCESSABLE_ENTITY || !self.errors.is_empty() {
            let errors: Vec<Value> = self
                .errors
                .iter()
                .map(|e| json!({"field": e.field, "code": e.code, "message": messages::field(lang, &e.field, e.code)}))
                .collect();
            body.insert("errors".into(), Value::Array(errors));
        }
        body.extend(self.extra.clone());
        Value::Object(body)
    }

    /// The full response in `lang`; the problem itself rides along in the response
    /// extensions so that the problem middleware can render it again in another language.
    pub fn render(&self, lang: Lang) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.content_type("application/problem+json");
        for (name, value) in &self.headers {
            response.insert_header((name.clone(), value.as_str()));
        }
        let mut response = response.body(self.body(lang).to_string());
        response.extensions_mut().insert(self.clone());
        response
    }

    pub fn into_response(self) -> HttpResponse {
        self.render(Lang::En)
    }
}
