//! The `tenant_identities` table: every installationId, base URL and cloudId
//! a tenant has had, so a tenant is found by any of them (a site rename or a
//! Forge reinstall keeps its history). Rows are written only where a verified
//! install or a verified Forge event is applied.

use ids::{BaseUrl, CloudId, InstallationId, TenantId, UnixTime};

use super::{Database, WriteTx};
use crate::{error::Result, text_enum::text_enum};

text_enum! {
    /// What kind of name a row holds; stored as its name (`base_url`, …).
    pub enum IdentityKind {
        InstallationId => "installation_id",
        BaseUrl => "base_url",
        CloudId => "cloud_id",
    }
}

/// One of a tenant's names, typed: the kind of a row follows from it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Name<'a> {
    InstallationId(&'a InstallationId),
    BaseUrl(&'a BaseUrl),
    CloudId(&'a CloudId),
}

impl<'a> Name<'a> {
    fn kind(self) -> IdentityKind {
        match self {
            Self::InstallationId(_) => IdentityKind::InstallationId,
            Self::BaseUrl(_) => IdentityKind::BaseUrl,
            Self::CloudId(_) => IdentityKind::CloudId,
        }
    }

    fn value(self) -> &'a str {
        match self {
            Self::InstallationId(id) => id,
            Self::BaseUrl(url) => url,
            Self::CloudId(id) => id,
        }
    }
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Identity {
    #[sqlx(try_from = "String")]
    pub kind: IdentityKind,
    pub value: String,
    pub first_seen: UnixTime,
    pub last_seen: UnixTime,
}

/// Records that `tenant_id` had `name` at `now`.
pub(crate) async fn record(tx: &mut WriteTx, tenant_id: &TenantId, name: Name<'_>, now: UnixTime) -> Result<()> {
    let sql = "INSERT INTO tenant_identities (tenant_id, kind, value, first_seen, last_seen) \
               VALUES ($1, $2, $3, $4, $4) ON CONFLICT (tenant_id, kind, value) \
               DO UPDATE SET last_seen = excluded.last_seen WHERE excluded.last_seen > tenant_identities.last_seen";
    on_tx!(tx, conn => sqlx::query(sql).bind(tenant_id).bind(name.kind().as_str()).bind(name.value()).bind(now)
        .execute(conn).await?.rows_affected());
    Ok(())
}

/// A tenant's history, most recently seen first.
pub async fn history(db: &Database, tenant_id: &TenantId) -> Result<Vec<Identity>> {
    let sql = "SELECT kind, value, first_seen, last_seen FROM tenant_identities WHERE tenant_id = $1 \
               ORDER BY last_seen DESC, kind, value";
    Ok(on_pool!(db, pool => sqlx::query_as(sql).bind(tenant_id).fetch_all(pool).await?))
}

/// The tenants that have ever had `value`, most recently seen first.
pub(crate) async fn tenants_with(db: &Database, name: Name<'_>) -> Result<Vec<TenantId>> {
    let sql = "SELECT tenant_id FROM tenant_identities WHERE kind = $1 AND value = $2 \
               ORDER BY last_seen DESC, tenant_id";
    let (kind, value) = (name.kind().as_str(), name.value());
    Ok(on_pool!(db, pool => sqlx::query_scalar(sql).bind(kind).bind(value).fetch_all(pool).await?))
}
