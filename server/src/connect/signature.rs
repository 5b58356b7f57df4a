//! How a request proved who sent it: the signature the lifecycle decisions
//! weigh, the event log records and an installation row keeps for its last
//! install.

use std::fmt;

/// How the request proved who sent it; stored as its name (`rs256`, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signature {
    /// RS256 under Atlassian's install key (signed install).
    AtlassianRs256,
    /// HS256 under the tenant's stored shared secret.
    TenantHs256,
    /// No token: a legacy first install, or a `disabled` sent after uninstall.
    Unsigned,
    /// RS256 under Forge's JWKS: a Forge Invocation Token (Forge's `preUninstall`).
    ForgeInvocation,
}

impl Signature {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::AtlassianRs256 => "rs256",
            Self::TenantHs256 => "hs256",
            Self::Unsigned => "unsigned",
            Self::ForgeInvocation => "fit",
        }
    }
}

impl TryFrom<String> for Signature {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        [Self::AtlassianRs256, Self::TenantHs256, Self::Unsigned, Self::ForgeInvocation]
            .into_iter()
            .find(|signature| signature.as_str() == value)
            .ok_or_else(|| format!("unknown signature {value:?}"))
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
