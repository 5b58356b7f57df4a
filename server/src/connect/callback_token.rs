//! Verification of the JWTs on lifecycle callbacks: RS256 with Atlassian's
//! key for `installed`/`uninstalled` (signed install), HS256 with the
//! tenant's shared secret for `enabled`/`disabled` and legacy reinstalls.
//! Both bind the token to the body's clientKey and to `POST` + the callback
//! path through the qsh.

use ids::{ClientKey, UnixTime};
use jsonwebtoken::{Algorithm, DecodingKey};

use super::{
    claims::ConnectClaims,
    qsh::qsh,
    token::{RawToken, TokenError, check_times},
};

/// Clock skew allowed on lifecycle tokens, which live about three minutes.
pub(crate) const LIFECYCLE_LEEWAY_SECS: i64 = 30;

/// What the request itself says the token must match.
pub(crate) struct CallbackContext<'a> {
    /// `clientKey` from the request body.
    pub client_key: &'a ClientKey,
    /// The callback path as received, e.g. `/installed`.
    pub path: &'a str,
    pub now: UnixTime,
}

/// A signed install or uninstall: RS256 under Atlassian's public key, `aud`
/// naming this app's base URL.
pub(crate) fn verify_signed_install(
    token: RawToken<'_>,
    atlassian_key: &DecodingKey,
    app_base_url: &str,
    context: &CallbackContext<'_>,
) -> Result<ConnectClaims, TokenError> {
    let claims: ConnectClaims = token.verify(atlassian_key, Algorithm::RS256)?;
    if !claims.aud.as_ref().is_some_and(|aud| aud.contains_base_url(app_base_url)) {
        return Err(TokenError::WrongAudience);
    }
    check_callback_claims(&claims, context)?;
    Ok(claims)
}

/// A callback signed by the host as the tenant: HS256 under its shared secret.
pub(crate) fn verify_tenant_signed(
    token: RawToken<'_>,
    shared_secret: &[u8],
    context: &CallbackContext<'_>,
) -> Result<ConnectClaims, TokenError> {
    let claims: ConnectClaims = token.verify(&DecodingKey::from_secret(shared_secret), Algorithm::HS256)?;
    check_callback_claims(&claims, context)?;
    Ok(claims)
}

fn check_callback_claims(claims: &ConnectClaims, context: &CallbackContext<'_>) -> Result<(), TokenError> {
    check_times(claims, context.now, LIFECYCLE_LEEWAY_SECS)?;
    if *context.client_key != claims.iss {
        return Err(TokenError::WrongIssuer);
    }
    if claims.qsh.as_deref() != Some(qsh("POST", context.path, "", "").as_str()) {
        return Err(TokenError::WrongQsh);
    }
    Ok(())
}
