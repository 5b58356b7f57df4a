//! Entry points for the coverage-guided fuzz targets in `fuzz/` (threat
//! R-10). Each takes arbitrary bytes, runs one parser or verifier of the
//! protocol core, and panics when an invariant breaks: a refusal is a normal
//! outcome, a panic is a finding. Built for the fuzz crate (feature
//! `fuzzing`) and for the unit test below, which replays the committed seed
//! corpora in CI.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use ids::{AccountId, UnixTime};
use jsonwebtoken::{Algorithm, EncodingKey};

use crate::connect::{
    host_token::{PageRequest, verify_context_token, verify_page_token},
    lifecycle::LifecycleEvent,
    payload::LifecyclePayload,
    qsh::{canonical_request, qsh as query_hash},
    session_token::{self, Issue, SessionKey},
    token::{MAX_TOKEN_LEN, RawToken},
};

const SECRET: &[u8] = b"fuzzing-tenant-shared-secret";
const NOW: UnixTime = UnixTime::from_secs(1_800_000_000);
const HS256_HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// The host-token parser and verifier. The first byte picks the mode: even,
/// the rest is a token as it arrives on the wire; odd, the rest is a claims
/// segment that is signed with the tenant's secret first, so that the claim
/// parsing and time checks behind the signature are reached too.
pub fn host_token(data: &[u8]) {
    let Some((mode, rest)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(rest);
    let token = if mode % 2 == 0 { text.into_owned() } else { sign(HS256_HEADER.as_bytes(), rest) };
    let Ok(raw) = RawToken::parse(&token) else { return };
    assert!(token.len() <= MAX_TOKEN_LEN, "an oversized token was accepted for parsing");
    assert_eq!(token.split('.').count(), 3, "a token without three segments was accepted");
    let _ = raw.header();
    let request = PageRequest { method: "GET", path: "/app", query: "a=1" };
    if let Ok(claims) = verify_page_token(raw, SECRET, &request, NOW) {
        assert_eq!(claims.qsh.as_deref(), Some(query_hash("GET", "/app", "a=1", "").as_str()));
        assert!(claims.exp.saturating_add(60) >= NOW && claims.iat <= NOW + 60, "a stale page token verified");
    }
    if let Ok(claims) = verify_context_token(raw, SECRET, NOW) {
        assert_eq!(claims.qsh.as_deref(), Some("context-qsh"), "a context token verified without context-qsh");
    }
    if mode % 2 == 1 {
        assert!(verify_context_token(raw, b"another secret", NOW).is_err(), "a token verified under two secrets");
    }
}

/// The qsh canonicaliser. The input is `method \n path \n query \n base path`.
/// The hash is 64 hex digits, and neither the method's case, the order of
/// the query's parameters, nor an added `jwt` parameter changes it.
pub fn qsh(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(4, '\n');
    let (method, path, query, base) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    let hash = query_hash(method, path, query, base);
    assert!(hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()), "qsh is not 64 hex digits");
    let canonical = canonical_request(method, path, query, base);
    assert_eq!(canonical, canonical_request(&method.to_ascii_lowercase(), path, query, base), "method case matters");
    let reversed: Vec<&str> = query.split('&').rev().collect();
    assert_eq!(canonical, canonical_request(method, path, &reversed.join("&"), base), "parameter order matters");
    let with_jwt = format!("{query}&jwt=eyJ.eyJ.sig");
    assert_eq!(canonical, canonical_request(method, path, &with_jwt, base), "the jwt parameter is hashed");
}

/// The lifecycle payload parser, for every event. What it accepts is
/// bounded, and its base URL is already in its one canonical spelling.
pub fn lifecycle_payload(data: &[u8]) {
    for event in LifecycleEvent::ALL {
        let Ok(payload) = LifecyclePayload::parse(data, event) else { continue };
        let key = &payload.client_key;
        assert!(!key.is_empty() && key.len() <= 255 && !key.chars().any(char::is_control), "clientKey unbounded");
        assert!(!payload.base_url.ends_with('/'), "baseUrl kept a trailing slash");
        if event == LifecycleEvent::Installed {
            assert!(payload.shared_secret.is_some(), "an install without a shared secret was accepted");
        }
        let again = serde_json::json!({"key": "k", "clientKey": "c", "sharedSecret": "s", "baseUrl": payload.base_url});
        match LifecyclePayload::parse(again.to_string().as_bytes(), LifecycleEvent::Installed) {
            Ok(reparsed) => assert_eq!(reparsed.base_url, payload.base_url, "baseUrl normalisation is not stable"),
            Err(reason) => panic!("a normalised baseUrl was refused: {reason}"),
        }
    }
}

/// The session-token verifier. The input's first four bytes choose the clock,
/// the key, the generation and where to tamper; the rest, the tenant and user
/// (split at a newline) of a token that is minted and then verified: it
/// verifies exactly while it is fresh, gives back what was minted, and fails
/// once any character of its claims is changed. The same bytes are also
/// verified as a token from the wire (which must only not panic).
pub fn session_token(data: &[u8]) {
    let keys = [SessionKey { id: "s1", bytes: &[7; 32] }, SessionKey { id: "s2", bytes: &[9; 32] }];
    if let Ok(raw) = RawToken::parse(&String::from_utf8_lossy(data)) {
        let _ = session_token::verify(raw, &keys, "app", NOW);
    }
    let Some((&[age, pick, generation, at], rest)) = data.split_first_chunk::<4>() else { return };
    let text = String::from_utf8_lossy(rest);
    let (tenant, account) = text.split_once('\n').unwrap_or((&text, ""));
    let account = (!account.is_empty()).then(|| AccountId::new(account));
    let issue = Issue {
        app_key: "app",
        tenant,
        account_id: account.as_ref(),
        generation: i64::from(generation),
        jti: "0123456789abcdef0123456789abcdef".into(),
        now: NOW,
        ttl_secs: 900,
    };
    let key = &keys[usize::from(pick % 2)];
    let Ok((token, minted)) = session_token::mint(key, &issue) else { return };
    let now = NOW + i64::from(age) * 8;
    let fresh = now <= minted.exp + 30;
    let verified = RawToken::parse(&token).and_then(|raw| session_token::verify(raw, &keys, "app", now));
    match verified {
        Ok(claims) => assert!(fresh && claims == minted, "a stale or altered session token verified"),
        Err(e) => assert!(!fresh || token.len() > MAX_TOKEN_LEN, "a fresh session token was refused: {e:?}"),
    }
    let tampered = tamper(&token, at);
    if let Ok(raw) = RawToken::parse(&tampered) {
        assert!(session_token::verify(raw, &keys, "app", NOW).is_err(), "a tampered session token verified");
    }
}

/// A JWT of `header` and `claims` (raw JSON) signed with [`SECRET`].
fn sign(header: &[u8], claims: &[u8]) -> String {
    let message = format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(claims));
    match jsonwebtoken::crypto::sign(message.as_bytes(), &EncodingKey::from_secret(SECRET), Algorithm::HS256) {
        Ok(signature) => format!("{message}.{signature}"),
        Err(_) => message,
    }
}

/// `token` with one character of its claims segment (not the last, whose low
/// bits may not count) replaced by another base64url character; `at` picks
/// which, anywhere along the segment.
fn tamper(token: &str, at: u8) -> String {
    let mut segments: Vec<String> = token.split('.').map(str::to_string).collect();
    let Some(claims) = segments.get_mut(1).filter(|s| s.len() > 1) else { return token.to_string() };
    let index = usize::from(at) * (claims.len() - 1) / 256;
    let old = claims.as_bytes()[index];
    let new = if old == b'A' { 'B' } else { 'A' };
    claims.replace_range(index..=index, &new.to_string());
    segments.join(".")
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Every committed seed and every saved finding still passes.
    #[test]
    fn the_seed_corpora_pass_every_invariant() {
        type Target = (&'static str, fn(&[u8]));
        let targets: [Target; 4] = [
            ("host_token", super::host_token),
            ("qsh", super::qsh),
            ("lifecycle_payload", super::lifecycle_payload),
            ("session_token", super::session_token),
        ];
        let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds");
        for (name, run) in targets {
            let files: Vec<_> = std::fs::read_dir(seeds.join(name)).unwrap().map(|e| e.unwrap().path()).collect();
            assert!(files.len() >= 3, "{name} has {} seeds", files.len());
            for file in files {
                run(&std::fs::read(&file).unwrap());
            }
        }
    }
}
