//! The query string hash, written independently of the app's own code so a
//! test cannot pass by sharing a bug with it.

use sha2::{Digest, Sha256};

/// qsh of `method` + `path` + decoded query `params` (the `jwt` one excluded).
pub fn qsh(method: &str, path: &str, params: &[(&str, &str)]) -> String {
    hex::encode(Sha256::digest(canonical(method, path, params).as_bytes()))
}

pub(crate) fn canonical(method: &str, path: &str, params: &[(&str, &str)]) -> String {
    let mut path = path.trim_end_matches('/').replace('&', "%26");
    if !path.starts_with('/') {
        path.insert(0, '/');
    }
    let mut keys: Vec<&str> = params.iter().map(|(k, _)| *k).filter(|k| *k != "jwt").collect();
    keys.sort_unstable();
    keys.dedup();
    let query: Vec<String> = keys
        .iter()
        .map(|key| {
            let mut values: Vec<String> = params.iter().filter(|(k, _)| k == key).map(|(_, v)| rfc3986(v)).collect();
            values.sort();
            format!("{}={}", rfc3986(key), values.join(","))
        })
        .collect();
    format!("{}&{}&{}", method.to_uppercase(), path, query.join("&"))
}

fn rfc3986(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn matches_the_protocol_reference_vector() {
        let params =
            [("zee_last", "param"), ("repeated", "parameter 1"), ("first", "param"), ("repeated", "parameter 2")];
        assert_eq!(
            super::canonical("GET", "/path/to/service", &params),
            "GET&/path/to/service&first=param&repeated=parameter%201,parameter%202&zee_last=param"
        );
    }
}
