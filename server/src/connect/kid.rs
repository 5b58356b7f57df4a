//! Validation of the `kid` of a signed install before it goes anywhere near
//! a URL (threat L-07): a short id of `[A-Za-z0-9._/-]`, never `..`, never
//! starting with `/` or `.`, so `{keyserver}/{kid}` can only name a file
//! under the key server's base path.

pub(crate) const MAX_KID_LEN: usize = 128;

pub(crate) fn is_valid_kid(kid: &str) -> bool {
    !kid.is_empty()
        && kid.len() <= MAX_KID_LEN
        && kid.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'/' | b'-'))
        && !kid.contains("..")
        && !kid.contains("//")
        && !kid.starts_with(['/', '.'])
        && !kid.ends_with('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atlassian_style_kids_are_valid() {
        for kid in ["0e50fccb-239d-4991-a5db-dc850ba3f236", "connect/prod/key_1.pem", "k1"] {
            assert!(is_valid_kid(kid), "{kid}");
        }
    }

    #[test]
    fn traversal_injection_and_oversized_kids_are_refused() {
        let long = "a".repeat(MAX_KID_LEN + 1);
        let four_kb = "k".repeat(4096);
        for kid in [
            "",
            "../x",
            "../../x",
            "a/../b",
            "%2e%2e%2f",
            "%2F",
            "a?b=c",
            "a#b",
            "http://127.0.0.1:1/",
            "/etc/passwd",
            ".hidden",
            "a//b",
            "a/",
            "a b",
            "ключ",
            "a\0b",
            "a\\b",
            long.as_str(),
            four_kb.as_str(),
        ] {
            assert!(!is_valid_kid(kid), "{kid:?}");
        }
    }
}
