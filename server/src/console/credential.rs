//! Operator passwords: argon2id hashes in configuration, never plaintext.
//! Verification costs the same whether or not the user exists, so timing
//! does not reveal operator names.

use argon2::{
    Argon2,
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng},
};
use secrecy::ExposeSecret;

use crate::{
    config::OperatorCredential,
    error::{Error, Result},
};

/// Shortest password `server create-operator` accepts.
pub const MIN_PASSWORD_LEN: usize = 12;

/// A PHC string (`$argon2id$…`) for `password`.
pub fn hash_password(password: &str) -> Result<String> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(Error::BadRequest(format!("an operator password needs at least {MIN_PASSWORD_LEN} characters")));
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| Error::Internal(format!("hashing failed: {e}")))
}

/// True when `user` and `password` match the configured credential.
pub(crate) fn verify(credential: &OperatorCredential, user: &str, password: &str) -> bool {
    // Hash anyway for an unknown user, against a fixed hash, to keep timing flat.
    let (stored, known) =
        if user == credential.user { (credential.password_hash.expose_secret(), true) } else { (DUMMY_HASH, false) };
    let Ok(parsed) = PasswordHash::new(stored) else { return false };
    let ok = Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok();
    ok && known
}

/// argon2id of a random string nobody knows, with default parameters.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$1rQ6JqZL3Lq5t+5o1a2lG0S8kD7m2xLwZ0v5y1b0mJk";

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    #[test]
    fn a_hashed_password_verifies_and_nothing_else_does() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        let credential = OperatorCredential { user: "ops".into(), password_hash: SecretString::from(hash) };
        assert!(verify(&credential, "ops", "correct horse battery"));
        assert!(!verify(&credential, "ops", "correct horse"));
        assert!(!verify(&credential, "other", "correct horse battery"));
        assert!(hash_password("short").is_err());
    }
}
