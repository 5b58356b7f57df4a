//! Strict JWT handling shared by every token kind: one size cap, exactly
//! three non-empty base64url segments, one expected algorithm, typed claims
//! (a duplicate or mistyped claim is an error, never "absent"), and time
//! checks against a clock the caller passes in. Pure: no I/O.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use ids::UnixTime;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, de::DeserializeOwned};

/// Larger tokens are refused before any decoding (threat I-21).
pub(crate) const MAX_TOKEN_LEN: usize = 8 * 1024;

/// Why a token was refused. `reason()` is safe to send to the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TokenError {
    #[error("missing token")]
    Missing,
    #[error("token too large")]
    TooLarge,
    #[error("malformed token")]
    Malformed,
    #[error("token appears in more than one place")]
    Ambiguous,
    #[error("unexpected token algorithm")]
    WrongAlgorithm,
    #[error("invalid key id")]
    BadKeyId,
    #[error("invalid signature")]
    BadSignature,
    /// Expired within [`RENEWABLE_FOR_SECS`]: a page left open, about to renew.
    #[error("token expired")]
    Expired,
    #[error("token expired long ago")]
    ExpiredLongAgo,
    #[error("token not yet valid")]
    NotYetValid,
    #[error("token issued in the future")]
    IssuedInFuture,
    #[error("token issuer mismatch")]
    WrongIssuer,
    #[error("token audience mismatch")]
    WrongAudience,
    #[error("query string hash mismatch")]
    WrongQsh,
    #[error("unknown or inactive installation")]
    UnknownIssuer,
    #[error("wrong token type")]
    WrongType,
    /// A FIT minted for a module that is not served on this route, or one
    /// carrying a user where only Forge itself invokes.
    #[error("token not accepted on this route")]
    WrongModule,
}

impl TokenError {
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Self::Missing => "missing token",
            Self::TooLarge => "token too large",
            Self::Malformed => "malformed token",
            Self::Ambiguous => "token appears in more than one place",
            Self::WrongAlgorithm => "unexpected token algorithm",
            Self::BadKeyId => "invalid key id",
            Self::BadSignature => "invalid signature",
            Self::Expired => "token expired",
            Self::ExpiredLongAgo => "token expired long ago",
            Self::NotYetValid => "token not yet valid",
            Self::IssuedInFuture => "token issued in the future",
            Self::WrongIssuer => "token issuer mismatch",
            Self::WrongAudience => "token audience mismatch",
            Self::WrongQsh => "query string hash mismatch",
            Self::UnknownIssuer => "unknown or inactive installation",
            Self::WrongType => "wrong token type",
            Self::WrongModule => "token not accepted on this route",
        }
    }
}

/// A refused token is a 401 with its reason (the reason is safe to send).
impl From<TokenError> for crate::error::Error {
    fn from(e: TokenError) -> Self {
        Self::Unauthorized(e.reason())
    }
}

/// A token whose size and shape were checked; nothing is verified yet.
#[derive(Clone, Copy)]
pub(crate) struct RawToken<'a>(&'a str);

/// The header fields we read. `jku`, `jwk`, `x5u`, `x5c` are never read
/// (threat L-08): keys come only from configuration or the key server.
#[derive(Debug, Deserialize)]
pub(crate) struct TokenHeader {
    pub alg: String,
    #[serde(default)]
    pub kid: Option<String>,
}

impl<'a> RawToken<'a> {
    pub(crate) fn parse(token: &'a str) -> Result<Self, TokenError> {
        if token.is_empty() {
            return Err(TokenError::Missing);
        }
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::TooLarge);
        }
        let segments: Vec<&str> = token.split('.').collect();
        let well_formed = segments.len() == 3
            && segments
                .iter()
                .all(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        if !well_formed {
            return Err(TokenError::Malformed);
        }
        Ok(Self(token))
    }

    pub(crate) fn as_str(&self) -> &'a str {
        self.0
    }

    pub(crate) fn header(&self) -> Result<TokenHeader, TokenError> {
        decode_segment(self.segment(0))
    }

    /// Claims read *without* verification, only to find which key verifies.
    pub(crate) fn unverified_claims<C: DeserializeOwned>(&self) -> Result<C, TokenError> {
        decode_segment(self.segment(1))
    }

    fn segment(&self, index: usize) -> &'a str {
        self.0.split('.').nth(index).unwrap_or_default()
    }

    /// Checks the algorithm is exactly `alg`, the signature under `key`, and
    /// decodes the claims into `C`. Times are the caller's job ([`check_times`]).
    pub(crate) fn verify<C: DeserializeOwned>(&self, key: &DecodingKey, alg: Algorithm) -> Result<C, TokenError> {
        let header = self.header()?;
        if header.alg != alg_name(alg) {
            return Err(TokenError::WrongAlgorithm);
        }
        let mut validation = Validation::new(alg);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        validation.leeway = 0;
        match jsonwebtoken::decode::<C>(self.0, key, &validation) {
            Ok(data) => Ok(data.claims),
            Err(e) => Err(match e.kind() {
                jsonwebtoken::errors::ErrorKind::InvalidSignature => TokenError::BadSignature,
                jsonwebtoken::errors::ErrorKind::InvalidAlgorithm
                | jsonwebtoken::errors::ErrorKind::InvalidAlgorithmName => TokenError::WrongAlgorithm,
                jsonwebtoken::errors::ErrorKind::InvalidKeyFormat
                | jsonwebtoken::errors::ErrorKind::InvalidRsaKey(_) => TokenError::BadSignature,
                _ => TokenError::Malformed,
            }),
        }
    }
}

fn decode_segment<T: DeserializeOwned>(segment: &str) -> Result<T, TokenError> {
    let bytes = URL_SAFE_NO_PAD.decode(segment).map_err(|_| TokenError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| TokenError::Malformed)
}

fn alg_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::HS256 => "HS256",
        Algorithm::RS256 => "RS256",
        _ => "unsupported",
    }
}

/// The time claims every token kind carries, typed so that `"exp":"never"`
/// or `"nbf":"99999999999"` fail to parse (CVE-2026-25537).
pub(crate) trait TimeClaims {
    fn exp(&self) -> UnixTime;
    fn iat(&self) -> UnixTime;
    fn nbf(&self) -> Option<UnixTime>;
}

/// How long after its `exp` a token counts as recently expired: a page left
/// open that long still renews its session without the refusal counting
/// against its network. Older tokens are refused as [`TokenError::ExpiredLongAgo`].
pub(crate) const RENEWABLE_FOR_SECS: i64 = 3600;

/// `exp` must not have passed, `iat` must not be in the future, `nbf` must
/// have come, each allowing `leeway_secs` of clock skew.
pub(crate) fn check_times(claims: &impl TimeClaims, now: UnixTime, leeway_secs: i64) -> Result<(), TokenError> {
    if claims.exp().saturating_add(leeway_secs) < now {
        let recent = claims.exp().saturating_add(RENEWABLE_FOR_SECS) >= now;
        return Err(if recent { TokenError::Expired } else { TokenError::ExpiredLongAgo });
    }
    if claims.iat() > now.saturating_add(leeway_secs) {
        return Err(TokenError::IssuedInFuture);
    }
    if claims.nbf().is_some_and(|nbf| nbf > now.saturating_add(leeway_secs)) {
        return Err(TokenError::NotYetValid);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    struct Claims {
        iss: String,
        exp: UnixTime,
        iat: UnixTime,
        nbf: Option<UnixTime>,
    }

    impl TimeClaims for Claims {
        fn exp(&self) -> UnixTime {
            self.exp
        }
        fn iat(&self) -> UnixTime {
            self.iat
        }
        fn nbf(&self) -> Option<UnixTime> {
            self.nbf
        }
    }

    fn b64(s: &str) -> String {
        URL_SAFE_NO_PAD.encode(s)
    }

    fn signed(header: &str, claims: &str, secret: &[u8]) -> String {
        let message = format!("{}.{}", b64(header), b64(claims));
        let sig = jsonwebtoken::crypto::sign(message.as_bytes(), &EncodingKey::from_secret(secret), Algorithm::HS256)
            .unwrap();
        format!("{message}.{sig}")
    }

    fn hs256(claims: serde_json::Value) -> String {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(b"s3cret")).unwrap()
    }

    fn verify(token: &str) -> Result<Claims, TokenError> {
        RawToken::parse(token)?.verify::<Claims>(&DecodingKey::from_secret(b"s3cret"), Algorithm::HS256)
    }

    #[test]
    fn a_well_signed_token_verifies_and_its_claims_are_typed() {
        let c = verify(&hs256(json!({"iss": "a", "exp": 200, "iat": 100}))).unwrap();
        assert_eq!((c.iss.as_str(), c.exp.secs(), c.iat.secs()), ("a", 200, 100));
    }

    #[test]
    fn alg_none_in_any_spelling_is_refused() {
        for alg in ["none", "None", "NONE", "nOnE"] {
            let header = format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#);
            let unsigned = format!("{}.{}.", b64(&header), b64(r#"{"iss":"a","exp":9999999999,"iat":1}"#));
            assert!(verify(&unsigned).is_err(), "{alg} with empty signature");
            let with_sig = format!("{unsigned}AAAA");
            assert!(verify(&with_sig).is_err(), "{alg} with a signature");
        }
    }

    #[test]
    fn other_algorithms_are_refused_on_an_hs256_route() {
        for alg in ["HS384", "HS512", "RS256", "PS256", "ES256"] {
            let token = signed(&format!(r#"{{"alg":"{alg}"}}"#), r#"{"iss":"a","exp":9,"iat":1}"#, b"s3cret");
            assert_eq!(verify(&token).unwrap_err(), TokenError::WrongAlgorithm, "{alg}");
        }
    }

    #[test]
    fn broken_signatures_are_refused() {
        let token = hs256(json!({"iss": "a", "exp": 200, "iat": 100}));
        let (message, sig) = token.rsplit_once('.').unwrap();
        assert!(verify(&format!("{message}.")).is_err(), "null signature");
        assert!(verify(&format!("{message}.{}", &sig[..sig.len() - 4])).is_err(), "truncated");
        let mut flipped = sig.as_bytes().to_vec();
        flipped[3] = if flipped[3] == b'A' { b'B' } else { b'A' };
        assert!(verify(&format!("{message}.{}", String::from_utf8(flipped).unwrap())).is_err(), "flipped");
        let wrong_key = signed(r#"{"alg":"HS256"}"#, r#"{"iss":"a","exp":9,"iat":1}"#, b"");
        assert_eq!(verify(&wrong_key).unwrap_err(), TokenError::BadSignature, "blank key");
    }

    #[test]
    fn non_canonical_base64_and_wrong_segment_counts_are_malformed() {
        let token = hs256(json!({"iss": "a", "exp": 200, "iat": 100}));
        let (message, sig) = token.rsplit_once('.').unwrap();
        assert!(verify(&format!("{message}.{sig}=")).is_err(), "padding");
        // The standard alphabet's `+` and `/` in place of the URL-safe `-` and `_`: a token that has them.
        let url_safe = (0..1000)
            .map(|n| hs256(json!({"iss": format!("a{n}"), "exp": 200, "iat": 100})))
            .find(|t| t.contains(['-', '_']))
            .expect("a token with - or _ among the first thousand");
        assert!(verify(&url_safe).is_ok());
        assert!(verify(&url_safe.replace('-', "+").replace('_', "/")).is_err(), "the standard alphabet");
        for bad in ["a.b", "a.b.c.d", "a.b.c.d.e", "..", "a..c", ""] {
            assert!(RawToken::parse(bad).is_err() || verify(bad).is_err(), "{bad:?}");
        }
        // A last character whose unused low bits are set decodes to the same bytes: refuse it.
        let last = sig.chars().last().unwrap();
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let index = alphabet.find(last).unwrap();
        let tweaked = alphabet.chars().nth(index | 1).unwrap();
        if tweaked != last {
            assert!(verify(&format!("{message}.{}{tweaked}", &sig[..sig.len() - 1])).is_err());
        }
    }

    #[test]
    fn oversized_tokens_are_refused_before_decoding() {
        let big = "a".repeat(MAX_TOKEN_LEN + 1);
        assert_eq!(RawToken::parse(&big).err(), Some(TokenError::TooLarge));
    }

    #[test]
    fn duplicate_or_mistyped_claims_are_refused() {
        for claims in [
            r#"{"iss":"a","iss":"b","exp":9999999999,"iat":1}"#,
            r#"{"iss":"a","exp":9999999999,"exp":1,"iat":1}"#,
            r#"{"iss":"a","exp":"never","iat":1}"#,
            r#"{"iss":"a","exp":1e309,"iat":1}"#,
            r#"{"iss":"a","exp":9999999999,"iat":1,"nbf":"99999999999"}"#,
            r#"{"iss":"a","exp":9999999999,"iat":1,"nbf":{}}"#,
            r#"{"iss":null,"exp":9999999999,"iat":1}"#,
            r#"{"iss":"a","exp":true,"iat":1}"#,
            r#"{"iss":"a","iat":1}"#,
        ] {
            let token = signed(r#"{"alg":"HS256"}"#, claims, b"s3cret");
            assert!(verify(&token).is_err(), "{claims}");
        }
        let dup_alg = signed(r#"{"alg":"HS256","alg":"none"}"#, r#"{"iss":"a","exp":9,"iat":1}"#, b"s3cret");
        assert!(verify(&dup_alg).is_err(), "duplicate alg");
    }

    #[test]
    fn times_are_checked_with_the_given_leeway() {
        let claims = |exp, iat, nbf| Claims { iss: "a".into(), exp, iat, nbf };
        let now = UnixTime::from_secs(1_000_000);
        assert_eq!(check_times(&claims(now - 61, now - 100, None), now, 60), Err(TokenError::Expired));
        assert!(check_times(&claims(now - 30, now - 100, None), now, 60).is_ok());
        let epoch = UnixTime::EPOCH;
        assert_eq!(check_times(&claims(epoch - 1, epoch, None), now, 60), Err(TokenError::ExpiredLongAgo));
        let an_hour_ago = now - RENEWABLE_FOR_SECS;
        assert_eq!(check_times(&claims(an_hour_ago, an_hour_ago - 900, None), now, 60), Err(TokenError::Expired));
        let longer = claims(an_hour_ago - 1, an_hour_ago - 900, None);
        assert_eq!(check_times(&longer, now, 60), Err(TokenError::ExpiredLongAgo));
        assert_eq!(check_times(&claims(now + 900, now + 600, None), now, 60), Err(TokenError::IssuedInFuture));
        assert_eq!(check_times(&claims(now + 900, now, Some(now + 600)), now, 60), Err(TokenError::NotYetValid));
    }
}
