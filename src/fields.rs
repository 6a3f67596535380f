//! The contract's rules for account fields, as `validator` custom functions, and their
//! normal forms: NFKC usernames (compared in lower case), E.164 phone numbers.

use std::cell::RefCell;
use std::collections::HashMap;

use phonenumber::country::Id::KR;
use phonenumber::Mode;
use unicode_normalization::UnicodeNormalization;
use validator::{ValidateEmail, ValidationError, ValidationErrors};

use crate::codes::FieldCode;

/// NFKC: compatibility characters (full-width letters, ligatures) become their plain form, so
/// `ｋｉｍ` and `kim` are one name.
pub fn normalise_username(raw: &str) -> String {
    raw.nfkc().collect()
}

/// The uniqueness key of a (normalised) username: Unicode lower case.
pub fn username_key(normalised: &str) -> String {
    normalised.to_lowercase()
}

/// 3..=150 characters of letters, digits and `@ . + - _`, after NFKC.
pub fn validate_username(raw: &str) -> Result<(), ValidationError> {
    let name = normalise_username(raw);
    let length = name.chars().count();
    if length < 3 {
        return Err(FieldCode::TooShort.error());
    }
    if length > 150 {
        return Err(FieldCode::TooLong.error());
    }
    if !name.chars().all(|c| c.is_alphanumeric() || "@.+-_".contains(c)) {
        return Err(FieldCode::InvalidCharacters.error());
    }
    Ok(())
}

pub fn validate_email(raw: &str) -> Result<(), ValidationError> {
    if raw.len() <= 254 && raw.validate_email() {
        Ok(())
    } else {
        Err(FieldCode::InvalidEmail.error())
    }
}

/// How many answers of [`parse_phone`] each thread remembers.
const REMEMBERED_PHONES: usize = 1024;

/// A phone number in any format the library understands, Korean numbers by default:
/// `010-1234-5678`, `01012345678` and `+82 10 1234 5678` are all `+821012345678`.
pub fn parse_phone(raw: &str) -> Option<String> {
    thread_local! {
        // A parse costs ~14 µs of regular expressions (8% of a stamp's server CPU in a
        // profile), and the staff of a cafe stamp the same regulars all day.
        static RECENT: RefCell<HashMap<String, Option<String>>> = RefCell::new(HashMap::new());
    }
    if raw.len() > 32 {
        return None;
    }
    if let Some(known) = RECENT.with(|recent| recent.borrow().get(raw).cloned()) {
        return known;
    }
    let parsed = phonenumber::parse(Some(KR), raw)
        .ok()
        .filter(phonenumber::is_valid)
        .map(|number| number.format().mode(Mode::E164).to_string());
    RECENT.with(|recent| {
        let mut recent = recent.borrow_mut();
        if recent.len() >= REMEMBERED_PHONES {
            recent.clear();
        }
        recent.insert(raw.to_owned(), parsed.clone());
    });
    parsed
}

/// A phone number field of a request body, parsed once as the body is read: the
/// `phonenumber` crate works with regular expressions, and parsing twice (to validate, then
/// to store) was ~6% of a stamp's server CPU. (`validator` wants it `Serialize`: it is its
/// E.164 form, or `null`.)
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Phone {
    e164: Option<String>,
}

impl Phone {
    pub fn parse(raw: &str) -> Self {
        Self { e164: parse_phone(raw) }
    }

    /// The number in E.164, or `None` when it is not a valid number.
    pub fn e164(&self) -> Option<&str> {
        self.e164.as_deref()
    }

    pub fn into_e164(self) -> Option<String> {
        self.e164
    }
}

impl<'de> serde::Deserialize<'de> for Phone {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = std::borrow::Cow::<str>::deserialize(d)?;
        Ok(Self::parse(&raw))
    }
}

pub fn validate_phone(phone: &Phone) -> Result<(), ValidationError> {
    phone.e164().map(|_| ()).ok_or_else(|| FieldCode::InvalidPhone.error())
}

/// The field errors of a request body, for the bodies whose rules `validator`'s derive cannot
/// say (one field's rule depends on another's value, or on the account): every bad field is
/// collected, so that one 422 names them all.
#[derive(Default)]
pub struct FieldErrors(ValidationErrors);

impl FieldErrors {
    /// `field` must be there and pass `rule`.
    pub fn required<T: ?Sized>(
        &mut self,
        field: &'static str,
        value: Option<&T>,
        rule: impl FnOnce(&T) -> Result<(), ValidationError>,
    ) {
        match value {
            None => self.0.add(field, FieldCode::Required.error()),
            Some(value) => self.optional(field, Some(value), rule),
        }
    }

    /// `field` must be there, whatever its value.
    pub fn present<T: ?Sized>(&mut self, field: &'static str, value: Option<&T>) {
        self.required(field, value, |_| Ok(()));
    }

    /// `field`, when it is there, must pass `rule`.
    pub fn optional<T: ?Sized>(
        &mut self,
        field: &'static str,
        value: Option<&T>,
        rule: impl FnOnce(&T) -> Result<(), ValidationError>,
    ) {
        if let Some(Err(err)) = value.map(rule) {
            self.0.add(field, err);
        }
    }

    pub fn finish(self) -> Result<(), ValidationErrors> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn korean_formats_mean_one_number() {
        for raw in ["010-1234-5678", "01012345678", "+82 10 1234 5678"] {
            assert_eq!(parse_phone(raw).as_deref(), Some("+821012345678"), "{raw}");
        }
        assert_eq!(parse_phone("12"), None);
        assert_eq!(parse_phone("not a phone"), None);
        // Remembered answers are the same answers.
        assert_eq!(parse_phone("010-1234-5678").as_deref(), Some("+821012345678"));
        assert_eq!(parse_phone("12"), None);
        let phone: Phone = serde_json::from_str(r#""010-1234-5678""#).unwrap();
        assert_eq!(phone.e164(), Some("+821012345678"));
        assert!(validate_phone(&serde_json::from_str(r#""12""#).unwrap()).is_err());
    }

    #[test]
    fn usernames_are_nfkc_and_compared_in_lower_case() {
        assert_eq!(username_key(&normalise_username("ＫＩＭ")), "kim");
        assert!(validate_username("김민수").is_ok());
        assert!(validate_username("kim.lee+cafe@x_y-z").is_ok());
        assert_eq!(validate_username("ab").unwrap_err().code, "too_short");
        assert_eq!(validate_username("has space").unwrap_err().code, "invalid_characters");
        assert_eq!(validate_username(&"a".repeat(151)).unwrap_err().code, "too_long");
    }
}
