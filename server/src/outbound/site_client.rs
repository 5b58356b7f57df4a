//! One client for a tenant's site, whichever world the tenant lives in: as
//! the app (a Connect JWT under the shared secret, or Forge's system token)
//! or as a user (Connect's act-as-user grant, or Forge's offline
//! impersonation), any method. Paths are the product's REST paths as
//! Connect writes them, relative to the site (`/rest/api/3/issue/ACME-1`,
//! Confluence's `/rest/api/content`); under Forge they go below the API
//! base URL, with Confluence's `/wiki`. Both clients below read an empty
//! answer as `null` and meet a rate limit as `answer` says: a page's call
//! waits it out a bounded number of times, a queued job's
//! ([`SiteClient::deferring`]) hears it at once.

use ids::AccountId;
use reqwest::Method;
use serde_json::Value;

use super::{
    act_as_user::{ActAsUser, GrantError},
    answer::{Patience, RateLimit},
    forge_api::{ApiRequest, ForgeApi, ForgeApiError},
    host_client::{HostClient, HostError, HostRequest},
};
use crate::{clock::Clock, secrets::Keyring, store::Database, store::Tenant};

/// What the site client borrows from the app.
pub(crate) struct SiteClient<'a> {
    db: &'a Database,
    keyring: &'a Keyring,
    clock: &'a Clock,
    host_client: &'a HostClient,
    forge_api: &'a ForgeApi,
    act_as_user: &'a ActAsUser,
    patience: Patience,
}

/// Atlassian's personal data reporting API: Connect's, relative to the site.
const CONNECT_REPORT_PATH: &str = "/rest/atlassian-connect/latest/report-accounts";
/// Forge's (and OAuth 2.0 apps'), on `https://api.atlassian.com`.
const FORGE_REPORT_PATH: &str = "/app/report-accounts/";

/// Whom the site sees calling.
#[derive(Clone, Copy, Debug)]
pub enum Acting<'a> {
    App,
    User(&'a AccountId),
}

/// One call: a REST path relative to the site, its query and JSON body.
pub struct SiteCall<'a> {
    pub method: Method,
    pub path: &'a str,
    pub query: &'a [(&'a str, &'a str)],
    pub body: Option<Value>,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum SiteError {
    #[error("the tenant's site: {0}")]
    Connect(#[from] HostError),
    #[error("the tenant's site would not let the app act for the user: {0}")]
    Grant(#[from] GrantError),
    #[error("{0}")]
    Forge(#[from] ForgeApiError),
    #[error("the tenant's shared secret cannot be opened")]
    Secret,
    #[error("{0:?} is not a REST path of the site (a path from /, no query, fragment or dot segments)")]
    BadPath(String),
}

impl SiteError {
    /// The rate limit the site answered with, after any waits the client made.
    pub(crate) fn rate_limit(&self) -> Option<&RateLimit> {
        match self {
            Self::Connect(HostError::RateLimited(limit)) | Self::Forge(ForgeApiError::RateLimited(limit)) => {
                Some(limit)
            }
            _ => None,
        }
    }
}

impl<'a> SiteClient<'a> {
    pub(crate) fn new(
        db: &'a Database,
        keyring: &'a Keyring,
        clock: &'a Clock,
        host_client: &'a HostClient,
        forge_api: &'a ForgeApi,
        act_as_user: &'a ActAsUser,
    ) -> Self {
        Self { db, keyring, clock, host_client, forge_api, act_as_user, patience: Patience::Retry }
    }

    /// The client of a queued job: a rate limit is heard at once (the job is
    /// put back at its `Retry-After`), never waited out in place.
    pub(crate) fn deferring(self) -> Self {
        Self { patience: Patience::Defer, ..self }
    }

    pub(crate) async fn send(
        &self,
        installation: &Tenant,
        acting: Acting<'_>,
        call: SiteCall<'_>,
    ) -> Result<Value, SiteError> {
        if !is_site_path(call.path) {
            return Err(SiteError::BadPath(call.path.to_string()));
        }
        match &installation.connect {
            Some(connect) => {
                let secret = connect.open_secret(self.keyring).map_err(|_| SiteError::Secret)?;
                self.send_connect(installation, &secret, acting, call).await
            }
            None => self.send_forge(installation, acting, call).await,
        }
    }

    /// A batch of Atlassian's personal data report (`body`), as the app:
    /// Connect's `/rest/atlassian-connect/latest/report-accounts` on the
    /// site, or Forge's `/app/report-accounts/` on the API's origin.
    pub(crate) async fn report_accounts(&self, installation: &Tenant, body: Value) -> Result<Value, SiteError> {
        let (method, patience, body) = (Method::POST, self.patience, Some(body));
        match &installation.connect {
            Some(connect) => {
                let secret = connect.open_secret(self.keyring).map_err(|_| SiteError::Secret)?;
                let request = HostRequest { method, path: CONNECT_REPORT_PATH, query: &[], body, patience };
                Ok(self.host_client.send(installation, &secret, request, self.clock.now()).await?)
            }
            None => {
                let request = ApiRequest { method, path: FORGE_REPORT_PATH, body, patience };
                Ok(self.forge_api.send_as_app_to_origin(self.db, self.keyring, installation, request).await?)
            }
        }
    }

    async fn send_connect(
        &self,
        installation: &Tenant,
        secret: &crate::secrets::SharedSecret,
        acting: Acting<'_>,
        call: SiteCall<'_>,
    ) -> Result<Value, SiteError> {
        let now = self.clock.now();
        let scopes = connect_scopes(&call.method);
        let (method, path, query, body, patience) = (call.method, call.path, call.query, call.body, self.patience);
        let request = HostRequest { method, path, query, body, patience };
        let Acting::User(account_id) = acting else {
            return Ok(self.host_client.send(installation, secret, request, now).await?);
        };
        let token = self.act_as_user.token(installation, secret, account_id, scopes, now).await?;
        let sent = self.host_client.send_as_user(installation, &token, request).await;
        if matches!(sent, Err(HostError::Status(401 | 403))) {
            self.act_as_user.forget(&installation.tenant_id, account_id);
        }
        Ok(sent?)
    }

    async fn send_forge(
        &self,
        installation: &Tenant,
        acting: Acting<'_>,
        call: SiteCall<'_>,
    ) -> Result<Value, SiteError> {
        let path = forge_path(installation, call.path, call.query);
        let request = ApiRequest { method: call.method, path: &path, body: call.body, patience: self.patience };
        let (db, keyring) = (self.db, self.keyring);
        Ok(match acting {
            Acting::App => self.forge_api.send_as_app(db, keyring, installation, request).await?,
            Acting::User(account_id) => {
                let now = self.clock.now();
                self.forge_api.send_as_user(db, keyring, installation, account_id, request, now).await?
            }
        })
    }
}

/// A path that stays on the site and under the API base URL it is joined
/// to: from `/`, with no query or fragment (those go in `query`), and no
/// `.` or `..` segment, however spelt.
fn is_site_path(path: &str) -> bool {
    let dot_segment = |s: &str| {
        let s = s.to_ascii_lowercase().replace("%2e", ".");
        s == "." || s == ".."
    };
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains(['?', '#', '\\'])
        && !path.split('/').any(dot_segment)
}

/// The act-as-user scopes a Connect call needs (the descriptor must ask for them).
fn connect_scopes(method: &Method) -> &'static [&'static str] {
    match *method {
        Method::GET | Method::HEAD => &["READ"],
        Method::DELETE => &["DELETE"],
        _ => &["READ", "WRITE"],
    }
}

/// The path below Forge's API base URL: Confluence's REST lives under `/wiki` there.
fn forge_path(installation: &Tenant, path: &str, query: &[(&str, &str)]) -> String {
    let confluence = installation.is_confluence() && !path.starts_with("/wiki/");
    let prefix = if confluence { "/wiki" } else { "" };
    let encoded = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(query).finish();
    if encoded.is_empty() { format!("{prefix}{path}") } else { format!("{prefix}{path}?{encoded}") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenant::Product;

    #[test]
    fn forge_paths_keep_the_query_and_put_confluence_under_wiki() {
        let jira = Tenant::fixture("jira-tenant", 1);
        let mut confluence = jira.clone();
        confluence.site.product = Some(Product::Confluence);
        assert_eq!(forge_path(&jira, "/rest/api/3/user", &[("accountId", "a b")]), "/rest/api/3/user?accountId=a+b");
        assert_eq!(forge_path(&confluence, "/rest/api/content", &[]), "/wiki/rest/api/content");
        assert_eq!(forge_path(&confluence, "/wiki/rest/api/space", &[]), "/wiki/rest/api/space");
    }

    #[test]
    fn only_a_rest_path_of_the_site_is_sent() {
        assert!(is_site_path("/rest/api/3/issue/ACME-1/properties/seen"));
        for bad in ["rest/api/3/user", "@evil.example/x", ".evil.example/x", "//evil.example/x", "/rest/../../x"] {
            assert!(!is_site_path(bad), "{bad}");
        }
        for bad in ["/rest/%2E%2e/admin", "/rest/api/3/user?accountId=a", "/rest#x", "/rest\\x", "/./rest"] {
            assert!(!is_site_path(bad), "{bad}");
        }
    }

    #[test]
    fn a_user_call_asks_connect_for_the_scopes_of_its_method() {
        assert_eq!(connect_scopes(&Method::GET), ["READ"]);
        assert_eq!(connect_scopes(&Method::PUT), ["READ", "WRITE"]);
        assert_eq!(connect_scopes(&Method::DELETE), ["DELETE"]);
    }
}
