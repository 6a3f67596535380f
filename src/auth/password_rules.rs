//! The contract's password rules (after Django's validators): 8..=72 bytes (bcrypt's limit:
//! longer is refused, never silently truncated), not entirely numeric, not a common password,
//! not too similar to the username.

use std::collections::HashSet;
use std::sync::OnceLock;

use validator::ValidationError;

use crate::auth::password::MAX_PASSWORD_BYTES;
use crate::codes::FieldCode;

/// The 19,640 passwords of `data/common-passwords.txt` (see `data/README.md`).
static COMMON: &str = include_str!("../../data/common-passwords.txt");

fn common_passwords() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| COMMON.lines().map(str::trim).filter(|l| !l.is_empty()).collect())
}

/// Checks a new password; the error code names the first rule it breaks.
pub fn check(password: &str, username: &str) -> Result<(), ValidationError> {
    let code = if password.len() < 8 {
        FieldCode::TooShort
    } else if password.len() > MAX_PASSWORD_BYTES {
        FieldCode::TooLong
    } else if password.chars().all(|c| c.is_ascii_digit()) {
        FieldCode::EntirelyNumeric
    } else if common_passwords().contains(password.trim().to_lowercase().as_str()) {
        FieldCode::TooCommon
    } else if too_similar(password, username) {
        FieldCode::TooSimilar
    } else {
        return Ok(());
    };
    Err(code.error())
}

/// Django's rule of thumb: a similarity ratio of 0.7 or more (`2 * matches / total length`),
/// here with the longest common subsequence as the matches, and containment either way.
fn too_similar(password: &str, username: &str) -> bool {
    let p: Vec<char> = password.to_lowercase().chars().collect();
    let u: Vec<char> = username.to_lowercase().chars().collect();
    if u.len() < 3 {
        return false;
    }
    let (ps, us): (String, String) = (p.iter().collect(), u.iter().collect());
    if ps.contains(&us) || us.contains(&ps) {
        return true;
    }
    let mut row = vec![0usize; u.len() + 1];
    for a in &p {
        let mut diagonal = 0;
        for (j, b) in u.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if a == b { diagonal + 1 } else { above.max(row[j]) };
            diagonal = above;
        }
    }
    2.0 * row[u.len()] as f64 / (p.len() + u.len()) as f64 >= 0.7
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(password: &str, username: &str) -> Option<String> {
        check(password, username).err().map(|e| e.code.to_string())
    }

    #[test]
    fn the_list_is_a_real_one_of_at_least_ten_thousand() {
        assert!(common_passwords().len() >= 10_000);
        assert!(common_passwords().contains("password"));
    }

    #[test]
    fn each_rule_has_its_code() {
        assert_eq!(code("short", "kim").as_deref(), Some("too_short"));
        assert_eq!(code(&"a".repeat(73), "kim").as_deref(), Some("too_long"));
        assert_eq!(code("1234567890123", "kim").as_deref(), Some("entirely_numeric"));
        assert_eq!(code("Password1", "kim").as_deref(), Some("too_common"));
        assert_eq!(code("barista-kim-2026", "barista-kim").as_deref(), Some("too_similar"));
        assert_eq!(code("correct horse battery", "kim"), None);
    }

    #[test]
    fn seventy_two_bytes_is_the_limit_in_bytes_not_characters() {
        assert_eq!(code(&"가".repeat(24), "kim"), None, "24 x 3 bytes = 72");
        assert_eq!(code(&"가".repeat(25), "kim").as_deref(), Some("too_long"));
    }
}
