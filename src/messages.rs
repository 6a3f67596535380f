//! Every human-readable text of the API, in English and Korean. Codes are the keys and never
//! change with the language; only `title`, `detail` and field `message`s do. Every match is
//! exhaustive: a new code without its words does not compile.

use crate::codes::{Code, FieldCode};
use crate::preferences::Lang;

/// The short summary of a problem code.
pub fn title(lang: Lang, code: Code) -> &'static str {
    let (en, ko) = match code {
        Code::MalformedRequest => ("Malformed request", "잘못된 요청"),
        Code::Unauthenticated => ("Authentication required", "로그인이 필요합니다"),
        Code::InvalidCredentials => ("Invalid credentials", "아이디 또는 비밀번호가 올바르지 않습니다"),
        Code::Forbidden => ("Forbidden", "권한이 없습니다"),
        Code::InvalidPassword => ("Invalid password", "비밀번호가 올바르지 않습니다"),
        Code::CrossOriginRequest => ("Cross-origin request refused", "교차 출처 요청이 거부되었습니다"),
        Code::ReauthenticationRequired => ("Confirm your password", "비밀번호를 다시 확인하세요"),
        Code::NotFound => ("Not found", "찾을 수 없습니다"),
        Code::CustomerNotFound => ("Customer not found", "고객을 찾을 수 없습니다"),
        Code::CardCodeNotFound => ("Card code not found", "카드 코드를 찾을 수 없습니다"),
        Code::AlreadyVoided => ("Already voided", "이미 취소되었습니다"),
        Code::MethodNotAllowed => ("Method not allowed", "허용되지 않는 메서드입니다"),
        Code::UsernameTaken => ("Username taken", "이미 사용 중인 사용자 이름입니다"),
        Code::EmailTaken => ("Email taken", "이미 사용 중인 이메일입니다"),
        Code::PhoneTaken => ("Phone number taken", "이미 사용 중인 전화번호입니다"),
        Code::InsufficientStamps => ("Not enough stamps", "스탬프가 부족합니다"),
        Code::LastAdmin => ("Last active admin", "마지막 활성 관리자입니다"),
        Code::IdempotencyKeyInProgress => ("Request in progress", "요청을 처리하는 중입니다"),
        Code::PayloadTooLarge => ("Payload too large", "요청 본문이 너무 큽니다"),
        Code::UnsupportedMediaType => ("Unsupported media type", "지원하지 않는 미디어 타입입니다"),
        Code::ValidationFailed => ("Validation failed", "입력값이 올바르지 않습니다"),
        Code::IdempotencyKeyReused => ("Idempotency key reused", "멱등성 키가 다른 요청에 재사용되었습니다"),
        Code::InvalidToken => ("Invalid or expired link", "유효하지 않거나 만료된 링크입니다"),
        Code::InvalidCode => ("Invalid code", "인증번호가 올바르지 않습니다"),
        Code::TooManyAttempts => ("Too many attempts", "시도 횟수가 너무 많습니다"),
        Code::ServiceUnavailable => ("Service unavailable", "서비스를 일시적으로 사용할 수 없습니다"),
        Code::BadRequest => ("Bad request", "잘못된 요청"),
        Code::InternalError => ("Internal server error", "서버 내부 오류"),
    };
    pick(lang, en, ko)
}

/// A sentence explaining the problem and what to do about it.
pub fn detail(lang: Lang, code: Code) -> &'static str {
    let (en, ko) = match code {
        Code::MalformedRequest => (
            "The request could not be parsed: check the JSON syntax and the query string.",
            "요청을 해석할 수 없습니다. JSON 문법과 쿼리 문자열을 확인하세요.",
        ),
        Code::Unauthenticated => (
            "Log in first: POST your credentials to the login link.",
            "먼저 로그인하세요. login 링크로 자격 증명을 POST 하세요.",
        ),
        Code::InvalidCredentials => (
            "The username or password is wrong, or the account is inactive.",
            "사용자 이름 또는 비밀번호가 틀렸거나 비활성화된 계정입니다.",
        ),
        Code::Forbidden => ("Your account is not allowed to do this.", "이 작업을 할 권한이 없습니다."),
        Code::InvalidPassword => {
            ("The password you entered to confirm is wrong.", "확인용으로 입력한 비밀번호가 틀렸습니다.")
        }
        Code::CrossOriginRequest => {
            ("Unsafe requests from another site are refused.", "다른 사이트에서 온 변경 요청은 거부됩니다.")
        }
        Code::ReauthenticationRequired => (
            "This change needs a recent password proof in this session: POST the password to the reauthenticate link, then repeat the change.",
            "이 변경에는 이 세션에서 최근에 비밀번호를 확인해야 합니다. reauthenticate 링크로 비밀번호를 POST 한 뒤 다시 시도하세요.",
        ),
        Code::NotFound => ("There is nothing at this address.", "이 주소에는 아무것도 없습니다."),
        Code::CustomerNotFound => ("No customer has this phone number.", "이 전화번호를 가진 고객이 없습니다."),
        Code::CardCodeNotFound => (
            "No live card code has these digits: it expired, was used, or was mistyped; ask for a new one.",
            "이 번호의 카드 코드가 없습니다. 만료되었거나 사용되었거나 잘못 입력되었습니다. 새 코드를 요청하세요.",
        ),
        Code::AlreadyVoided => (
            "This event was voided already, or is itself a void.",
            "이미 취소된 기록이거나 취소 기록 자체입니다.",
        ),
        Code::MethodNotAllowed => (
            "This path does not support the method; see the Allow header.",
            "이 경로는 해당 메서드를 지원하지 않습니다. Allow 헤더를 확인하세요.",
        ),
        Code::UsernameTaken => {
            ("Another account already uses this username.", "다른 계정이 이미 이 사용자 이름을 사용합니다.")
        }
        Code::EmailTaken => {
            ("Another account already uses this email address.", "다른 계정이 이미 이 이메일 주소를 사용합니다.")
        }
        Code::PhoneTaken => {
            ("Another account already uses this phone number.", "다른 계정이 이미 이 전화번호를 사용합니다.")
        }
        Code::InsufficientStamps => (
            "The card does not hold enough stamps for a free coffee yet.",
            "무료 커피를 받기에 스탬프가 아직 부족합니다.",
        ),
        Code::IdempotencyKeyInProgress => (
            "A request with this Idempotency-Key is still running; retry later.",
            "같은 Idempotency-Key 요청이 아직 처리 중입니다. 잠시 후 다시 시도하세요.",
        ),
        Code::LastAdmin => (
            "The change would leave no active admin; make another admin first.",
            "활성 관리자가 한 명도 남지 않게 됩니다. 먼저 다른 관리자를 지정하세요.",
        ),
        Code::PayloadTooLarge => ("The request body is larger than 16 KiB.", "요청 본문이 16 KiB를 넘습니다."),
        Code::UnsupportedMediaType => ("Send the body as application/json.", "본문을 application/json 으로 보내세요."),
        Code::ValidationFailed => {
            ("Some fields are invalid; see errors.", "일부 필드가 올바르지 않습니다. errors 를 확인하세요.")
        }
        Code::InvalidToken => (
            "This reset link is unknown, used or expired; ask for a new one.",
            "이 재설정 링크는 알 수 없거나 이미 사용되었거나 만료되었습니다. 새 링크를 요청하세요.",
        ),
        Code::InvalidCode => (
            "The code is wrong, expired, or was tried too often; ask for a new one.",
            "인증번호가 틀렸거나 만료되었거나 시도 횟수를 넘었습니다. 새 인증번호를 요청하세요.",
        ),
        Code::IdempotencyKeyReused => (
            "This Idempotency-Key was already used with a different request body.",
            "이 Idempotency-Key 는 다른 요청 본문에 이미 사용되었습니다.",
        ),
        Code::TooManyAttempts => (
            "Too many attempts (passwords, reset links or codes); wait for Retry-After seconds.",
            "시도 횟수가 너무 많습니다(비밀번호, 재설정 링크 또는 인증번호). Retry-After 초만큼 기다리세요.",
        ),
        Code::ServiceUnavailable => (
            "The service is busy or its database is unavailable; retry after Retry-After seconds.",
            "서비스가 바쁘거나 데이터베이스를 사용할 수 없습니다. Retry-After 초 후에 다시 시도하세요.",
        ),
        Code::BadRequest => ("The request was not understood.", "요청을 이해할 수 없습니다."),
        Code::InternalError => ("Something went wrong on our side.", "서버에서 문제가 발생했습니다."),
    };
    pick(lang, en, ko)
}

/// The message of one field error: what is wrong with `field` and what to do, with the limits
/// where this field has them.
pub fn field(lang: Lang, field: &str, code: FieldCode) -> &'static str {
    let specific = match (field, code) {
        ("password" | "new_password", FieldCode::TooShort) => {
            Some(("Use at least 8 characters.", "8자 이상 입력하세요."))
        }
        ("password" | "new_password", FieldCode::TooLong) => Some((
            "Use at most 72 bytes (72 Latin letters, or 24 Korean letters).",
            "72바이트 이하로 입력하세요(영문 72자, 한글 24자).",
        )),
        ("username", FieldCode::TooShort | FieldCode::TooLong) => {
            Some(("Use 3 to 150 characters.", "3자에서 150자 사이로 입력하세요."))
        }
        ("count", FieldCode::OutOfRange) => {
            Some(("Choose 1 to 10 stamps.", "스탬프는 1개에서 10개까지 줄 수 있습니다."))
        }
        ("from" | "to", FieldCode::InvalidFormat) => {
            Some(("Use a date like 2026-12-02.", "2026-12-02 형식의 날짜를 입력하세요."))
        }
        ("to", FieldCode::OutOfRange) => Some((
            "The range ends on or after its first day and spans at most 366 days.",
            "기간은 시작일과 같거나 그 뒤에 끝나야 하며 366일을 넘을 수 없습니다.",
        )),
        ("actor", FieldCode::InvalidFormat) => Some(("Use a user's id.", "사용자 id를 입력하세요.")),
        _ => None,
    };
    let (en, ko) = specific.unwrap_or(match code {
        FieldCode::Required => ("This field is required.", "필수 항목입니다."),
        FieldCode::InvalidType => ("This field has the wrong JSON type.", "JSON 타입이 올바르지 않습니다."),
        FieldCode::TooShort => ("This value is too short.", "값이 너무 짧습니다."),
        FieldCode::TooLong => ("This value is too long.", "값이 너무 깁니다."),
        FieldCode::InvalidCharacters => {
            ("Use only letters, digits and @ . + - _.", "문자, 숫자와 @ . + - _ 만 사용할 수 있습니다.")
        }
        FieldCode::InvalidEmail => ("This is not a valid email address.", "올바른 이메일 주소가 아닙니다."),
        FieldCode::InvalidPhone => {
            ("This is not a valid phone number, e.g. 010-1234-5678.", "올바른 전화번호가 아닙니다(예: 010-1234-5678).")
        }
        FieldCode::EntirelyNumeric => (
            "The password cannot be only digits; add letters.",
            "비밀번호는 숫자로만 이루어질 수 없습니다. 문자를 섞으세요.",
        ),
        FieldCode::TooCommon => (
            "This password is too common; choose one that is harder to guess.",
            "너무 흔한 비밀번호입니다. 추측하기 어려운 비밀번호를 고르세요.",
        ),
        FieldCode::TooSimilar => (
            "The password is too similar to the username; choose one that does not contain it.",
            "비밀번호가 사용자 이름과 너무 비슷합니다. 사용자 이름이 들어가지 않은 비밀번호를 고르세요.",
        ),
        FieldCode::OutOfRange => ("This value is out of range.", "허용 범위를 벗어난 값입니다."),
        FieldCode::InvalidChoice => ("This value is not one of the allowed choices.", "허용된 값이 아닙니다."),
        FieldCode::InvalidFormat => ("This value has an invalid format.", "형식이 올바르지 않습니다."),
        FieldCode::Taken => ("Another account already uses this.", "다른 계정이 이미 사용 중입니다."),
        FieldCode::OneOf => {
            ("Give either a phone number or a card code, not both.", "전화번호와 카드 코드 중 하나만 입력하세요.")
        }
        FieldCode::NotAccepted => (
            "Not accepted here: redeem with the customer's card code.",
            "여기서는 받지 않습니다. 고객의 카드 코드로 사용 처리하세요.",
        ),
        FieldCode::RegionNotAllowed => {
            ("Phone numbers of this country are not accepted here.", "이 나라의 전화번호는 받지 않습니다.")
        }
    });
    pick(lang, en, ko)
}

fn pick(lang: Lang, en: &'static str, ko: &'static str) -> &'static str {
    match lang {
        Lang::En => en,
        Lang::Ko => ko,
    }
}
