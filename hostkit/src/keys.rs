//! RSA key pairs standing in for Atlassian's install signing key.

use jsonwebtoken::EncodingKey;
use rsa::{
    RsaPrivateKey, RsaPublicKey,
    pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding},
};

pub struct InstallKey {
    pub kid: String,
    pub private_pem: String,
    pub public_pem: String,
}

impl InstallKey {
    /// A fresh 2048-bit key pair named `kid`.
    pub fn generate(kid: &str) -> Self {
        let private = RsaPrivateKey::new(&mut rand_core::OsRng, 2048).expect("RSA key generation");
        let public = RsaPublicKey::from(&private);
        Self {
            kid: kid.to_string(),
            private_pem: private.to_pkcs8_pem(LineEnding::LF).expect("PKCS#8 PEM").to_string(),
            public_pem: public.to_public_key_pem(LineEnding::LF).expect("SPKI PEM"),
        }
    }

    pub(crate) fn encoding_key(&self) -> EncodingKey {
        EncodingKey::from_rsa_pem(self.private_pem.as_bytes()).expect("own PEM parses")
    }
}
