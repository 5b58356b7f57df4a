//! The app's own session token for the single-page app (threat catalogue
//! §D): HS256 under an app-owned key (never a tenant secret), typed
//! (`typ: session`), audience the app's API, bound to the tenant, the user
//! and the install generation, with a random `jti`. Pure: keys and clock
//! come in as arguments.

use ids::{AccountId, UnixTime};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use serde::{Deserialize, Serialize};

use super::token::{RawToken, TimeClaims, TokenError, check_times};

const SESSION_TYPE: &str = "session";
const SESSION_LEEWAY_SECS: i64 = 30;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SessionClaims {
    /// The app key: this app issued it.
    pub iss: String,
    /// `{app key}-api`: only the app's API accepts it.
    pub aud: String,
    pub typ: String,
    /// The user's accountId, when the page had one.
    #[serde(default)]
    pub sub: Option<AccountId>,
    /// The tenant's clientKey.
    pub tenant: String,
    /// The install generation when minted; a reinstall makes it stale.
    pub r#gen: i64,
    pub jti: String,
    pub iat: UnixTime,
    pub exp: UnixTime,
}

impl TimeClaims for SessionClaims {
    fn exp(&self) -> UnixTime {
        self.exp
    }
    fn iat(&self) -> UnixTime {
        self.iat
    }
    fn nbf(&self) -> Option<UnixTime> {
        None
    }
}

/// A signing key with its id (the token header's `kid`).
pub(crate) struct SessionKey<'a> {
    pub id: &'a str,
    pub bytes: &'a [u8],
}

pub(crate) struct Issue<'a> {
    pub app_key: &'a str,
    pub tenant: &'a str,
    pub account_id: Option<&'a AccountId>,
    pub generation: i64,
    /// 128 bits or more of randomness, hex.
    pub jti: String,
    pub now: UnixTime,
    pub ttl_secs: i64,
}

pub(crate) fn audience(app_key: &str) -> String {
    format!("{app_key}-api")
}

pub(crate) fn mint(key: &SessionKey<'_>, issue: &Issue<'_>) -> Result<(String, SessionClaims), TokenError> {
    let claims = SessionClaims {
        iss: issue.app_key.to_string(),
        aud: audience(issue.app_key),
        typ: SESSION_TYPE.to_string(),
        sub: issue.account_id.cloned(),
        tenant: issue.tenant.to_string(),
        r#gen: issue.generation,
        jti: issue.jti.clone(),
        iat: issue.now,
        exp: issue.now + issue.ttl_secs,
    };
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(key.id.to_string());
    let token = jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(key.bytes))
        .map_err(|_| TokenError::Malformed)?;
    Ok((token, claims))
}

/// Verifies a session token against the key its `kid` names among `keys`.
/// The caller still checks the tenant's state and generation.
pub(crate) fn verify(
    token: RawToken<'_>,
    keys: &[SessionKey<'_>],
    app_key: &str,
    now: UnixTime,
) -> Result<SessionClaims, TokenError> {
    let header = token.header()?;
    let kid = header.kid.as_deref().ok_or(TokenError::WrongType)?;
    let key = keys.iter().find(|k| k.id == kid).ok_or(TokenError::WrongType)?;
    let claims: SessionClaims = token.verify(&DecodingKey::from_secret(key.bytes), Algorithm::HS256)?;
    if claims.typ != SESSION_TYPE || claims.iss != app_key {
        return Err(TokenError::WrongType);
    }
    if claims.aud != audience(app_key) {
        return Err(TokenError::WrongAudience);
    }
    check_times(&claims, now, SESSION_LEEWAY_SECS)?;
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: UnixTime = UnixTime::from_secs(1_800_000_000);

    fn key(id: &'static str, byte: u8) -> (String, Vec<u8>) {
        (id.to_string(), vec![byte; 32])
    }

    fn issue<'a>(jti: &str, user: &'a AccountId) -> Issue<'a> {
        Issue {
            app_key: "app",
            tenant: "tenant-a",
            account_id: Some(user),
            generation: 3,
            jti: jti.into(),
            now: NOW,
            ttl_secs: 900,
        }
    }

    fn mint_with(id: &str, bytes: &[u8], jti: &str) -> String {
        mint(&SessionKey { id, bytes }, &issue(jti, &AccountId::new("user-1"))).unwrap().0
    }

    #[test]
    fn a_minted_token_verifies_and_carries_tenant_user_and_generation() {
        let (id, bytes) = key("s1", 1);
        let token = mint_with(&id, &bytes, "j1");
        let keys = [SessionKey { id: &id, bytes: &bytes }];
        let claims = verify(RawToken::parse(&token).unwrap(), &keys, "app", NOW + 10).unwrap();
        assert_eq!((claims.tenant.as_str(), claims.sub, claims.r#gen), ("tenant-a", Some(AccountId::new("user-1")), 3));
        assert_eq!(claims.exp - claims.iat, 900);
    }

    #[test]
    fn an_old_key_still_verifies_until_expiry_and_an_unknown_kid_does_not() {
        let (old_id, old) = key("s-old", 1);
        let (new_id, new) = key("s-new", 2);
        let token = mint_with(&old_id, &old, "j");
        let both = [SessionKey { id: &new_id, bytes: &new }, SessionKey { id: &old_id, bytes: &old }];
        assert!(verify(RawToken::parse(&token).unwrap(), &both, "app", NOW).is_ok());
        assert_eq!(
            verify(RawToken::parse(&token).unwrap(), &both, "app", NOW + 1000).unwrap_err(),
            TokenError::Expired
        );
        let only_new = [SessionKey { id: &new_id, bytes: &new }];
        assert_eq!(verify(RawToken::parse(&token).unwrap(), &only_new, "app", NOW).unwrap_err(), TokenError::WrongType);
    }

    #[test]
    fn a_token_of_another_app_or_type_is_refused() {
        let (id, bytes) = key("s1", 1);
        let keys = [SessionKey { id: &id, bytes: &bytes }];
        let token = mint_with(&id, &bytes, "j");
        assert!(verify(RawToken::parse(&token).unwrap(), &keys, "other-app", NOW).is_err());
        // Same key, but a host-shaped token without typ/kid is not a session.
        let host_like = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &serde_json::json!({"iss": "tenant-a", "qsh": "context-qsh", "iat": NOW, "exp": NOW + 60}),
            &EncodingKey::from_secret(&bytes),
        )
        .unwrap();
        assert_eq!(verify(RawToken::parse(&host_like).unwrap(), &keys, "app", NOW).unwrap_err(), TokenError::WrongType);
    }
}
