//! The stable, machine-readable codes of the API: problem codes (the `code` of a problem
//! document) and field codes (the `code` of an entry of `errors[]`). Clients branch on these,
//! so they never change with the language; `messages` gives each its words, by an exhaustive
//! match, so that a new code without a message does not compile.

use serde::{Serialize, Serializer};
use validator::ValidationError;

/// The `code` of a problem document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    MalformedRequest,
    Unauthenticated,
    InvalidCredentials,
    Forbidden,
    InvalidPassword,
    CrossOriginRequest,
    NotFound,
    CustomerNotFound,
    MethodNotAllowed,
    UsernameTaken,
    EmailTaken,
    PhoneTaken,
    InsufficientStamps,
    IdempotencyKeyInProgress,
    LastAdmin,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
    IdempotencyKeyReused,
    InvalidToken,
    InvalidCode,
    TooManyAttempts,
    ServiceUnavailable,
    /// A 4xx that actix or a middleware produced and none of the above describes.
    BadRequest,
    InternalError,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MalformedRequest => "malformed_request",
            Self::Unauthenticated => "unauthenticated",
            Self::InvalidCredentials => "invalid_credentials",
            Self::Forbidden => "forbidden",
            Self::InvalidPassword => "invalid_password",
            Self::CrossOriginRequest => "cross_origin_request",
            Self::NotFound => "not_found",
            Self::CustomerNotFound => "customer_not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::UsernameTaken => "username_taken",
            Self::EmailTaken => "email_taken",
            Self::PhoneTaken => "phone_taken",
            Self::InsufficientStamps => "insufficient_stamps",
            Self::IdempotencyKeyInProgress => "idempotency_key_in_progress",
            Self::LastAdmin => "last_admin",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::ValidationFailed => "validation_failed",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::InvalidToken => "invalid_token",
            Self::InvalidCode => "invalid_code",
            Self::TooManyAttempts => "too_many_attempts",
            Self::ServiceUnavailable => "service_unavailable",
            Self::BadRequest => "bad_request",
            Self::InternalError => "internal_error",
        }
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The `code` of one invalid field of a 422.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldCode {
    Required,
    InvalidType,
    TooShort,
    TooLong,
    InvalidCharacters,
    InvalidEmail,
    InvalidPhone,
    EntirelyNumeric,
    TooCommon,
    TooSimilar,
    OutOfRange,
    InvalidChoice,
    InvalidFormat,
    Taken,
}

impl FieldCode {
    const ALL: [Self; 14] = [
        Self::Required,
        Self::InvalidType,
        Self::TooShort,
        Self::TooLong,
        Self::InvalidCharacters,
        Self::InvalidEmail,
        Self::InvalidPhone,
        Self::EntirelyNumeric,
        Self::TooCommon,
        Self::TooSimilar,
        Self::OutOfRange,
        Self::InvalidChoice,
        Self::InvalidFormat,
        Self::Taken,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::InvalidType => "invalid_type",
            Self::TooShort => "too_short",
            Self::TooLong => "too_long",
            Self::InvalidCharacters => "invalid_characters",
            Self::InvalidEmail => "invalid_email",
            Self::InvalidPhone => "invalid_phone",
            Self::EntirelyNumeric => "entirely_numeric",
            Self::TooCommon => "too_common",
            Self::TooSimilar => "too_similar",
            Self::OutOfRange => "out_of_range",
            Self::InvalidChoice => "invalid_choice",
            Self::InvalidFormat => "invalid_format",
            Self::Taken => "taken",
        }
    }

    /// The code `validator` carries as text (the `validator` crate's errors are strings; ours
    /// are made by [`FieldCode::error`], and its own `required` is one of ours too).
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == code)
    }

    /// This code as a `validator` error, for the validation functions of request bodies.
    pub fn error(self) -> ValidationError {
        ValidationError::new(self.as_str())
    }
}

impl Serialize for FieldCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_code_reads_back() {
        for code in FieldCode::ALL {
            assert_eq!(FieldCode::parse(code.as_str()), Some(code));
        }
        assert_eq!(FieldCode::parse("no_such_code"), None);
    }
}
