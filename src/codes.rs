//! The stable, machine-readable codes of the API: problem codes (the `code` of a problem
//! document) and field codes (the `code` of an entry of `errors[]`). Clients branch on these,
//! so they never change with the language; `messages` gives each its words, by an exhaustive
//! match, so that a new code without a message does not compile.

use actix_web::http::StatusCode;
use serde::{Serialize, Serializer};
use validator::ValidationError;

/// The `code` of a problem document, and the status it is answered with. Where several codes
/// share a status, the first of them is the generic one ([`Code::for_status`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString, strum::VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum Code {
    MalformedRequest,
    Unauthenticated,
    InvalidCredentials,
    Forbidden,
    InvalidPassword,
    CrossOriginRequest,
    ReauthenticationRequired,
    NotFound,
    CustomerNotFound,
    CardCodeNotFound,
    MethodNotAllowed,
    UsernameTaken,
    EmailTaken,
    PhoneTaken,
    InsufficientStamps,
    IdempotencyKeyInProgress,
    LastAdmin,
    AlreadyVoided,
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
        self.into()
    }

    /// The HTTP status a problem with this code is answered with.
    pub fn status(self) -> StatusCode {
        match self {
            Self::MalformedRequest | Self::BadRequest => StatusCode::BAD_REQUEST,
            Self::Unauthenticated | Self::InvalidCredentials => StatusCode::UNAUTHORIZED,
            Self::Forbidden | Self::InvalidPassword | Self::CrossOriginRequest | Self::ReauthenticationRequired => {
                StatusCode::FORBIDDEN
            }
            Self::NotFound | Self::CustomerNotFound | Self::CardCodeNotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::UsernameTaken
            | Self::EmailTaken
            | Self::PhoneTaken
            | Self::InsufficientStamps
            | Self::IdempotencyKeyInProgress
            | Self::LastAdmin
            | Self::AlreadyVoided => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::ValidationFailed | Self::IdempotencyKeyReused | Self::InvalidToken | Self::InvalidCode => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Self::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
            Self::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The generic code of a status that actix or a middleware produced outside our handlers.
    pub fn for_status(status: StatusCode) -> Self {
        use strum::VariantArray;
        Self::VARIANTS.iter().copied().find(|code| code.status() == status).unwrap_or(if status.is_client_error() {
            Self::BadRequest
        } else {
            Self::InternalError
        })
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The `code` of one invalid field of a 422.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString, strum::VariantArray)]
#[strum(serialize_all = "snake_case")]
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
    RegionNotAllowed,
    /// Exactly one of two fields must be given (a phone or a card code), and was not.
    OneOf,
    /// The field is valid but not accepted here by the configuration (a phone, where rewards
    /// are redeemed by card code only).
    NotAccepted,
}

impl FieldCode {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The code `validator` carries as text (the `validator` crate's errors are strings; ours
    /// are made by [`FieldCode::error`], and its own `required` is one of ours too).
    pub fn parse(code: &str) -> Option<Self> {
        code.parse().ok()
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

/// Why a session that its owner did not end is gone (the `reason` of a 401, and of the
/// `ended_sessions` table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "snake_case")]
pub enum EndReason {
    /// An admin deactivated the account.
    AccountDeactivated,
}

impl EndReason {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reads_back_from_its_text() {
        use strum::VariantArray;
        for code in FieldCode::VARIANTS {
            assert_eq!(FieldCode::parse(code.as_str()), Some(*code));
        }
        assert_eq!(FieldCode::parse("no_such_code"), None);
        assert_eq!(FieldCode::TooSimilar.as_str(), "too_similar");
        for code in Code::VARIANTS {
            assert_eq!(code.as_str().parse::<Code>().ok(), Some(*code));
        }
        assert_eq!(Code::IdempotencyKeyInProgress.as_str(), "idempotency_key_in_progress");
    }

    #[test]
    fn a_bare_status_gets_its_generic_code() {
        let generic = |status: u16| Code::for_status(StatusCode::from_u16(status).unwrap());
        assert_eq!(generic(400), Code::MalformedRequest);
        assert_eq!(generic(401), Code::Unauthenticated);
        assert_eq!(generic(403), Code::Forbidden);
        assert_eq!(generic(404), Code::NotFound);
        assert_eq!(generic(405), Code::MethodNotAllowed);
        assert_eq!(generic(413), Code::PayloadTooLarge);
        assert_eq!(generic(415), Code::UnsupportedMediaType);
        assert_eq!(generic(422), Code::ValidationFailed);
        assert_eq!(generic(429), Code::TooManyAttempts);
        assert_eq!(generic(503), Code::ServiceUnavailable);
        assert_eq!(generic(418), Code::BadRequest);
        assert_eq!(generic(502), Code::InternalError);
    }
}
