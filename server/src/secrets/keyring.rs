//! App-owned 32-byte keys, and the keyring that seals shared secrets. The primary key seals; previous keys
//! (kept during a rotation) only open. A key's id is derived from its bytes,
//! so a row names the key that sealed it without anything to configure.

use base64::{Engine, engine::general_purpose::STANDARD};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

pub struct AppKey {
    id: String,
    bytes: Zeroizing<[u8; 32]>,
}

impl AppKey {
    /// Parses base64 of exactly 32 random bytes.
    pub fn from_base64(text: &str) -> Result<Self> {
        let decoded = Zeroizing::new(
            STANDARD.decode(text.trim()).map_err(|_| Error::Config("the encryption key is not valid base64".into()))?,
        );
        let bytes: [u8; 32] = decoded
            .as_slice()
            .try_into()
            .map_err(|_| Error::Config(format!("the encryption key must be 32 bytes, not {}", decoded.len())))?;
        Ok(Self::from_bytes(bytes))
    }

    pub(crate) fn from_bytes(bytes: [u8; 32]) -> Self {
        let digest = Sha256::digest(b"connect-app key id\0".iter().chain(bytes.iter()).copied().collect::<Vec<u8>>());
        Self { id: format!("k{}", hex::encode(&digest[..6])), bytes: Zeroizing::new(bytes) }
    }

    /// A fresh random key, as base64 (for `server generate-key` and dev set-up).
    pub fn generate_base64() -> Result<String> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::fill(bytes.as_mut()).map_err(|e| Error::Internal(format!("random source: {e}")))?;
        Ok(STANDARD.encode(bytes.as_ref()))
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// The key bytes, for the code that seals or signs with them.
    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.bytes
    }
}

impl std::fmt::Debug for AppKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppKey").field("id", &self.id).finish_non_exhaustive()
    }
}

#[derive(Debug)]
pub struct Keyring {
    primary: AppKey,
    previous: Vec<AppKey>,
}

impl Keyring {
    pub fn new(primary: AppKey, previous: Vec<AppKey>) -> Self {
        Self { primary, previous }
    }

    pub fn primary(&self) -> &AppKey {
        &self.primary
    }

    pub(crate) fn by_id(&self, id: &str) -> Option<&AppKey> {
        std::iter::once(&self.primary).chain(&self.previous).find(|k| k.id == id)
    }

    pub(crate) fn ids(&self) -> Vec<&str> {
        std::iter::once(&self.primary).chain(&self.previous).map(|k| k.id.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_must_be_32_bytes_of_base64() {
        assert!(AppKey::from_base64("not base64!").is_err());
        assert!(AppKey::from_base64(&STANDARD.encode([1u8; 16])).is_err());
        assert!(AppKey::from_base64(&STANDARD.encode([1u8; 32])).is_ok());
    }

    #[test]
    fn key_ids_differ_per_key_and_never_show_the_bytes() {
        let a = AppKey::from_bytes([1u8; 32]);
        let b = AppKey::from_bytes([2u8; 32]);
        assert_ne!(a.id(), b.id());
        let shown = format!("{a:?}");
        assert!(!shown.contains(&hex::encode([1u8; 32])) && !shown.contains("bytes"), "{shown}");
    }

    #[test]
    fn error_messages_never_echo_the_key() {
        let err = AppKey::from_base64("c2VjcmV0LWtleQ==").unwrap_err().to_string();
        assert!(!err.contains("c2VjcmV0"), "{err}");
    }
}
