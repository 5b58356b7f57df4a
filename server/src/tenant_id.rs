//! A tenant's own id: what every row the app keeps for a tenant hangs on.
//! A Connect tenant has a clientKey and a Forge tenant may have none, so
//! neither names the tenant; the id is given once, when the tenant is born,
//! and never changes (a Forge reinstall or a site rename keeps it).

use crate::{error::Result, secrets::random_hex};

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, sqlx::Type, serde::Serialize)]
#[sqlx(transparent)]
pub struct TenantId(String);

impl TenantId {
    /// A new tenant's id: 128 random bits, `t-` and hex, so it is never
    /// mistaken for a clientKey or an installationId in logs.
    pub(crate) fn random() -> Result<Self> {
        Ok(Self(format!("t-{}", random_hex(16)?)))
    }

    /// An id read back from where the app itself wrote it (a session token
    /// it signed, a console link); an id it never gave finds no tenant.
    pub fn from_trusted(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for TenantId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_are_distinct_and_marked() {
        let (a, b) = (TenantId::random().unwrap(), TenantId::random().unwrap());
        assert_ne!(a, b);
        assert!(a.as_str().starts_with("t-") && a.as_str().len() == 34, "{a}");
    }
}
