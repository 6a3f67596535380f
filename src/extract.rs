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
    let parsed: T = serde_path_to_error::deserialize(value).map_err(|e| {
        let field = e.path().to_string();
        let field = if field == "." { "body".to_owned() } else { field };
        ApiError::Validation(vec![FieldError::new(field, "invalid_type")])
    })?;
    parsed.validate()?;
    Ok(parsed)
}

/// Registers the body limit for the `Bytes` extractor that `ApiJson` uses.
pub fn payload_config() -> web::PayloadConfig {
    web::PayloadConfig::new(BODY_LIMIT)
}
