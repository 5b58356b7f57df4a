//! Verification of the HS256 JWTs the host signs as a tenant for the app's
//! pages and API: an iframe page JWT must carry the exact qsh of the request
//! (a context token is refused there, threat I-03); a context JWT from
//! `AP.context.getToken()` must carry exactly `context-qsh` and is accepted
//! only by the API. The secret is the one stored for the token's `iss`.

use ids::UnixTime;
use jsonwebtoken::{Algorithm, DecodingKey};

use super::{
    claims::ConnectClaims,
    qsh::{CONTEXT_QSH, qsh},
    token::{RawToken, TokenError, check_times},
};

/// At most a minute of clock skew on host tokens (threat I-13).
pub(crate) const HOST_TOKEN_LEEWAY_SECS: i64 = 60;

/// The request a page JWT must be bound to.
pub(crate) struct PageRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
}

pub(crate) fn verify_page_token(
    token: RawToken<'_>,
    secret: &[u8],
    request: &PageRequest<'_>,
    now: UnixTime,
) -> Result<ConnectClaims, TokenError> {
    let claims = verify_signed(token, secret, now)?;
    let expected = qsh(request.method, request.path, request.query, "");
    if claims.qsh.as_deref() != Some(expected.as_str()) {
        return Err(TokenError::WrongQsh);
    }
    Ok(claims)
}

pub(crate) fn verify_context_token(
    token: RawToken<'_>,
    secret: &[u8],
    now: UnixTime,
) -> Result<ConnectClaims, TokenError> {
    let claims = verify_signed(token, secret, now)?;
    if claims.qsh.as_deref() != Some(CONTEXT_QSH) {
        return Err(TokenError::WrongQsh);
    }
    Ok(claims)
}

fn verify_signed(token: RawToken<'_>, secret: &[u8], now: UnixTime) -> Result<ConnectClaims, TokenError> {
    let claims: ConnectClaims = token.verify(&DecodingKey::from_secret(secret), Algorithm::HS256)?;
    check_times(&claims, now, HOST_TOKEN_LEEWAY_SECS)?;
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;

    const NOW: UnixTime = UnixTime::from_secs(1_800_000_000);
    const SECRET: &[u8] = b"tenant-secret";

    fn sign(claims: serde_json::Value) -> String {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(SECRET)).unwrap()
    }

    fn page(qsh_value: &str) -> String {
        sign(json!({"iss": "t", "sub": "u", "qsh": qsh_value, "iat": NOW, "exp": NOW + 180}))
    }

    const APP_PAGE: PageRequest<'static> = PageRequest { method: "GET", path: "/app", query: "project=A&jwt=x" };

    #[test]
    fn a_page_token_binds_method_path_and_query() {
        let good = page(&qsh("GET", "/app", "project=A", ""));
        assert!(verify_page_token(RawToken::parse(&good).unwrap(), SECRET, &APP_PAGE, NOW).is_ok());
        for other in [
            PageRequest { method: "GET", path: "/app", query: "project=B" },
            PageRequest { method: "GET", path: "/admin", query: "project=A" },
            PageRequest { method: "POST", path: "/app", query: "project=A" },
        ] {
            let err = verify_page_token(RawToken::parse(&good).unwrap(), SECRET, &other, NOW).unwrap_err();
            assert_eq!(err, TokenError::WrongQsh);
        }
    }

    #[test]
    fn a_context_token_is_refused_on_a_page_and_a_page_token_on_the_api() {
        let context = page(CONTEXT_QSH);
        assert_eq!(
            verify_page_token(RawToken::parse(&context).unwrap(), SECRET, &APP_PAGE, NOW).unwrap_err(),
            TokenError::WrongQsh
        );
        assert!(verify_context_token(RawToken::parse(&context).unwrap(), SECRET, NOW).is_ok());
        let page_token = page(&qsh("GET", "/app", "project=A", ""));
        assert!(verify_context_token(RawToken::parse(&page_token).unwrap(), SECRET, NOW).is_err());
    }

    #[test]
    fn context_qsh_must_match_exactly() {
        for value in ["", "CONTEXT-QSH", "context-qsh ", "context"] {
            let token = page(value);
            assert!(verify_context_token(RawToken::parse(&token).unwrap(), SECRET, NOW).is_err(), "{value:?}");
        }
        let missing = sign(json!({"iss": "t", "iat": NOW, "exp": NOW + 180}));
        assert!(verify_context_token(RawToken::parse(&missing).unwrap(), SECRET, NOW).is_err());
    }

    #[test]
    fn expiry_allows_at_most_a_minute_of_skew() {
        let claims = |exp: UnixTime| sign(json!({"iss": "t", "qsh": CONTEXT_QSH, "iat": NOW - 300, "exp": exp}));
        assert!(verify_context_token(RawToken::parse(&claims(NOW - 30)).unwrap(), SECRET, NOW).is_ok());
        assert_eq!(
            verify_context_token(RawToken::parse(&claims(NOW - 61)).unwrap(), SECRET, NOW).unwrap_err(),
            TokenError::Expired
        );
    }
}
