//! The contract's rules for account fields, as `validator` custom functions, and their
//! normal forms: NFKC usernames (compared in lower case), E.164 phone numbers.

use std::cell::RefCell;
use std::collections::HashMap;

use phonenumber::country::Id;
use phonenumber::Mode;
use unicode_normalization::UnicodeNormalization;
use validator::{ValidateEmail, ValidationError, ValidationErrors};

use crate::codes::FieldCode;
use crate::config::PhoneRegions;

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

/// A syntactically valid address. `validator` knows only ASCII local parts; an address with
/// non-ASCII letters before the `@` (RFC 6531, `Émile@x.kr`) is checked as if each were a
/// plain letter, so that it is accepted and compared by [`email_key`] like any other.
pub fn validate_email(raw: &str) -> Result<(), ValidationError> {
    let (local, domain) = raw.rsplit_once('@').unwrap_or((raw, ""));
    let ascii_local: String =
        local.chars().map(|c| if !c.is_ascii() && c.is_alphanumeric() { 'a' } else { c }).collect();
    if raw.len() <= 254 && format!("{ascii_local}@{domain}").validate_email() {
        Ok(())
    } else {
        Err(FieldCode::InvalidEmail.error())
    }
}

/// An email address as it is compared: Unicode case folding after NFKC (`Émile@x.kr` and
/// `émile@x.kr` are one address). The one rule, in the code and in the database, which stores
/// it (`users.email_key`, unique) and compares only it.
pub fn email_key(address: &str) -> String {
    caseless::default_case_fold_str(&address.trim().nfkc().collect::<String>())
}

/// A token as the mails carry them (reset and verification links): 64 hexadecimal characters.
/// Anything else cannot be one, and costs no database work.
pub fn plausible_token(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// An address as a notice may show it to whoever reads the old mailbox: the first letter of
/// the local part and the domain (`m***@example.com`).
pub fn mask_email(address: &str) -> String {
    let (local, domain) = address.rsplit_once('@').unwrap_or((address, ""));
    let first: String = local.chars().take(1).collect();
    format!("{first}***@{domain}")
}

/// A number as the counter screen and notices show it: the national form with the middle
/// group hidden (`010-****-5678`), or, for other shapes, all but the last four digits.
pub fn mask_phone(e164: &str) -> String {
    let national = phonenumber::parse(Some(Id::KR), e164)
        .map(|n| n.format().mode(Mode::National).to_string())
        .unwrap_or_else(|_| e164.to_owned());
    let groups: Vec<&str> = national.split('-').collect();
    if let [first, middle, last] = groups[..] {
        return format!("{first}-{}-{last}", "*".repeat(middle.chars().count()));
    }
    let digits = national.chars().filter(char::is_ascii_digit).count();
    let mut seen = 0;
    national
        .chars()
        .map(|c| {
            if !c.is_ascii_digit() {
                return c;
            }
            seen += 1;
            if seen + 4 <= digits {
                '*'
            } else {
                c
            }
        })
        .collect()
}

/// How many answers of [`parse_phone`] each thread remembers.
const REMEMBERED_PHONES: usize = 1024;

/// A valid phone number: its E.164 form and the region it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Number {
    pub e164: String,
    pub region: Option<Id>,
}

/// A phone number in any format the library understands, Korean numbers by default:
/// `010-1234-5678`, `01012345678` and `+82 10 1234 5678` are all `+821012345678`.
pub fn parse_phone(raw: &str) -> Option<Number> {
    thread_local! {
        // A parse costs ~14 µs of regular expressions (8% of a stamp's server CPU in a
        // profile), and the staff of a cafe stamp the same regulars all day.
        static RECENT: RefCell<HashMap<String, Option<Number>>> = RefCell::new(HashMap::new());
    }
    if raw.len() > 32 {
        return None;
    }
    if let Some(known) = RECENT.with(|recent| recent.borrow().get(raw).cloned()) {
        return known;
    }
    let parsed = phonenumber::parse(Some(Id::KR), raw)
        .ok()
        .filter(phonenumber::is_valid)
        .map(|number| Number { e164: number.format().mode(Mode::E164).to_string(), region: number.country().id() });
    RECENT.with(|recent| {
        let mut recent = recent.borrow_mut();
        if recent.len() >= REMEMBERED_PHONES {
            recent.clear();
        }
        recent.insert(raw.to_owned(), parsed.clone());
    });
    parsed
}

/// A number of one of the allowed regions (`STAMPCARD_PHONE_REGIONS`), in E.164: a number from
/// anywhere else finds nobody and is sent nothing.
pub fn allowed_phone(raw: &str, regions: &PhoneRegions) -> Option<String> {
    parse_phone(raw).filter(|n| n.region.is_some_and(|r| regions.allows(r))).map(|n| n.e164)
}

thread_local! {
    /// The regions whose numbers the body being read may hold (see [`with_phone_regions`]).
    static PHONE_REGIONS: RefCell<Option<PhoneRegions>> = const { RefCell::new(None) };
}

/// Runs `f` (which reads and validates a request body) with `regions` as the allowed ones:
/// serde and `validator` take no context, and a phone's rules depend on the configuration.
/// Outside such a call any valid number passes [`validate_phone`].
pub fn with_phone_regions<T>(regions: &PhoneRegions, f: impl FnOnce() -> T) -> T {
    let previous = PHONE_REGIONS.with(|r| r.replace(Some(regions.clone())));
    let result = f();
    PHONE_REGIONS.with(|r| *r.borrow_mut() = previous);
    result
}

/// A phone number field of a request body, parsed once as the body is read: the
/// `phonenumber` crate works with regular expressions, and parsing twice (to validate, then
/// to store) was ~6% of a stamp's server CPU. (`validator` wants it `Serialize`: it is its
/// E.164 form, or `null`.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone {
    number: Option<Number>,
}

impl serde::Serialize for Phone {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.e164().serialize(s)
    }
}

impl Phone {
    pub fn parse(raw: &str) -> Self {
        Self { number: parse_phone(raw) }
    }

    /// The number in E.164, or `None` when it is not a valid number.
    pub fn e164(&self) -> Option<&str> {
        self.number.as_ref().map(|n| n.e164.as_str())
    }

    pub fn into_e164(self) -> Option<String> {
        self.number.map(|n| n.e164)
    }
}

impl<'de> serde::Deserialize<'de> for Phone {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = std::borrow::Cow::<str>::deserialize(d)?;
        Ok(Self::parse(&raw))
    }
}

/// A valid number, of an allowed region (when the body is read under [`with_phone_regions`]).
pub fn validate_phone(phone: &Phone) -> Result<(), ValidationError> {
    let number = phone.number.as_ref().ok_or_else(|| FieldCode::InvalidPhone.error())?;
    let allowed = PHONE_REGIONS.with(|regions| {
        regions.borrow().as_ref().map_or(true, |regions| number.region.is_some_and(|r| regions.allows(r)))
    });
    if allowed {
        Ok(())
    } else {
        Err(FieldCode::RegionNotAllowed.error())
    }
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

    /// `field` is wrong for `code`, whatever the rules of its value say.
    pub fn add(&mut self, field: &'static str, code: FieldCode) {
        self.0.add(field, code.error());
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
        let e164 = |raw: &str| parse_phone(raw).map(|n| n.e164);
        for raw in ["010-1234-5678", "01012345678", "+82 10 1234 5678"] {
            assert_eq!(e164(raw).as_deref(), Some("+821012345678"), "{raw}");
        }
        assert_eq!(e164("12"), None);
        assert_eq!(e164("not a phone"), None);
        // Remembered answers are the same answers.
        assert_eq!(e164("010-1234-5678").as_deref(), Some("+821012345678"));
        assert_eq!(e164("12"), None);
        assert_eq!(parse_phone("010-1234-5678").unwrap().region, Some(Id::KR));
        let phone: Phone = serde_json::from_str(r#""010-1234-5678""#).unwrap();
        assert_eq!(phone.e164(), Some("+821012345678"));
        assert!(validate_phone(&serde_json::from_str(r#""12""#).unwrap()).is_err());
    }

    #[test]
    fn numbers_of_other_regions_are_refused_where_regions_are_given() {
        let korea = PhoneRegions(vec![Id::KR]);
        let us = Phone::parse("+1 201 555 0123");
        assert!(us.e164().is_some(), "a valid number");
        assert!(validate_phone(&us).is_ok(), "no regions given: any valid number");
        let code = with_phone_regions(&korea, || validate_phone(&us)).unwrap_err().code;
        assert_eq!(code, "region_not_allowed");
        assert!(with_phone_regions(&korea, || validate_phone(&Phone::parse("010-1234-5678"))).is_ok());
        assert_eq!(allowed_phone("+1 201 555 0123", &korea), None);
        assert_eq!(allowed_phone("010-1234-5678", &korea).as_deref(), Some("+821012345678"));
    }

    #[test]
    fn masks_show_enough_to_recognise_and_no_more() {
        assert_eq!(mask_phone("+821012345678"), "010-****-5678");
        assert_eq!(mask_email("thief@evil.example"), "t***@evil.example");
        assert!(mask_phone("+12015550123").ends_with("0123") && mask_phone("+12015550123").contains('*'));
    }

    #[test]
    fn emails_are_compared_folded_after_nfkc() {
        assert_eq!(email_key("Émile@X.kr"), email_key("émile@x.kr"));
        assert_eq!(email_key(" Minji@Example.COM "), "minji@example.com");
        assert_eq!(email_key("STRASSE@x.kr"), email_key("straße@x.kr"), "full folding, not lower case");
        assert_eq!(email_key("ｍｉｎｊｉ@x.kr"), "minji@x.kr", "NFKC first");
        assert!(validate_email("Émile@x.kr").is_ok());
        assert!(validate_email("not an address").is_err());
        assert!(validate_email("a b@x.kr").is_err());
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
