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

use crate::codes::FieldCode;
use crate::config::{Config, PhoneRegions};
use crate::error::ApiError;
use crate::fields;
use crate::problem::FieldError;

/// The largest request body we read (the request guard refuses a larger one before reading).
pub const BODY_LIMIT: usize = 16 * 1024;

/// A validated JSON request body.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned + Validate + 'static> FromRequest for ApiJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Bytes::from_request(req, payload);
        let regions = phone_regions(req);
        Box::pin(async move {
            let bytes = body.await.map_err(|_| ApiError::PayloadTooLarge)?;
            parse_with(&bytes, regions.as_ref()).map(ApiJson)
        })
    }
}

/// The phone regions the server accepts (`STAMPCARD_PHONE_REGIONS`).
fn phone_regions(req: &HttpRequest) -> Option<PhoneRegions> {
    req.app_data::<web::Data<Config>>().map(|config| config.phone_regions.clone())
}

/// Parses and validates the body of `req`; shared with the idempotency layer, which reads raw
/// bytes.
pub fn parse<T: DeserializeOwned + Validate>(req: &HttpRequest, bytes: &[u8]) -> Result<T, ApiError> {
    parse_with(bytes, phone_regions(req).as_ref())
}

fn parse_with<T: DeserializeOwned + Validate>(bytes: &[u8], regions: Option<&PhoneRegions>) -> Result<T, ApiError> {
    match regions {
        Some(regions) => fields::with_phone_regions(regions, || parse_body(bytes)),
        None => parse_body(bytes),
    }
}

fn parse_body<T: DeserializeOwned + Validate>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value = if bytes.iter().all(u8::is_ascii_whitespace) {
        serde_json::Value::Object(Default::default())
    } else {
        serde_json::from_slice(bytes).map_err(|e| ApiError::MalformedRequest(e.to_string()))?
    };
    if !value.is_object() {
        return Err(ApiError::field("body", FieldCode::InvalidType));
    }
    if let Some(field) = nul_path(&value, "") {
        // Valid JSON, but PostgreSQL text cannot hold U+0000, and no field of ours needs it.
        return Err(ApiError::field(field, FieldCode::InvalidCharacters));
    }
    let mut value = value;
    let mut errors = Vec::new();
    // serde stops at the first field of the wrong type; to name every one, each such field is
    // noted and taken out, and the rest is read again.
    let parsed: T = loop {
        let err = match serde_path_to_error::deserialize(&value) {
            Ok(parsed) => break parsed,
            Err(err) => err,
        };
        let top = match err.path().iter().next() {
            Some(serde_path_to_error::Segment::Map { key }) => Some(key.clone()),
            _ => None,
        };
        let field = err.path().to_string();
        errors.push(FieldError::new(if field == "." { "body".to_owned() } else { field }, FieldCode::InvalidType));
        match top.and_then(|key| value.as_object_mut()?.remove(&key)) {
            Some(_) => continue,
            None => return Err(ApiError::Validation(errors)),
        }
    };
    if let Err(ApiError::Validation(invalid)) = parsed.validate().map_err(ApiError::from) {
        // A field taken out above would now also be "required": it is already named.
        let named: Vec<String> = errors.iter().map(|e| e.field.clone()).collect();
        errors.extend(invalid.into_iter().filter(|e| !named.contains(&e.field)));
    }
    if errors.is_empty() {
        Ok(parsed)
    } else {
        errors.sort_by(|a, b| a.field.cmp(&b.field));
        Err(ApiError::Validation(errors))
    }
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

/// For `#[serde(default, deserialize_with = "present")]`: a field that is in the body is
/// `Some`, even when it is `null` (`Some(None)` for an `Option<Option<T>>`, `Some(Value::Null)`
/// for a `Value`); an absent one keeps the default, `None`. Clearing a value and leaving it
/// alone are different requests.
pub fn present<'de, D: serde::Deserializer<'de>, T: serde::Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// Registers the body limit for the `Bytes` extractor that `ApiJson` uses.
pub fn payload_config() -> web::PayloadConfig {
    web::PayloadConfig::new(BODY_LIMIT)
}
