//! Which proof a lifecycle callback must carry: decided from the event, the
//! algorithm of the token it presents (if any) and the install mode. Pure;
//! the HTTP layer fetches the key or secret this names and verifies with it.
//! - seed 001 (signed install): `installed` and `uninstalled` are RS256 under
//!   Atlassian's install key; `enabled` and `disabled` are HS256 under the
//!   tenant's shared secret;
//! - legacy mode (before signed install) also takes a first install without a
//!   token and reinstalls signed with the stored secret;
//! - Atlassian sends `disabled` without a token after an uninstall; it is
//!   answered 2xx when the tenant is unknown or uninstalled, refused otherwise.

use ids::UnixTime;

use super::{lifecycle::LifecycleEvent, signature::Signature, token::TokenError};

/// How an accepted callback authenticated.
#[derive(Clone)]
pub(crate) struct VerifiedCallback {
    pub signature: Signature,
    pub iat: UnixTime,
    /// SHA-256 of the token, to refuse it replayed with another body.
    pub fingerprint: Option<String>,
}

/// Whether the app still accepts the pre-2021 unsigned install protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum InstallMode {
    Signed,
    Legacy,
}

/// What the request must be verified with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RequiredProof {
    /// RS256 under Atlassian's install key, found by the token's `kid`.
    AtlassianKey,
    /// HS256 under the shared secret stored for the body's clientKey.
    TenantSecret,
    /// No token needed: a first install in legacy mode.
    LegacyUnsigned,
    /// No token: acceptable only when the tenant is unknown or uninstalled.
    NoneIfTenantGone,
    /// Refused as it stands.
    Refused(TokenError),
}

/// The proof a callback for `event` needs, given the algorithm of the token
/// it carries (`None`: no token at all).
pub(crate) fn required_proof(event: LifecycleEvent, token_alg: Option<&str>, mode: InstallMode) -> RequiredProof {
    use LifecycleEvent::*;
    match (event, token_alg, mode) {
        (Installed | Uninstalled, Some("RS256"), _) => RequiredProof::AtlassianKey,
        (Enabled | Disabled, Some("HS256"), _) => RequiredProof::TenantSecret,
        (Installed | Uninstalled, Some("HS256"), InstallMode::Legacy) => RequiredProof::TenantSecret,
        (_, Some(_), _) => RequiredProof::Refused(TokenError::WrongAlgorithm),
        (Installed, None, InstallMode::Legacy) => RequiredProof::LegacyUnsigned,
        (Disabled, None, _) => RequiredProof::NoneIfTenantGone,
        (_, None, _) => RequiredProof::Refused(TokenError::Missing),
    }
}

#[cfg(test)]
mod tests {
    use super::{InstallMode::*, RequiredProof::*, *};
    use LifecycleEvent::*;

    #[test]
    fn each_event_needs_its_proof_in_each_mode() {
        let wrong_alg = Refused(TokenError::WrongAlgorithm);
        let missing = Refused(TokenError::Missing);
        #[rustfmt::skip]
        let vectors = [
            (Installed,   Some("RS256"), Signed, AtlassianKey),
            (Uninstalled, Some("RS256"), Signed, AtlassianKey),
            (Installed,   Some("RS256"), Legacy, AtlassianKey),
            (Enabled,     Some("HS256"), Signed, TenantSecret),
            (Disabled,    Some("HS256"), Legacy, TenantSecret),
            // Signed-install mode: the stored secret never proves an install (seed 001).
            (Installed,   Some("HS256"), Signed, wrong_alg),
            (Uninstalled, Some("HS256"), Signed, wrong_alg),
            (Installed,   Some("HS256"), Legacy, TenantSecret),
            (Uninstalled, Some("HS256"), Legacy, TenantSecret),
            // The host signs enable/disable with the tenant's secret only.
            (Enabled,     Some("RS256"), Signed, wrong_alg),
            (Disabled,    Some("RS256"), Legacy, wrong_alg),
            (Installed,   Some("none"),  Legacy, wrong_alg),
            (Enabled,     Some("ES256"), Signed, wrong_alg),
            (Installed,   None,          Signed, missing),
            (Installed,   None,          Legacy, LegacyUnsigned),
            (Uninstalled, None,          Legacy, missing),
            (Enabled,     None,          Legacy, missing),
            (Disabled,    None,          Signed, NoneIfTenantGone),
            (Disabled,    None,          Legacy, NoneIfTenantGone),
        ];
        for (event, alg, mode, expected) in vectors {
            assert_eq!(required_proof(event, alg, mode), expected, "{event:?} {alg:?} {mode:?}");
        }
    }

    #[test]
    fn every_event_has_a_path_and_comes_back_from_it() {
        for event in LifecycleEvent::ALL {
            assert_eq!(LifecycleEvent::from_path(event.path()), Some(event));
        }
        assert_eq!(LifecycleEvent::from_path("/installed/"), None);
    }
}
