//! The `next` of a login: echoed only when it is a local path on this site, so that the API
//! cannot be used as an open redirect.

/// `next` itself when it is a safe local path, else `"/"`.
pub fn safe_next(next: Option<&str>) -> String {
    next.filter(|n| is_safe_local_path(n)).unwrap_or("/").to_owned()
}

/// One leading `/`, not `//` or `/\`, no scheme, no control characters or backslashes
/// anywhere, and none hidden behind percent-encoding either.
fn is_safe_local_path(next: &str) -> bool {
    let decoded = percent_decode(next);
    [next, decoded.as_str()].iter().all(|candidate| {
        let bytes = candidate.as_bytes();
        bytes.first() == Some(&b'/')
            && !matches!(bytes.get(1), Some(b'/' | b'\\'))
            && !candidate.chars().any(|c| c.is_control() || c == '\\' || c.is_whitespace())
    })
}

/// Decodes `%XX` sequences (invalid ones are kept as they are).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
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
