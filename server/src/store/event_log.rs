//! The append-only `lifecycle_events` table: what happened to an installation,
//! accepted, ignored or rejected, with a short reason. Never a secret.

use ids::{ClientKey, TenantId, UnixTime};

use super::{Database, WriteTx};
use crate::{connect::signature::Signature, error::Result, text_enum::text_enum};

/// Rejected attempts kept per installation and hour: enough to see an attack,
/// too few for a flood of forged callbacks to fill the disk.
const MAX_REJECTIONS_PER_HOUR: i64 = 50;

text_enum! {
    /// What became of the request; stored as its name.
    pub enum Outcome {
        Accepted => "accepted",
        Ignored => "ignored",
        Rejected => "rejected",
    }
}

/// The proof a logged request carried: the signature that verified, or
/// none that did (a rejected callback); stored as its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proof {
    Verified(Signature),
    Invalid,
}

impl Proof {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Verified(signature) => signature.as_str(),
            Self::Invalid => "invalid",
        }
    }
}

impl TryFrom<String> for Proof {
    type Error = String;
    fn try_from(value: String) -> std::result::Result<Self, String> {
        if value == Self::Invalid.as_str() { Ok(Self::Invalid) } else { Signature::try_from(value).map(Self::Verified) }
    }
}

impl serde::Serialize for Proof {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct EventRecord {
    pub id: i64,
    pub tenant_id: TenantId,
    /// The lifecycle event, Forge event or delivery the row is about.
    pub event: String,
    pub occurred_at: UnixTime,
    #[sqlx(try_from = "String")]
    pub signature: Proof,
    #[sqlx(try_from = "String")]
    pub outcome: Outcome,
    pub detail: Option<String>,
}

pub(crate) struct NewEvent<'a> {
    pub tenant_id: &'a TenantId,
    pub event: &'a str,
    pub now: UnixTime,
    pub signature: Signature,
    pub outcome: Outcome,
    pub detail: Option<&'a str>,
}

const INSERT: &str = "INSERT INTO lifecycle_events (tenant_id, event, occurred_at, signature, outcome, detail) \
                      VALUES ($1, $2, $3, $4, $5, $6)";

pub(crate) async fn append(tx: &mut WriteTx, e: &NewEvent<'_>) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(INSERT).bind(e.tenant_id).bind(e.event).bind(e.now)
        .bind(e.signature.as_str()).bind(e.outcome.as_str()).bind(e.detail).execute(conn).await?.rows_affected());
    Ok(())
}

/// A delivery dropped because its tenant is not active: logged at most once
/// an hour per tenant and kind of delivery, outside the write lock that
/// installs take (such deliveries cost an install nothing, however many).
pub(crate) async fn append_dropped(db: &Database, e: &NewEvent<'_>) -> Result<()> {
    let sql = "INSERT INTO lifecycle_events (tenant_id, event, occurred_at, signature, outcome, detail) \
               SELECT $1, $2, $3, $4, $5, $6 WHERE NOT EXISTS (SELECT 1 FROM lifecycle_events \
               WHERE tenant_id = $1 AND event = $2 AND outcome = $5 AND occurred_at > $3 - 3600)";
    on_pool!(db, pool => sqlx::query(sql).bind(e.tenant_id).bind(e.event).bind(e.now).bind(e.signature.as_str())
        .bind(Outcome::Ignored.as_str()).bind(e.detail).execute(pool).await?.rows_affected());
    Ok(())
}

/// A rejected callback for the clientKey the request named.
pub(crate) struct Rejection<'a> {
    pub client_key: &'a ClientKey,
    pub event: &'a str,
    pub now: UnixTime,
    pub detail: &'a str,
}

/// Logs a rejected callback, but only for a clientKey that has an
/// installation, and at most [`MAX_REJECTIONS_PER_HOUR`] an hour.
pub(crate) async fn append_rejection(db: &Database, r: &Rejection<'_>) -> Result<()> {
    let sql = "INSERT INTO lifecycle_events (tenant_id, event, occurred_at, signature, outcome, detail) \
               SELECT i.tenant_id, $2, $3, $6, $7, $4 FROM installations i WHERE i.client_key = $1 \
               AND (SELECT COUNT(*) FROM lifecycle_events e WHERE e.tenant_id = i.tenant_id \
                    AND e.outcome = $7 AND e.occurred_at > $3 - 3600) < $5";
    on_pool!(db, pool => sqlx::query(sql).bind(r.client_key).bind(r.event).bind(r.now).bind(r.detail)
        .bind(MAX_REJECTIONS_PER_HOUR).bind(Proof::Invalid.as_str()).bind(Outcome::Rejected.as_str())
        .execute(pool).await?.rows_affected());
    Ok(())
}

/// What the admin page lists: the newest `limit` events that were not
/// rejections, and beside them the newest `rejections` rejected attempts,
/// newest first. Counted apart, so forged callbacks (anyone can send them for
/// a known clientKey) never push the real events off the page.
pub async fn for_admin_page(
    db: &Database,
    tenant_id: &TenantId,
    limit: i64,
    rejections: i64,
) -> Result<Vec<EventRecord>> {
    let sql = |outcome: &str| {
        format!(
            "SELECT id, tenant_id, event, occurred_at, signature, outcome, detail FROM lifecycle_events \
             WHERE tenant_id = $1 AND outcome {outcome} 'rejected' ORDER BY id DESC LIMIT $2"
        )
    };
    let (real, refused) = (sql("<>"), sql("="));
    let mut events: Vec<EventRecord> =
        on_pool!(db, pool => sqlx::query_as(&real).bind(tenant_id).bind(limit).fetch_all(pool).await?);
    let rejected: Vec<EventRecord> =
        on_pool!(db, pool => sqlx::query_as(&refused).bind(tenant_id).bind(rejections).fetch_all(pool).await?);
    events.extend(rejected);
    events.sort_by_key(|e| std::cmp::Reverse(e.id));
    Ok(events)
}

/// The newest `limit` events of one tenant, newest first.
pub async fn for_tenant(db: &Database, tenant_id: &TenantId, limit: i64) -> Result<Vec<EventRecord>> {
    let sql = "SELECT id, tenant_id, event, occurred_at, signature, outcome, detail FROM lifecycle_events \
               WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2";
    Ok(on_pool!(db, pool => sqlx::query_as(sql).bind(tenant_id).bind(limit).fetch_all(pool).await?))
}
