//! What server functions send and receive.

use ids::{AccountId, BaseUrl, CloudId, InstallationId, UnixTime};
use serde::{Deserialize, Serialize};

/// Who is using the page, from the verified token (never from arguments).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub account_id: Option<AccountId>,
    pub base_url: BaseUrl,
    pub display_url: Option<String>,
    pub product_type: String,
}

// demo:begin
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub author_account_id: AccountId,
    /// The caller wrote it (only the author may change it).
    pub mine: bool,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
    /// The Jira issue the note is linked to, if any.
    pub issue_key: Option<String>,
    /// That issue's newest events (from its webhooks), newest first.
    pub issue_events: Vec<ActivityEntry>,
}

/// Limits the server enforces on notes; the form shows them too.
pub const MAX_NOTE_TITLE: usize = 200;
pub const MAX_NOTE_BODY: usize = 10_000;
// demo:end

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionGrant {
    pub token: String,
    /// Server time (Unix seconds) when the token expires.
    pub expires_at: UnixTime,
    /// Seconds it lives from now; the browser counts on its own clock.
    pub expires_in: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleEntry {
    pub event: String,
    pub occurred_at: UnixTime,
    pub signature: String,
    pub outcome: String,
    pub detail: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrphanEntry {
    /// The orphan's clientKey, masked: only its first characters are shown.
    pub client_key: String,
    pub orphaned_at: UnixTime,
    pub purge_at: UnixTime,
}

/// An installationId, base URL or cloudId the tenant has had.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityEntry {
    pub kind: String,
    pub value: String,
    pub first_seen: UnixTime,
    pub last_seen: UnixTime,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallStatus {
    pub state: String,
    pub product_type: String,
    pub base_url: BaseUrl,
    pub first_installed_at: UnixTime,
    pub last_installed_at: UnixTime,
    pub last_event_at: UnixTime,
    pub install_generation: i64,
    pub install_signature: String,
    pub events: Vec<LifecycleEntry>,
    pub orphans: Vec<OrphanEntry>,
    /// "Connect only" or "Connect-on-Forge".
    pub world: String,
    pub installation_id: Option<InstallationId>,
    pub cloud_id: Option<CloudId>,
    /// When the Forge system token the app holds runs out (never the token).
    pub system_token_until: Option<UnixTime>,
    pub history: Vec<IdentityEntry>,
    pub app_version: String,
    pub database: String,
    pub database_ok: bool,
}

// demo:begin
/// A product event the app processed for the caller's site (the Activity view).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityEntry {
    pub event: String,
    /// The webhook's `X-Atlassian-Webhook-Identifier`.
    pub delivery_id: String,
    /// `issue:KEY` or `page:ID`, when the event is about one.
    pub entity_key: Option<String>,
    pub summary: String,
    pub processed_at: UnixTime,
}

/// Where "Share" put a note: the comment the site created, as the user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedNote {
    pub target: String,
    pub comment_id: String,
}
// demo:end
