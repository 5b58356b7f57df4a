//! The claims of a JWT Atlassian's host signs (install, lifecycle, iframe
//! and context tokens), typed for strict parsing.

use ids::{AccountId, ClientKey, UnixTime};
use serde::Deserialize;

use super::token::TimeClaims;

#[derive(Debug, Deserialize)]
pub(crate) struct ConnectClaims {
    /// The clientKey of the tenant (the host signs as the tenant).
    pub iss: String,
    /// The user's accountId; absent for anonymous users.
    #[serde(default)]
    pub sub: Option<AccountId>,
    #[serde(default)]
    pub aud: Option<Audience>,
    #[serde(default)]
    pub qsh: Option<String>,
    pub iat: UnixTime,
    pub exp: UnixTime,
    #[serde(default)]
    pub nbf: Option<UnixTime>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    /// True when one entry equals `base_url`, ignoring one trailing slash on
    /// either side (ACE strips trailing slashes too).
    pub(crate) fn contains_base_url(&self, base_url: &str) -> bool {
        let want = base_url.trim_end_matches('/');
        let matches = |a: &String| a.strip_suffix('/').unwrap_or(a) == want;
        match self {
            Self::One(a) => matches(a),
            Self::Many(list) => list.iter().any(matches),
        }
    }
}

impl TimeClaims for ConnectClaims {
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

/// Only `iss`, read before verification to look up the tenant's secret.
#[derive(Debug, Deserialize)]
pub(crate) struct IssuerOnly {
    pub iss: ClientKey,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audience_matches_with_or_without_trailing_slash_and_nothing_else() {
        let one = Audience::One("https://app.example.com/".into());
        assert!(one.contains_base_url("https://app.example.com"));
        let many = Audience::Many(vec!["https://other.example".into(), "https://app.example.com".into()]);
        assert!(many.contains_base_url("https://app.example.com/"));
        for wrong in ["http://app.example.com", "https://app.example.com.evil", "https://app.example.com//"] {
            assert!(!Audience::One(wrong.into()).contains_base_url("https://app.example.com"), "{wrong}");
        }
    }
}
