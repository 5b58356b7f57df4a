//! The app-owned keys that sign session tokens: one that signs, and older
//! ones still accepted until the tokens they signed expire (threat S-06).
//! Every instance shares them through configuration (threat S-07).

use super::AppKey;
use crate::connect::session_token::SessionKey;

#[derive(Debug)]
pub struct SessionKeys {
    primary: AppKey,
    previous: Vec<AppKey>,
}

impl SessionKeys {
    pub(crate) fn new(primary: AppKey, previous: Vec<AppKey>) -> Self {
        Self { primary, previous }
    }

    pub(crate) fn signing(&self) -> SessionKey<'_> {
        as_session_key(&self.primary)
    }

    pub(crate) fn verifying(&self) -> Vec<SessionKey<'_>> {
        std::iter::once(&self.primary).chain(&self.previous).map(as_session_key).collect()
    }

    pub(crate) fn knows(&self, kid: &str) -> bool {
        std::iter::once(&self.primary).chain(&self.previous).any(|k| k.id() == kid)
    }
}

fn as_session_key(key: &AppKey) -> SessionKey<'_> {
    SessionKey { id: key.id(), bytes: key.bytes() }
}
