//! The `next` of a login: echoed only when it is a local path on this site, so that the API
//! cannot be used as an open redirect.

/// `next` itself when it is a safe local path, else `"/"`.
pub fn safe_next(next: Option<&str>) -> String {
    next.filter(|n| is_safe_local_path(n)).unwrap_or("/").to_owned()
}

/// One leading `/`, not `//` or `/\`, no scheme, no control characters or backslashes
/// anywhere, and none hidden behind percent-encoding either.
fn is_safe_local_path(next: &str) -> bool {
    let decoded = percent_encoding::percent_decode_str(next).decode_utf8_lossy();
    [next, &*decoded].iter().all(|candidate| {
        let bytes = candidate.as_bytes();
        bytes.first() == Some(&b'/')
            && !matches!(bytes.get(1), Some(b'/' | b'\\'))
            && !candidate.chars().any(|c| c.is_control() || c == '\\' || c.is_whitespace())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The contract's list is tested end to end (tests/api/sessions.rs); these are the
    /// tricks hidden behind percent-encoding, and the empty string.
    #[test]
    fn encoded_tricks_become_the_root() {
        for unsafe_next in ["/%2f/evil.example", "/%2F%2Fevil.example", "/%5cevil.example", "/%09/evil.example", ""] {
            assert_eq!(safe_next(Some(unsafe_next)), "/", "{unsafe_next:?}");
        }
    }

    #[test]
    fn local_paths_are_echoed() {
        assert_eq!(safe_next(Some("/api/v1/stamps?phone=%2B8210")), "/api/v1/stamps?phone=%2B8210");
        assert_eq!(safe_next(Some("/")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
