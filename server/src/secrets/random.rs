//! Randomness and comparisons for secret values.

use crate::error::{Error, Result};

/// `bytes` bytes from the OS random source, as hex. Fails closed.
pub(crate) fn random_hex(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| Error::Internal(format!("random source: {e}")))?;
    Ok(hex::encode(buf))
}

/// `bytes` bytes as hex from the thread's CSPRNG (ChaCha12, seeded and
/// reseeded from the OS source): for an id minted on every request, such as
/// a session token's `jti`, where a system call each time would cost a
/// page's worth of work in a hundred. Keys and tenant ids use [`random_hex`].
pub(crate) fn request_hex(bytes: usize) -> String {
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

/// Equality whose time does not depend on where the inputs differ (`subtle`,
/// which keeps the compiler from turning it back into an early exit).
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_hex_has_the_asked_length_and_a_hundred_thousand_draws_never_repeat() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..100_000 {
            let v = random_hex(16).unwrap();
            assert_eq!(v.len(), 32);
            assert!(seen.insert(v), "S-10: a 128-bit value repeated");
        }
    }

    #[test]
    fn request_hex_has_the_asked_length_and_a_hundred_thousand_draws_never_repeat() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..100_000 {
            let v = request_hex(16);
            assert_eq!(v.len(), 32);
            assert!(seen.insert(v), "S-10: a 128-bit value repeated");
        }
    }

    #[test]
    fn equality_is_exact() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
