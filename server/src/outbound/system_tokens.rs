//! Forge system tokens (`x-forge-oauth-system`): there is no refresh
//! endpoint, so every verified invocation may bring a newer one. The newest
//! per installation is kept sealed in the database, bound to its tenant in a
//! context of its own (a token ciphertext cannot pass for the shared secret).
//! This instance remembers which token it stored last, so an unchanged token
//! costs no write on the hot path.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use ids::{TenantId, UnixTime};
use moka::sync::Cache;
use sha2::{Digest, Sha256};

use crate::{
    connect::forge_token::VerifiedFit,
    error::Result,
    secrets::{Keyring, SharedSecret},
    store::{
        Database, Tenant,
        forge_tokens::{self, NewToken},
    },
};

/// Forge guarantees a system token for at least two hours and issues them for
/// about four; an expiry it does not state is taken as the shorter.
const ASSUMED_LIFETIME_SECS: i64 = 2 * 3600;
const MAX_LIFETIME_SECS: i64 = 4 * 3600;
/// Larger values are not tokens.
pub(crate) const MAX_TOKEN_BYTES: usize = 8 * 1024;
const MAX_REMEMBERED: u64 = 10_000;

/// The AES-GCM associated data of a tenant's system token. (A tenant that
/// was Connect's before tenant ids has its clientKey's spelling as its id,
/// so tokens sealed then still open.)
pub(crate) fn binding(tenant_id: &TenantId) -> String {
    format!("forge-system-token/{tenant_id}")
}

pub(crate) struct SystemTokens {
    /// Tenant → SHA-256 of the token this instance stored last.
    stored: Cache<TenantId, [u8; 32]>,
}

impl Default for SystemTokens {
    fn default() -> Self {
        Self { stored: Cache::new(MAX_REMEMBERED) }
    }
}

impl SystemTokens {
    /// Keeps `token` for `installation` if it is new and lives longer than
    /// the stored one (or belongs to a newer Forge installation).
    pub(crate) async fn remember(
        &self,
        db: &Database,
        keyring: &Keyring,
        installation: &Tenant,
        from: &VerifiedFit,
        token: &str,
        now: UnixTime,
    ) -> Result<()> {
        let fingerprint: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let key = &installation.tenant_id;
        if self.stored.get(key) == Some(fingerprint) {
            return Ok(());
        }
        let sealed = keyring.seal(&binding(key), &SharedSecret::new(token.as_bytes().to_vec()))?;
        let new = NewToken {
            tenant_id: key,
            installation_id: &from.installation_id,
            api_base_url: from.api_base_url.as_str(),
            sealed: &sealed,
            expires_at: expiry(token, now),
        };
        if forge_tokens::keep_newest(db, &new, now).await? {
            self.stored.insert(key.clone(), fingerprint);
        }
        Ok(())
    }

    /// Forgets which token this instance stored for a tenant whose token
    /// was deleted (its Forge installation ended).
    pub(crate) fn forget(&self, tenant_id: &TenantId) {
        self.stored.invalidate(tenant_id);
    }
}

/// When `token` expires: its own (unverified) `exp` when it is a JWT,
/// within the lifetime Forge issues, else the guaranteed minimum.
fn expiry(token: &str, now: UnixTime) -> UnixTime {
    let exp = token
        .split('.')
        .nth(1)
        .and_then(|claims| URL_SAFE_NO_PAD.decode(claims).ok())
        .and_then(|claims| serde_json::from_slice::<serde_json::Value>(&claims).ok())
        .and_then(|claims| claims["exp"].as_i64())
        .map(UnixTime::from_secs);
    exp.map_or(now + ASSUMED_LIFETIME_SECS, |exp| exp.clamp(now, now + MAX_LIFETIME_SECS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_expiry_is_the_tokens_own_within_forges_bounds() {
        let jwt = |exp: i64| format!("e30.{}.sig", URL_SAFE_NO_PAD.encode(format!(r#"{{"exp":{exp}}}"#)));
        let now = UnixTime::from_secs(1_000);
        assert_eq!(expiry(&jwt(1_000 + 3_000), now), UnixTime::from_secs(4_000));
        assert_eq!(expiry(&jwt(1_000 + 99_999), now), now + MAX_LIFETIME_SECS, "capped");
        assert_eq!(expiry(&jwt(10), now), now, "never in the past");
        assert_eq!(expiry("opaque-token", now), now + ASSUMED_LIFETIME_SECS);
    }
}
