//! Tokens as the host signs them, and raw tokens for attack tests.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::Value;

use crate::keys::InstallKey;

/// RS256 under `key`, with its `kid` in the header (a signed install).
pub fn rs256(claims: &Value, key: &InstallKey) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, claims, &key.encoding_key()).expect("RS256 signing")
}

/// HS256 under a shared secret (iframe, context and lifecycle tokens).
pub fn hs256(claims: &Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(secret))
        .expect("HS256 signing")
}

/// A token from literal header and claims JSON (duplicate keys, odd types and
/// all), signed with `alg` under `key`, or unsigned when `key` is None.
pub fn raw(header_json: &str, claims_json: &str, signer: Option<(&EncodingKey, Algorithm)>) -> String {
    let message = format!("{}.{}", URL_SAFE_NO_PAD.encode(header_json), URL_SAFE_NO_PAD.encode(claims_json));
    let signature = match signer {
        Some((key, alg)) => jsonwebtoken::crypto::sign(message.as_bytes(), key, alg).expect("signing"),
        None => String::new(),
    };
    format!("{message}.{signature}")
}
