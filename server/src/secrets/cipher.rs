//! AES-256-GCM sealing of a shared secret. The clientKey is the associated
//! data, so a ciphertext copied into another tenant's row fails to open
//! (threat D-02). Stored form: 12-byte random nonce, then ciphertext and tag.

use aes_gcm::{
    Aes256Gcm, Key, Nonce,
    aead::{Aead, KeyInit, Payload},
};

use super::{AppKey, Keyring, SharedSecret};
use crate::error::{Error, Result};

const NONCE_LEN: usize = 12;

/// What a row stores: the sealed bytes and the id of the key that sealed them.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedSecret {
    pub key_id: String,
    pub ciphertext: Vec<u8>,
}

impl std::fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedSecret").field("key_id", &self.key_id).finish_non_exhaustive()
    }
}

impl Keyring {
    /// Seals `secret` for `client_key` under the primary key.
    pub(crate) fn seal(&self, client_key: &str, secret: &SharedSecret) -> Result<SealedSecret> {
        seal_with(self.primary(), client_key, secret)
    }

    /// Opens a sealed secret with whichever configured key sealed it.
    pub(crate) fn open(&self, client_key: &str, sealed: &SealedSecret) -> Result<SharedSecret> {
        let key = self
            .by_id(&sealed.key_id)
            .ok_or_else(|| Error::Internal(format!("no configured encryption key has id {}", sealed.key_id)))?;
        open_with(key, client_key, &sealed.ciphertext)
    }
}

pub(crate) fn seal_with(key: &AppKey, client_key: &str, secret: &SharedSecret) -> Result<SealedSecret> {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(|e| Error::Internal(format!("random source: {e}")))?;
    let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key.bytes()));
    let sealed = cipher
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: secret.expose(), aad: client_key.as_bytes() })
        .map_err(|_| Error::Internal("sealing a secret failed".into()))?;
    let mut ciphertext = nonce.to_vec();
    ciphertext.extend_from_slice(&sealed);
    Ok(SealedSecret { key_id: key.id().to_string(), ciphertext })
}

fn open_with(key: &AppKey, client_key: &str, stored: &[u8]) -> Result<SharedSecret> {
    if stored.len() <= NONCE_LEN {
        return Err(Error::Internal("a sealed secret is truncated".into()));
    }
    let (nonce, sealed) = stored.split_at(NONCE_LEN);
    let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key.bytes()));
    cipher
        .decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad: client_key.as_bytes() })
        .map(SharedSecret::new)
        .map_err(|_| Error::Internal("a sealed secret did not open (wrong key or tenant)".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(byte: u8) -> Keyring {
        Keyring::new(AppKey::from_bytes([byte; 32]), vec![])
    }

    #[test]
    fn a_sealed_secret_opens_for_its_tenant_only() {
        let keys = ring(7);
        let secret = SharedSecret::new(b"tenant-a-shared-secret".to_vec());
        let sealed = keys.seal("tenant-a", &secret).unwrap();
        assert_eq!(keys.open("tenant-a", &sealed).unwrap().expose(), secret.expose());
        assert!(keys.open("tenant-b", &sealed).is_err(), "AAD binds the ciphertext to its clientKey");
    }

    #[test]
    fn the_ciphertext_never_contains_the_plaintext_and_nonces_differ() {
        let keys = ring(7);
        let secret = SharedSecret::new(b"plain-secret-value".to_vec());
        let a = keys.seal("t", &secret).unwrap();
        let b = keys.seal("t", &secret).unwrap();
        assert_ne!(a.ciphertext, b.ciphertext);
        assert!(!a.ciphertext.windows(12).any(|w| w == &b"plain-secret-value"[..12]));
    }

    #[test]
    fn a_flipped_byte_or_another_key_fails_to_open() {
        let keys = ring(7);
        let mut sealed = keys.seal("t", &SharedSecret::new(b"s".to_vec())).unwrap();
        assert!(ring(8).open("t", &sealed).is_err(), "unknown key id");
        let last = sealed.ciphertext.len() - 1;
        sealed.ciphertext[last] ^= 1;
        assert!(keys.open("t", &sealed).is_err());
    }

    #[test]
    fn previous_keys_still_open_rows_sealed_before_a_rotation() {
        let old = ring(1);
        let sealed = old.seal("t", &SharedSecret::new(b"s".to_vec())).unwrap();
        let rotated = Keyring::new(AppKey::from_bytes([2; 32]), vec![AppKey::from_bytes([1; 32])]);
        assert_eq!(rotated.open("t", &sealed).unwrap().expose(), b"s");
        assert_ne!(rotated.seal("t", &SharedSecret::new(b"s".to_vec())).unwrap().key_id, sealed.key_id);
    }
}
