//! A tenant's own id: what every row the app keeps for a tenant hangs on.
//! A Connect tenant has a clientKey and a Forge tenant may have none, so
//! neither names the tenant; the id is given once, when the tenant is born,
//! and never changes (a Forge reinstall or a site rename keeps it).

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(transparent))]
#[serde(transparent)]
pub struct TenantId(String);

impl TenantId {
    /// A new tenant's id from 128 random bits (`random_hex`, 32 hex digits),
    /// marked `t-` so it is never mistaken for a clientKey or an
    /// installationId in logs.
    pub fn new_tenant(random_hex: &str) -> Self {
        Self(format!("t-{random_hex}"))
    }

    /// An id read back from where the app itself wrote it (a session token
    /// it signed, a console link, a row); an id it never gave finds no tenant.
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
    fn a_new_tenant_id_is_marked_and_reads_as_its_text() {
        let id = TenantId::new_tenant("0123456789abcdef0123456789abcdef");
        assert_eq!(id.as_str(), "t-0123456789abcdef0123456789abcdef");
        assert_eq!(format!("{id}"), id.as_str());
        assert_ne!(id, TenantId::from_trusted("0123456789abcdef0123456789abcdef"));
    }
}
