//! Forge Invocation Tokens (FIT): what Forge sends a remote backend on every
//! call, as `Authorization: Bearer <FIT>`. RS256 under a key of Forge's JWKS
//! (found by `kid` in `outbound::forge_keys`, from the URL the operator
//! configured, never from a claim), issued by `forge/invocation-token` for
//! this app's id, short-lived, naming a well-formed installation and API
//! base URL. Pure: the key and the clock are passed in.

use ids::{AccountId, CloudId, InstallationId, UnixTime};
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
    exp: UnixTime,
    iat: UnixTime,
    nbf: UnixTime,
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
    /// The module the invocation was made for: a trigger, a UI page…
    #[serde(default)]
    module: Option<FitModule>,
    #[serde(default)]
    environment: Option<FitEnvironment>,
    /// Only for a paid app's production installations (absent for a free
    /// app, in development and staging).
    #[serde(default)]
    license: Option<FitLicense>,
}

#[derive(Debug, Deserialize)]
struct FitLicense {
    /// `active`; the deprecated `isActive` (removed after 17 Oct 2026) when it is missing.
    #[serde(default)]
    active: Option<bool>,
    #[serde(default, rename = "isActive")]
    is_active: Option<bool>,
}

#[derive(Debug, Deserialize)]
struct FitModule {
    key: String,
}

#[derive(Debug, Deserialize)]
struct FitEnvironment {
    #[serde(rename = "type")]
    kind: String,
    id: String,
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
    #[serde(default, rename = "siteUrl")]
    site_url: Option<String>,
}

impl TimeClaims for FitClaims {
    fn exp(&self) -> UnixTime {
        self.exp
    }
    fn iat(&self) -> UnixTime {
        self.iat
    }
    fn nbf(&self) -> Option<UnixTime> {
        Some(self.nbf)
    }
}

/// What a verified FIT says: the installation (the tenant) and the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct VerifiedFit {
    pub installation_id: InstallationId,
    pub api_base_url: Url,
    pub account_id: Option<AccountId>,
    /// The site's stable id: `context.cloudId`, else the installation's first context's.
    pub cloud_id: Option<CloudId>,
    /// The site's URL (`context.siteUrl`): a Forge tenant follows its renames.
    pub site_url: Option<Url>,
    /// `app.module.key`: which of the manifest's modules the call was made for.
    pub module_key: Option<String>,
    /// `app.environment`: a development install is not the production one.
    pub environment: Option<ForgeEnvironment>,
    /// `app.license.active`, when the FIT has a licence (`connect::license`).
    pub license_active: Option<bool>,
    pub iat: UnixTime,
}

/// The Forge environment an installation runs in (`app.environment`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ForgeEnvironment {
    pub id: String,
    /// `DEVELOPMENT`, `STAGING` or `PRODUCTION`.
    pub kind: String,
}

impl ForgeEnvironment {
    /// Tenants recorded before environments were (a Connect-on-Forge tenant
    /// that learned its cloudId earlier) count as production's: Connect apps
    /// move to Forge in production.
    pub(crate) fn matches(&self, stored_id: Option<&str>) -> bool {
        match stored_id {
            Some(id) => id == self.id,
            None => self.kind == "PRODUCTION",
        }
    }
}

/// Verifies `token` under Forge's `key` for the app `app_id` at `now`.
pub(crate) fn verify_fit(
    token: RawToken<'_>,
    key: &DecodingKey,
    app_id: &str,
    now: UnixTime,
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
    let module_key = claims.app.module.map(|m| m.key);
    let environment = claims.app.environment.map(|e| ForgeEnvironment { id: e.id, kind: e.kind });
    let well_formed = !claims.jti.is_empty()
        && cloud_id.as_deref().is_none_or(is_cloud_id)
        && is_installation_id(&claims.app.installation_id)
        && claims.ic_label.as_deref().is_none_or(is_ic_label)
        && claims.principal.as_deref().is_none_or(|p| !p.is_empty() && p.len() <= 128)
        && module_key.as_deref().is_none_or(is_module_key)
        && environment.as_ref().is_none_or(is_environment);
    let api_base_url = web_url(&claims.app.api_base_url);
    let (true, Some(api_base_url)) = (well_formed, api_base_url) else { return Err(TokenError::Malformed) };
    let site_url = match claims.context.as_ref().and_then(|c| c.site_url.as_deref()) {
        Some(url) => Some(web_url(url).ok_or(TokenError::Malformed)?),
        None => None,
    };
    Ok(VerifiedFit {
        installation_id: InstallationId::new(claims.app.installation_id),
        api_base_url,
        account_id: claims.principal.map(AccountId::new),
        cloud_id: cloud_id.map(CloudId::new),
        site_url,
        module_key,
        environment,
        license_active: claims.app.license.and_then(|l| l.active.or(l.is_active)),
        iat: claims.iat,
    })
}

/// Site URLs are bounded like a Connect install's base URL.
const MAX_URL_LEN: usize = 2048;

/// An http(s) URL with a host and no credentials, of bounded length.
fn web_url(text: &str) -> Option<Url> {
    let url = Url::parse(text).ok()?;
    let web = matches!(url.scheme(), "https" | "http") && url.host().is_some() && url.username().is_empty();
    (web && url.password().is_none() && url.as_str().len() <= MAX_URL_LEN).then_some(url)
}

/// Manifest module keys: letters, digits, `-` and `_` (the schema's pattern), bounded.
fn is_module_key(key: &str) -> bool {
    (1..=64).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn is_environment(environment: &ForgeEnvironment) -> bool {
    let kind = &environment.kind;
    let id = &environment.id;
    // Ids are ARIs: `ari:cloud:ecosystem::environment/<app>/<environment>`.
    let id_ok = (1..=200).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b":/-_.".contains(&b));
    (1..=32).contains(&kind.len()) && kind.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') && id_ok
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
    const NOW: UnixTime = UnixTime::from_secs(1_800_000_000);

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
                     "installation": { "contexts": [{ "cloudId": "c1" }] },
                     "module": { "type": "jira:globalPage", "key": "notes-page" },
                     "environment": { "type": "PRODUCTION", "id": "ari:cloud:ecosystem::environment/a1/env-1" } },
            "context": { "cloudId": "c1", "siteUrl": "https://acme.atlassian.net" }, "principal": "user-1",
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
        assert_eq!(fit.account_id, Some(AccountId::new("user-1")));
        assert_eq!(fit.cloud_id.as_deref(), Some("c1"));
        assert_eq!(fit.api_base_url.as_str(), "https://api.atlassian.com/ex/jira/c1");
        assert_eq!(verify(&with(&["principal"], Value::Null)).unwrap().account_id, None, "no principal, no user");
        assert!(verify(&with(&["aud"], json!(["other", APP]))).is_ok(), "an audience list naming the app");
        let from_installation = verify(&with(&["context"], Value::Null)).unwrap();
        assert_eq!(from_installation.cloud_id.as_deref(), Some("c1"), "the installation's context names the site");
        assert_eq!(fit.iat, NOW);
        assert_eq!(fit.module_key.as_deref(), Some("notes-page"));
        assert_eq!(fit.site_url.as_ref().map(Url::as_str), Some("https://acme.atlassian.net/"));
        let environment = fit.environment.unwrap();
        assert_eq!(environment.id, "ari:cloud:ecosystem::environment/a1/env-1");
        assert_eq!(environment.kind, "PRODUCTION");
        let bare = verify(&with(&["app", "module"], Value::Null)).unwrap();
        assert_eq!((bare.module_key, bare.environment.is_some()), (None, true), "a FIT without a module key");
    }

    #[test]
    fn environments_match_by_id_and_unrecorded_ones_are_production() {
        let env = |kind: &str| ForgeEnvironment { id: "env-1".into(), kind: kind.into() };
        assert!(env("DEVELOPMENT").matches(Some("env-1")));
        assert!(!env("PRODUCTION").matches(Some("env-2")), "another environment of the same app");
        assert!(env("PRODUCTION").matches(None) && !env("DEVELOPMENT").matches(None));
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
            (with(&["context", "siteUrl"], json!("javascript:alert(1)")), TokenError::Malformed),
            (with(&["context", "siteUrl"], json!("https://u:p@acme.atlassian.net")), TokenError::Malformed),
            (
                with(&["context", "siteUrl"], json!(format!("https://a.net/{}", "x".repeat(2048)))),
                TokenError::Malformed,
            ),
            (with(&["app", "module", "key"], json!("notes page")), TokenError::Malformed),
            (with(&["app", "module", "key"], json!("")), TokenError::Malformed),
            (with(&["app", "module"], json!("notes-page")), TokenError::Malformed),
            (with(&["app", "environment", "type"], json!("production")), TokenError::Malformed),
            (with(&["app", "environment", "id"], json!("env 1")), TokenError::Malformed),
            (with(&["app", "environment", "id"], Value::Null), TokenError::Malformed),
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
