//! The identities the app handles, one type each, so that a clientKey can
//! never be passed where a base URL or a tenant id is meant: the tenant's own
//! id, the names Atlassian gives a tenant and its users, and a moment in Unix
//! seconds. Each is parsed once where it enters (a verified token or payload,
//! a row the app itself wrote) and is read as its text or number. Shared by
//! the server and the app's verified caller; with the `sqlx` feature each is
//! stored as its text or number.

mod host;
mod tenant;
mod time;

pub use host::{AccountId, BaseUrl, ClientKey, CloudId, InstallationId};
pub use tenant::TenantId;
pub use time::UnixTime;
