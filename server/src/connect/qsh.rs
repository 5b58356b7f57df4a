//! The query string hash (qsh) that binds a Connect JWT to one request:
//! `hex(sha256(METHOD & canonicalPath & canonicalQuery))` (connect-protocol.md).
//! Pure functions over strings; the reference vectors are in the tests.

use sha2::{Digest, Sha256};
use url::form_urlencoded;

/// The fixed qsh of context JWTs from `AP.context.getToken()`. Accepted only
/// where a route says so; everywhere else the real hash is required.
pub(crate) const CONTEXT_QSH: &str = "context-qsh";

/// The qsh of a request, given its method, path as received, and raw query
/// string. `base_path` is the path prefix of the base URL the request is
/// relative to ("" for an app served at the root, "/wiki" for Confluence).
pub(crate) fn qsh(method: &str, path: &str, query: &str, base_path: &str) -> String {
    hex::encode(Sha256::digest(canonical_request(method, path, query, base_path).as_bytes()))
}

pub(crate) fn canonical_request(method: &str, path: &str, query: &str, base_path: &str) -> String {
    format!("{}&{}&{}", method.to_ascii_uppercase(), canonical_path(path, base_path), canonical_query(query))
}

fn canonical_path(path: &str, base_path: &str) -> String {
    let base = base_path.trim_end_matches('/');
    let relative = if !base.is_empty() && (path == base || path.starts_with(&format!("{base}/"))) {
        &path[base.len()..]
    } else {
        path
    };
    let trimmed = relative.trim_end_matches('/');
    let with_slash = if trimmed.starts_with('/') { trimmed.to_string() } else { format!("/{trimmed}") };
    with_slash.replace('&', "%26")
}

/// Decoded `key=value` pairs, `jwt` dropped, keys sorted by byte order, the
/// values of a repeated key sorted and joined by `,`, all re-encoded per RFC 3986.
fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k != "jwt")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.sort();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < pairs.len() {
        let key = &pairs[i].0;
        let values: Vec<String> = pairs[i..].iter().take_while(|(k, _)| k == key).map(|(_, v)| encode(v)).collect();
        i += values.len();
        out.push(format!("{}={}", encode(key), values.join(",")));
    }
    out.join("&")
}

/// RFC 3986 percent-encoding: only unreserved characters stay as they are.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_vector_from_the_protocol() {
        let query = "zee_last=param&repeated=parameter%201&first=param&repeated=parameter%202";
        assert_eq!(
            canonical_request("GET", "/path/to/service", query, ""),
            "GET&/path/to/service&first=param&repeated=parameter%201,parameter%202&zee_last=param"
        );
    }

    #[test]
    fn lifecycle_callback_qsh_is_the_hash_of_post_path_and_empty_query() {
        assert_eq!(canonical_request("post", "/installed", "", ""), "POST&/installed&");
        assert_eq!(qsh("POST", "/installed", "", ""), hex::encode(Sha256::digest(b"POST&/installed&")));
    }

    #[test]
    fn encoding_follows_rfc_3986() {
        assert_eq!(canonical_query("a=x+y&b=*&c=~&d=%2B"), "a=x%20y&b=%2A&c=~&d=%2B");
        assert_eq!(canonical_query("k=%C3%A9"), "k=%C3%A9");
    }

    #[test]
    fn paths_are_normalised() {
        assert_eq!(canonical_path("/a&b", ""), "/a%26b");
        assert_eq!(canonical_path("/page/", ""), "/page");
        assert_eq!(canonical_path("", ""), "/");
        assert_eq!(canonical_path("/", ""), "/");
        assert_eq!(canonical_path("/wiki/rest/api/user", "/wiki"), "/rest/api/user");
        assert_eq!(canonical_path("/wiki", "/wiki/"), "/");
        assert_eq!(canonical_path("/wikipedia", "/wiki"), "/wikipedia");
    }

    #[test]
    fn jwt_is_excluded_and_keys_sort_by_code_point() {
        assert_eq!(canonical_query("b=1&jwt=abc&a=2&B=3"), "B=3&a=2&b=1");
        assert_eq!(canonical_query(""), "");
    }

    #[test]
    fn method_path_and_query_all_change_the_hash() {
        let base = qsh("GET", "/page", "project=A", "");
        assert_ne!(base, qsh("GET", "/page", "project=B", ""));
        assert_ne!(base, qsh("POST", "/page", "project=A", ""));
        assert_ne!(base, qsh("GET", "/admin", "project=A", ""));
        assert_eq!(base, qsh("get", "/page/", "project=A&jwt=x", ""));
    }

    #[test]
    fn canonical_paths_always_start_with_a_slash_and_hold_no_raw_ampersand() {
        for path in ["", "/", "a", "/a/b/", "/&/", "//x//", "/a&b&c"] {
            let p = canonical_path(path, "");
            assert!(p.starts_with('/'), "{path:?} -> {p:?}");
            assert!(!p.contains('&'), "{path:?} -> {p:?}");
            assert!(p == "/" || !p.ends_with('/'), "{path:?} -> {p:?}");
        }
    }
}
