//! How a request proved who sent it: the signature the lifecycle decisions
//! weigh, the event log records and an installation row keeps for its last
//! install.

use crate::text_enum::text_enum;

text_enum! {
    /// How the request proved who sent it; stored as its name (`rs256`, …).
    pub enum Signature {
        /// RS256 under Atlassian's install key (signed install).
        AtlassianRs256 => "rs256",
        /// HS256 under the tenant's stored shared secret.
        TenantHs256 => "hs256",
        /// No token: a legacy first install, or a `disabled` sent after uninstall.
        Unsigned => "unsigned",
        /// RS256 under Forge's JWKS: a Forge Invocation Token (Forge's `preUninstall`).
        ForgeInvocation => "fit",
        /// No request: the app's own housekeeping decided (a tenant born on
        /// Forge that Forge has not reached for too long).
        Housekeeping => "housekeeping",
    }
}
