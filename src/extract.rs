//! `ApiJson<T>`: the JSON body extractor with the contract's error rules. Unparsable JSON is
//! 400; a well-formed body with a field of the wrong type is 422 naming that field (serde's
//! own error would not say which); failed validation rules are 422 per field; an empty body
//! counts as `{}` for endpoints whose fields are all optional. The size limit and the
//! content type are checked earlier, in the request guard.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use validator::Validate;

use crate::error::{ApiError, FieldError};
use crate::middleware::request_guard::BODY_LIMIT;

/// A validated JSON request body.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned + Validate + 'static> FromRequest for ApiJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = body.await.map_err(|_| ApiError::PayloadTooLarge)?;
            parse(&bytes).map(ApiJson)
        })
    }
}

/// Parses and validates a body; shared with the idempotency layer, which reads raw bytes.
pub fn parse<T: DeserializeOwned + Validate>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value = if bytes.iter().all(u8::is_ascii_whitespace) {
        serde_json::Value::Object(Default::default())
    } else {
        serde_json::from_slice(bytes).map_err(|e| ApiError::MalformedRequest(e.to_string()))?
    };
    if !value.is_object() {
        return Err(ApiError::field("body", "invalid_type"));
    }
    if let Some(field) = nul_path(&value, "") {
        // Valid JSON, but PostgreSQL text cannot hold U+0000, and no field of ours needs it.
        return Err(ApiError::field(field, "invalid_characters"));
    }
    let parsed: T = serde_path_to_error::deserialize(value).map_err(|e| {
        let field = e.path().to_string();
        let field = if field == "." { "body".to_owned() } else { field };
        ApiError::Validation(vec![FieldError::new(field, "invalid_type")])
    })?;
    parsed.validate()?;
    Ok(parsed)
}

/// The path of the first string (or key) that contains U+0000.
fn nul_path(value: &serde_json::Value, path: &str) -> Option<String> {
    use serde_json::Value;
    let join = |key: &str| if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") };
    match value {
        Value::String(s) if s.contains('\0') => Some(if path.is_empty() { "body".to_owned() } else { path.to_owned() }),
        Value::Object(map) => {
            map.iter().find_map(|(k, v)| if k.contains('\0') { Some(join(k)) } else { nul_path(v, &join(k)) })
        }
        Value::Array(items) => items.iter().enumerate().find_map(|(i, v)| nul_path(v, &join(&i.to_string()))),
        _ => None,
    }
}

/// Registers the body limit for the `Bytes` extractor that `ApiJson` uses.
pub fn payload_config() -> web::PayloadConfig {
    web::PayloadConfig::new(BODY_LIMIT)
}
