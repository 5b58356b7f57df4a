//! A tenant's sharedSecret in memory: no `Debug` that shows it, zeroed on drop.

use zeroize::Zeroizing;

pub(crate) struct SharedSecret(Zeroizing<Vec<u8>>);

impl SharedSecret {
    pub(crate) fn new(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    pub(crate) fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedSecret(<redacted>)")
    }
}

impl Clone for SharedSecret {
    fn clone(&self) -> Self {
        Self::new(self.0.to_vec())
    }
}
