//! The installation a request's proof verified, carried from the proof to
//! the server function in the request beside the [`Caller`]: nothing looks
//! the tenant up a second time in one request.

use std::sync::Arc;

use app::api::{backend::Caller, error::ApiError};
use axum::http::request::Parts;

use crate::store::Tenant;

/// An active installation whose token verified for this request.
#[derive(Clone)]
pub(crate) struct VerifiedTenant(pub(crate) Arc<Tenant>);

/// The caller's installation, as the proof that admitted the request found
/// it. A request without one, or with one of another tenant, is refused.
pub(super) fn verified_installation(caller: &Caller) -> Result<Arc<Tenant>, ApiError> {
    let parts = leptos::prelude::use_context::<Parts>().ok_or(ApiError::Unauthorized)?;
    let verified = parts.extensions.get::<VerifiedTenant>().ok_or(ApiError::Unauthorized)?;
    if verified.0.tenant_id != caller.tenant_id {
        return Err(ApiError::Unauthorized);
    }
    Ok(verified.0.clone())
}

#[cfg(test)]
mod tests {
    use app::api::backend::CallerVia;
    use leptos::{prelude::provide_context, reactive::owner::Owner};

    use super::*;

    fn caller_of(tenant: &str) -> Caller {
        Caller {
            tenant_id: ids::TenantId::from_trusted(tenant),
            account_id: None,
            install_generation: 1,
            via: CallerVia::Session,
            forge_module: None,
            license: app::api::backend::License::Unchecked,
        }
    }

    /// `verified_installation` for `caller` in a request that carries `verified`.
    fn read(verified: Option<&str>, caller: &Caller) -> Result<String, ApiError> {
        let owner = Owner::new();
        owner.with(|| {
            let mut parts = axum::http::Request::new(()).into_parts().0;
            if let Some(tenant) = verified {
                parts.extensions.insert(VerifiedTenant(Arc::new(Tenant::fixture(tenant, 1))));
            }
            provide_context(parts);
            verified_installation(caller).map(|i| i.tenant_id.to_string())
        })
    }

    #[test]
    fn only_the_installation_of_the_callers_tenant_is_handed_on() {
        assert_eq!(read(Some("acme"), &caller_of("acme")), Ok("acme".to_string()));
        assert_eq!(read(Some("acme"), &caller_of("globex")), Err(ApiError::Unauthorized));
        assert_eq!(read(None, &caller_of("acme")), Err(ApiError::Unauthorized));
    }
}
