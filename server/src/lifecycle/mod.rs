//! The lifecycle as a service between `http/` and `store/`: for a delivery
//! its proof has authenticated, it opens the write, reads the rows, decides
//! with the pure core (`connect::lifecycle`, `connect::forge_event`) and
//! writes through the store's primitives, in one transaction. The store only
//! reads and writes; the handlers only answer.

pub(crate) mod connect_event;
pub(crate) mod forge_event;
pub(crate) mod forge_silence;

use ids::TenantId;

use crate::{connect::lifecycle::Snapshot, error::Result, secrets::random_hex, tenant::Tenant};

/// A new tenant's id: 128 bits from the OS random source, marked `t-`.
fn new_tenant_id() -> Result<TenantId> {
    Ok(TenantId::new_tenant(&random_hex(16)?))
}

/// What the pure lifecycle rules weigh of a stored tenant.
fn snapshot(t: &Tenant) -> Snapshot {
    Snapshot {
        state: t.state,
        base_url: t.site.base_url.clone(),
        orphaned: t.orphaned_at.is_some(),
        last_event_iat: t.last_event_iat,
        last_install_iat: t.last_install_iat,
        last_install_token: t.connect.as_ref().and_then(|c| c.last_install_token.clone()),
        installation_id: t.installation_id().cloned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_tenant_ids_are_distinct_and_marked() {
        let (a, b) = (new_tenant_id().unwrap(), new_tenant_id().unwrap());
        assert_ne!(a, b);
        assert!(a.as_str().starts_with("t-") && a.as_str().len() == 34, "{a}");
    }
}
