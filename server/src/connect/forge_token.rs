//! Forge Invocation Tokens (FIT): what Forge sends a remote backend on every
//! call, as `Authorization: Bearer <FIT>`. RS256 under a key of Forge's JWKS
//! (found by `kid` in `outbound::forge_keys`, from the URL the operator
//! configured, never from a claim), issued by `forge/invocation-token` for
//! this app's id, short-lived, naming a well-formed installation and API
//! base URL. Pure: the key and the clock are passed in.

use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use url::Url;

use super::{
    claims::Audience,
    token::{RawToken, TimeClaims, TokenError, check_times},
};

pub(crate) const FIT_ISSUER: &str = "forge/invocation-token";
/// FITs live about 25 s; this covers clock skew, not replay.
pub(crate) const FIT_LEEWAY_SECS: i64 = 10;
const INSTALLATION_PREFIX: &str = "ari:cloud:ecosystem::installation/";

#[derive(Debug, Deserialize)]
struct FitClaims {
    iss: String,
    aud: Audience,
    exp: i64,
    iat: i64,
    nbf: i64,
    jti: String,
    app: FitApp,
    #[serde(default)]
    context: Option<FitContext>,
    /// The accountId of the user who made the call; absent for calls that no
    /// user made (events, scheduled triggers).
    #[serde(default)]
    principal: Option<String>,
    #[serde(default, rename = "icLabel")]
    ic_label: Option<String>,
}

#[derive(Debug, Deserialize)]
struct FitApp {
    #[serde(rename = "installationId")]
    installation_id: String,
    #[serde(rename = "apiBaseUrl")]
    api_base_url: String,
    #[serde(default)]
    installation: Option<FitInstallation>,
}

#[derive(Debug, Deserialize)]
struct FitInstallation {
    #[serde(default)]
    contexts: Vec<FitContext>,
}

#[derive(Debug, Deserialize)]
struct FitContext {
    #[serde(default, rename = "cloudId")]
    cloud_id: Option<String>,
}

impl TimeClaims for FitClaims {
    fn exp(&self) -> i64 {
        self.exp
    }
    fn iat(&self) -> i64 {
        self.iat
    }
    fn nbf(&self) -> Option<i64> {
        Some(self.nbf)
    }
}

/// What a verified FIT says: the installation (the tenant) and the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct VerifiedFit {
    pub installation_id: String,
    pub api_base_url: Url,
    pub account_id: Option<String>,
    /// The site's stable id: `context.cloudId`, else the installation's first context's.
    pub cloud_id: Option<String>,
    pub iat: i64,
}

/// Verifies `token` under Forge's `key` for the app `app_id` at `now`.
pub(crate) fn verify_fit(
    token: RawToken<'_>,
    key: &DecodingKey,
    app_id: &str,
    now: i64,
) -> Result<VerifiedFit, TokenError> {
    let claims: FitClaims = token.verify(key, Algorithm::RS256)?;
    if claims.iss != FIT_ISSUER {
        return Err(TokenError::WrongIssuer);
    }
    if !audience_is(&claims.aud, app_id) {
        return Err(TokenError::WrongAudience);
    }
    check_times(&claims, now, FIT_LEEWAY_SECS)?;
    let cloud_id = cloud_id(&claims);
    let well_formed = !claims.jti.is_empty()
        && cloud_id.as_deref().is_none_or(is_cloud_id)
        && is_installation_id(&claims.app.installation_id)
        && claims.ic_label.as_deref().is_none_or(is_ic_label)
        && claims.principal.as_deref().is_none_or(|p| !p.is_empty() && p.len() <= 128);
    let api_base_url = Url::parse(&claims.app.api_base_url).ok().filter(|u| {
        matches!(u.scheme(), "https" | "http")
            && u.host().is_some()
            && u.username().is_empty()
            && u.password().is_none()
    });
    let (true, Some(api_base_url)) = (well_formed, api_base_url) else { return Err(TokenError::Malformed) };
    Ok(VerifiedFit {
        installation_id: claims.app.installation_id,
        api_base_url,
        account_id: claims.principal,
        cloud_id,
        iat: claims.iat,
    })
}

fn cloud_id(claims: &FitClaims) -> Option<String> {
    let from_installation =
        claims.app.installation.as_ref().and_then(|i| i.contexts.iter().find_map(|c| c.cloud_id.clone()));
    claims.context.as_ref().and_then(|c| c.cloud_id.clone()).or(from_installation)
}

/// Site ids are UUIDs today; anything beyond letters, digits and dashes is refused.
fn is_cloud_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn audience_is(aud: &Audience, app_id: &str) -> bool {
    match aud {
        Audience::One(a) => a == app_id,
        Audience::Many(list) => list.iter().any(|a| a == app_id),
    }
}

/// `ari:cloud:ecosystem::installation/<uuid>`.
pub(crate) fn is_installation_id(id: &str) -> bool {
    id.strip_prefix(INSTALLATION_PREFIX).is_some_and(|uuid| {
        uuid.len() == 36
            && uuid
                .bytes()
                .enumerate()
                .all(|(i, b)| if matches!(i, 8 | 13 | 18 | 23) { b == b'-' } else { b.is_ascii_hexdigit() })
    })
}

/// Isolated Cloud labels: checked before they are used anywhere.
fn is_ic_label(label: &str) -> bool {
    (1..=50).contains(&label.len())
        && label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::{Value, json};
    use std::sync::OnceLock;

    const APP: &str = "ari:cloud:ecosystem::app/0b5b3c6e-1111-4a2b-9c3d-0123456789ab";
    const INSTALLATION: &str = "ari:cloud:ecosystem::installation/7e0d1c2b-2222-4f3e-8a1b-abcdefabcdef";
    const NOW: i64 = 1_800_000_000;

    fn key() -> &'static hostkit::InstallKey {
        static KEY: OnceLock<hostkit::InstallKey> = OnceLock::new();
        KEY.get_or_init(|| hostkit::InstallKey::generate("forge-1"))
    }

    fn decoding() -> DecodingKey {
        DecodingKey::from_rsa_pem(key().public_pem.as_bytes()).unwrap()
    }

    fn claims() -> Value {
        json!({
            "iss": FIT_ISSUER, "aud": APP, "iat": NOW, "nbf": NOW, "exp": NOW + 25, "jti": "jti-1",
            "app": { "id": APP, "installationId": INSTALLATION, "apiBaseUrl": "https://api.atlassian.com/ex/jira/c1",
                     "installation": { "contexts": [{ "cloudId": "c1" }] } },
            "context": { "cloudId": "c1" }, "principal": "user-1",
        })
    }

    fn sign(claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("forge-1".into());
        let pem = EncodingKey::from_rsa_pem(key().private_pem.as_bytes()).unwrap();
        jsonwebtoken::encode(&header, claims, &pem).unwrap()
    }

    fn verify(claims: &Value) -> Result<VerifiedFit, TokenError> {
        let token = sign(claims);
        verify_fit(RawToken::parse(&token).unwrap(), &decoding(), APP, NOW)
    }

    fn with(path: &[&str], value: Value) -> Value {
        let mut c = claims();
        let (last, parents) = path.split_last().unwrap();
        let mut at = &mut c;
        for p in parents {
            at = &mut at[*p];
        }
        match value {
            Value::Null => {
                at.as_object_mut().unwrap().remove(*last);
            }
            v => at[*last] = v,
        }
        c
    }

    #[test]
    fn a_genuine_fit_names_its_installation_and_user() {
        let fit = verify(&claims()).unwrap();
        assert_eq!(fit.installation_id, INSTALLATION);
        assert_eq!(fit.account_id.as_deref(), Some("user-1"));
        assert_eq!(fit.cloud_id.as_deref(), Some("c1"));
        assert_eq!(fit.api_base_url.as_str(), "https://api.atlassian.com/ex/jira/c1");
        assert_eq!(verify(&with(&["principal"], Value::Null)).unwrap().account_id, None, "no principal, no user");
        assert!(verify(&with(&["aud"], json!(["other", APP]))).is_ok(), "an audience list naming the app");
        let from_installation = verify(&with(&["context"], Value::Null)).unwrap();
        assert_eq!(from_installation.cloud_id.as_deref(), Some("c1"), "the installation's context names the site");
        assert_eq!(fit.iat, NOW);
    }

    /// Threats FT-02, FT-03 and FT-05 (claims), vectors beside the code.
    #[test]
    fn every_claim_is_checked() {
        #[rustfmt::skip]
        let vectors = [
            (with(&["iss"], json!("forge/other")), TokenError::WrongIssuer),
            (with(&["aud"], json!("ari:cloud:ecosystem::app/other")), TokenError::WrongAudience),
            (with(&["aud"], json!([])), TokenError::WrongAudience),
            (with(&["exp"], json!(NOW - FIT_LEEWAY_SECS - 1)), TokenError::Expired),
            (with(&["nbf"], json!(NOW + FIT_LEEWAY_SECS + 1)), TokenError::NotYetValid),
            (with(&["iat"], json!(NOW + FIT_LEEWAY_SECS + 1)), TokenError::IssuedInFuture),
            (with(&["exp"], json!("never")), TokenError::Malformed),
            (with(&["jti"], Value::Null), TokenError::Malformed),
            (with(&["nbf"], Value::Null), TokenError::Malformed),
            (with(&["exp"], Value::Null), TokenError::Malformed),
            (with(&["iat"], json!(1.5)), TokenError::Malformed),
            (with(&["jti"], json!("")), TokenError::Malformed),
            (with(&["app", "installationId"], Value::Null), TokenError::Malformed),
            (with(&["app", "installationId"], json!("ari:cloud:ecosystem::installation/../x")), TokenError::Malformed),
            (with(&["app", "installationId"], json!("7e0d1c2b-2222-4f3e-8a1b-abcdefabcdef")), TokenError::Malformed),
            (with(&["app", "apiBaseUrl"], Value::Null), TokenError::Malformed),
            (with(&["app", "apiBaseUrl"], json!("not a url")), TokenError::Malformed),
            (with(&["app", "apiBaseUrl"], json!("javascript:alert(1)")), TokenError::Malformed),
            (with(&["app", "apiBaseUrl"], json!("https://user:pw@api.atlassian.com")), TokenError::Malformed),
            (with(&["icLabel"], json!("Bad Label")), TokenError::Malformed),
            (with(&["icLabel"], json!("x".repeat(51))), TokenError::Malformed),
            (with(&["principal"], json!("")), TokenError::Malformed),
            (with(&["context", "cloudId"], json!("c1/../x")), TokenError::Malformed),
            (with(&["context", "cloudId"], json!("c".repeat(65))), TokenError::Malformed),
        ];
        for (claims, expected) in vectors {
            assert_eq!(verify(&claims).unwrap_err(), expected, "{claims}");
        }
        assert!(verify(&with(&["icLabel"], json!("ic-eu_1"))).is_ok());
    }

    /// Threat FT-04.
    #[test]
    fn only_rs256_under_the_key_verifies() {
        // HS256 "signed" with the public key's PEM: the key confusion attack.
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("forge-1".into());
        let forged =
            jsonwebtoken::encode(&header, &claims(), &EncodingKey::from_secret(key().public_pem.as_bytes())).unwrap();
        let verified = verify_fit(RawToken::parse(&forged).unwrap(), &decoding(), APP, NOW);
        assert_eq!(verified.unwrap_err(), TokenError::WrongAlgorithm);
        // Another key's signature.
        let other = hostkit::InstallKey::generate("forge-2");
        let wrong_key = DecodingKey::from_rsa_pem(other.public_pem.as_bytes()).unwrap();
        let token = sign(&claims());
        assert_eq!(
            verify_fit(RawToken::parse(&token).unwrap(), &wrong_key, APP, NOW).unwrap_err(),
            TokenError::BadSignature
        );
    }

    #[test]
    fn installation_ids_are_strict() {
        assert!(is_installation_id(INSTALLATION));
        for bad in ["", INSTALLATION_PREFIX, "ari:cloud:ecosystem::installation/7e0d1c2b22224f3e8a1babcdefabcdef0000"] {
            assert!(!is_installation_id(bad), "{bad}");
        }
    }
}
