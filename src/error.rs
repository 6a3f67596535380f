//! The one error type of the API. Every failure a handler, extractor or middleware can meet
//! becomes an [`ApiError`]; it renders as RFC 9457 `application/problem+json` with a stable
//! `code`. Internal errors are logged in full and answered opaquely.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use crate::codes::{Code, EndReason, FieldCode};
use crate::problem::{FieldError, Problem};

/// The field codes of a `validator` error. They are all ours ([`FieldCode::error`]); one that
/// is not would be a bug here, reported as `invalid_format` rather than failing the request.
pub fn field_code(err: &validator::ValidationError) -> FieldCode {
    FieldCode::parse(&err.code).unwrap_or_else(|| {
        tracing::error!(code = %err.code, "a validation error code with no FieldCode");
        FieldCode::InvalidFormat
    })
}

impl From<validator::ValidationErrors> for ApiError {
    fn from(errors: validator::ValidationErrors) -> Self {
        let mut fields: Vec<FieldError> = errors
            .field_errors()
            .into_iter()
            .flat_map(|(field, errs)| errs.iter().map(move |e| FieldError::new(field.to_string(), field_code(e))))
            .collect();
        fields.sort_by(|a, b| a.field.cmp(&b.field));
        Self::Validation(fields)
    }
}

/// A field whose value must be unique among users, in the order a 409 names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Unique {
    Username,
    Email,
    Phone,
}

impl Unique {
    pub fn field(self) -> &'static str {
        match self {
            Self::Username => "username",
            Self::Email => "email",
            Self::Phone => "phone",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 `malformed_request`: unparsable JSON, bad query string or cursor.
    #[error("malformed request: {0}")]
    MalformedRequest(String),
    /// 401 `unauthenticated`: a guarded endpoint without a live session. `next` is the
    /// path and query of a failed GET, for the client to come back to after logging in;
    /// `reason` says why the cookie's session ended, when its holder should know (an admin
    /// deactivated the account).
    #[error("unauthenticated")]
    Unauthenticated { next: Option<String>, reason: Option<EndReason> },
    /// 401 `invalid_credentials`: failed login (unknown user, wrong password, inactive user).
    #[error("invalid credentials")]
    InvalidCredentials,
    /// 403 `forbidden`: logged in, but the role does not allow it.
    #[error("forbidden")]
    Forbidden,
    /// 403 `invalid_password`: wrong password when re-authenticating.
    #[error("invalid password")]
    InvalidPassword,
    /// 403 `cross_origin_request`: an unsafe request that the browser marked cross-site.
    #[error("cross-origin request")]
    CrossOrigin,
    /// 403 `reauthentication_required`: a sensitive change without a recent password proof in
    /// this session; the body links where to give one.
    #[error("reauthentication required")]
    ReauthenticationRequired,
    /// 404 `not_found`: unknown route or resource.
    #[error("not found")]
    NotFound,
    /// 404 `customer_not_found`: no customer with that phone number.
    #[error("customer not found")]
    CustomerNotFound,
    /// 404 `card_code_not_found`: no live card code with these digits (unknown, expired, or
    /// used up by a redemption).
    #[error("card code not found")]
    CardCodeNotFound,
    /// 405 `method_not_allowed`, with the path's methods in `Allow`.
    #[error("method not allowed")]
    MethodNotAllowed { allow: String },
    /// 409 `username_taken` / `email_taken` / `phone_taken`: the code names the first taken
    /// field, `errors[]` every one of them (never empty).
    #[error("{0:?} taken")]
    Taken(Vec<Unique>),
    /// 409 `insufficient_stamps`, with the current balance.
    #[error("insufficient stamps")]
    InsufficientStamps { balance: i32, required: i32, redemption: bool },
    /// 409 `last_admin`: the change would leave no active admin.
    #[error("last active admin")]
    LastAdmin,
    /// 409 `already_voided`: the event was voided already, or is a void itself.
    #[error("already voided")]
    AlreadyVoided,
    /// 409 `idempotency_key_in_progress`: the first request with this key is still running.
    #[error("idempotency key in progress")]
    IdempotencyKeyInProgress,
    /// 413 `payload_too_large`.
    #[error("payload too large")]
    PayloadTooLarge,
    /// 415 `unsupported_media_type`: an unsafe request with a body that is not JSON.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// 422 `validation_failed`, one entry per invalid field.
    #[error("validation failed: {0:?}")]
    Validation(Vec<FieldError>),
    /// 422 `invalid_token`: a password reset token that is unknown, used or expired.
    #[error("invalid token")]
    InvalidToken,
    /// 422 `invalid_code`: a phone code that is wrong, expired, or dead after 5 tries.
    #[error("invalid code")]
    InvalidCode,
    /// 422 `idempotency_key_reused`: same key, different body.
    #[error("idempotency key reused")]
    IdempotencyKeyReused,
    /// 429 `too_many_attempts`, with `Retry-After` in seconds; `limit` names the limit that
    /// refused (a metric label, see `request_log`).
    #[error("too many attempts ({limit})")]
    TooManyAttempts { limit: &'static str, retry_after: u64 },
    /// 503 `service_unavailable`: database unreachable or the pool exhausted.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// 503 `service_unavailable`: more password work queued than the server can do in a few
    /// seconds; `Retry-After` says when the queue should have drained.
    #[error("password work queue full")]
    Overloaded { retry_after: u64 },
    /// 503 `service_unavailable`: the service-wide hourly SMS budget is spent
    /// (`STAMPCARD_SMS_HOURLY_LIMIT`); `Retry-After` says when a code can go out again.
    #[error("the hourly SMS limit is reached")]
    SmsBudgetSpent { retry_after: u64 },
    /// 500 `internal_error`: a bug or an unexpected failure; logged, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    /// A 422 for a single field.
    pub fn field(field: impl Into<String>, code: FieldCode) -> Self {
        Self::Validation(vec![FieldError::new(field, code)])
    }

    pub fn code(&self) -> Code {
        match self {
            Self::MalformedRequest(_) => Code::MalformedRequest,
            Self::Unauthenticated { .. } => Code::Unauthenticated,
            Self::InvalidCredentials => Code::InvalidCredentials,
            Self::Forbidden => Code::Forbidden,
            Self::InvalidPassword => Code::InvalidPassword,
            Self::CrossOrigin => Code::CrossOriginRequest,
            Self::ReauthenticationRequired => Code::ReauthenticationRequired,
            Self::NotFound => Code::NotFound,
            Self::CustomerNotFound => Code::CustomerNotFound,
            Self::CardCodeNotFound => Code::CardCodeNotFound,
            Self::MethodNotAllowed { .. } => Code::MethodNotAllowed,
            Self::Taken(fields) => match fields.first() {
                Some(Unique::Username) => Code::UsernameTaken,
                Some(Unique::Email) => Code::EmailTaken,
                Some(Unique::Phone) | None => Code::PhoneTaken,
            },
            Self::InsufficientStamps { .. } => Code::InsufficientStamps,
            Self::LastAdmin => Code::LastAdmin,
            Self::AlreadyVoided => Code::AlreadyVoided,
            Self::IdempotencyKeyInProgress => Code::IdempotencyKeyInProgress,
            Self::PayloadTooLarge => Code::PayloadTooLarge,
            Self::UnsupportedMediaType => Code::UnsupportedMediaType,
            Self::Validation(_) => Code::ValidationFailed,
            Self::IdempotencyKeyReused => Code::IdempotencyKeyReused,
            Self::InvalidToken => Code::InvalidToken,
            Self::InvalidCode => Code::InvalidCode,
            Self::TooManyAttempts { .. } => Code::TooManyAttempts,
            Self::Unavailable(_) | Self::Overloaded { .. } | Self::SmsBudgetSpent { .. } => Code::ServiceUnavailable,
            Self::Internal(_) => Code::InternalError,
        }
    }

    /// The problem document of this error, language-neutral until rendered.
    pub fn problem(&self) -> Problem {
        let mut problem = Problem::new(self.code());
        match self {
            Self::Unauthenticated { next, reason } => {
                problem.extra.insert("login".into(), json!("/api/v1/sessions"));
                if let Some(next) = next {
                    problem.extra.insert("next".into(), json!(next));
                }
                if let Some(reason) = reason {
                    problem.extra.insert("reason".into(), json!(reason.as_str()));
                }
            }
            Self::ReauthenticationRequired => {
                problem.extra.insert("reauthenticate".into(), json!("/api/v1/sessions/current/reauthentication"));
            }
            Self::MethodNotAllowed { allow } => problem.headers.push((header::ALLOW, allow.clone())),
            Self::Taken(fields) => {
                problem.errors.extend(fields.iter().map(|unique| FieldError::new(unique.field(), FieldCode::Taken)))
            }
            Self::InsufficientStamps { balance, required, redemption } => {
                problem.extra.insert("balance".into(), json!(balance));
                problem.extra.insert("required".into(), json!(required));
                if *redemption {
                    problem.extra.insert("stamps_per_reward".into(), json!(required));
                }
            }
            Self::Validation(errors) => problem.errors.clone_from(errors),
            Self::TooManyAttempts { limit, retry_after } => {
                problem.headers.push((header::RETRY_AFTER, retry_after.to_string()));
                problem.limit = Some(limit);
            }
            Self::SmsBudgetSpent { retry_after } => {
                problem.headers.push((header::RETRY_AFTER, retry_after.to_string()));
                problem.limit = Some("sms_service");
            }
            // The first request is usually done within a second.
            Self::IdempotencyKeyInProgress => problem.headers.push((header::RETRY_AFTER, "1".into())),
            Self::Unavailable(_) => problem.headers.push((header::RETRY_AFTER, "5".into())),
            Self::Overloaded { retry_after } => problem.headers.push((header::RETRY_AFTER, retry_after.to_string())),
            _ => {}
        }
        problem
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code().status()
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Internal(err) => tracing::error!(error = ?err, "internal error"),
            Self::Unavailable(why) => tracing::warn!(reason = %why, "database unavailable"),
            Self::Overloaded { .. } => tracing::warn!("password work queue full"),
            // An operator must hear of it: phone verification is down until the hour turns.
            Self::SmsBudgetSpent { retry_after } => {
                tracing::error!(retry_after, "STAMPCARD_SMS_HOURLY_LIMIT reached: phone codes are refused")
            }
            _ => {}
        }
        self.problem().into_response()
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(err: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match err {
            Error::NotFound => Self::NotFound,
            Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                info,
            ) => Self::Unavailable(info.message().to_owned()),
            other => Self::Internal(other.into()),
        }
    }
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(err: diesel::r2d2::PoolError) -> Self {
        Self::Unavailable(err.to_string())
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(err: actix_web::error::BlockingError) -> Self {
        Self::Internal(anyhow::anyhow!("blocking pool: {err}"))
    }
}
