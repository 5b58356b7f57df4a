//! The Activity view (the tenant's processed product events) and "Share":
//! a note posted as a comment on a Jira issue or Confluence page, as the
//! user who asked: through Connect's act-as-user grant from a Connect page,
//! through Forge's offline impersonation from a Forge page.

use app::api::{
    backend::{ApiFuture, Caller, CallerVia},
    error::ApiError,
    types::{ActivityEntry, SharedNote},
};
use ids::AccountId;
use reqwest::Method;
use serde_json::{Value, json};

use super::{identity::forge_refusal, unavailable, verified_installation};
use crate::{
    console::html::escape,
    outbound::{
        act_as_user::GrantError,
        forge_api::{ApiRequest, ForgeApiError},
        host_client::{HostError, HostRequest, Patience},
    },
    state::AppState,
    store::{Tenant, activity, notes},
};

/// What the grant asks for: reading the target and writing the comment.
const SHARE_SCOPES: [&str; 2] = ["READ", "WRITE"];

async fn list(state: &AppState, caller: &Caller) -> Result<Vec<ActivityEntry>, ApiError> {
    let installation = verified_installation(caller)?;
    let rows = activity::recent(&state.db, &installation.tenant_id, 100).await.map_err(unavailable)?;
    Ok(rows.into_iter().map(entry).collect())
}

pub(super) fn entry(r: activity::ActivityRow) -> ActivityEntry {
    ActivityEntry {
        event: r.event,
        delivery_id: r.delivery_id,
        entity_key: r.entity_key,
        summary: r.summary,
        processed_at: r.processed_at,
    }
}

async fn share(state: &AppState, caller: &Caller, id: i64, target: String) -> Result<SharedNote, ApiError> {
    let account_id = caller.account_id.as_ref().ok_or(ApiError::Forbidden)?;
    let installation = verified_installation(caller)?;
    let confluence = installation.is_confluence();
    let target = target.trim().to_string();
    let valid = if confluence { is_page_id(&target) } else { is_issue_key(&target) };
    if !valid {
        let what = if confluence { "a page id (digits)" } else { "an issue key such as ACME-12" };
        return Err(ApiError::Invalid(format!("Share to needs {what}.")));
    }
    let note = notes::find(&state.db, &installation.tenant_id, id).await.map_err(unavailable)?;
    let note = note.ok_or(ApiError::NotFound)?;
    let text = format!("{}\n\n{}", note.title, note.body);
    let (path, body) = if confluence {
        ("/rest/api/content".to_string(), page_comment(&target, &text))
    } else {
        (format!("/rest/api/3/issue/{target}/comment"), issue_comment(&text))
    };
    let answer = match caller.via {
        CallerVia::Forge => comment_as_forge_user(state, &installation, account_id, &path, body).await?,
        _ => comment_as_user(state, &installation, account_id, &path, body).await?,
    };
    let comment_id = answer["id"].as_str().map(str::to_string).or_else(|| answer["id"].as_i64().map(|n| n.to_string()));
    Ok(SharedNote { target, comment_id: comment_id.unwrap_or_default() })
}

/// Connect's act-as-user grant: the tenant's secret buys a token for the user.
async fn comment_as_user(
    state: &AppState,
    installation: &Tenant,
    account_id: &AccountId,
    path: &str,
    body: Value,
) -> Result<Value, ApiError> {
    let Some(connect) = &installation.connect else {
        // Born on Forge, yet called with a Connect token: there is no grant to ask.
        return Err(ApiError::SiteRefused("Sharing posts as you: open the app from Jira or Confluence.".into()));
    };
    let secret = connect.open_secret(&state.keyring).map_err(unavailable)?;
    let grant = state.act_as_user.token(installation, &secret, account_id, &SHARE_SCOPES, state.clock.now()).await;
    let token = grant.map_err(|e| refused_grant(installation, &e))?;
    let request = HostRequest { method: Method::POST, path, query: &[], body: Some(body), patience: Patience::Retry };
    state.host_client.send_as_user(installation, &token, request).await.map_err(|e| {
        if matches!(e, HostError::Status(401 | 403)) {
            state.act_as_user.forget(&installation.tenant_id, account_id);
        }
        refused_comment(installation, &e)
    })
}

/// Under Forge, as the user by offline impersonation (the system token buys
/// a token for them), through the product API.
async fn comment_as_forge_user(
    state: &AppState,
    installation: &Tenant,
    account_id: &AccountId,
    path: &str,
    body: Value,
) -> Result<Value, ApiError> {
    let path = if installation.is_confluence() { format!("/wiki{path}") } else { path.to_string() };
    let request = ApiRequest { method: Method::POST, path: &path, body: Some(body), patience: Patience::Retry };
    let (db, keyring, now) = (&state.db, &state.keyring, state.clock.now());
    let sent = state.forge_api.send_as_user(db, keyring, installation, account_id, request, now).await;
    sent.map_err(|e| match e {
        ForgeApiError::Status(404) => ApiError::SiteRefused("The site has no such issue or page.".into()),
        ForgeApiError::Status(401 | 403) => {
            ApiError::SiteRefused("The site refused the comment: you may not comment there.".into())
        }
        other => forge_refusal(installation, &other),
    })
}

/// A Jira comment body (Atlassian Document Format).
fn issue_comment(text: &str) -> Value {
    let doc = json!({ "type": "doc", "version": 1, "content": [
        { "type": "paragraph", "content": [{ "type": "text", "text": text }] }
    ]});
    json!({ "body": doc })
}

/// A Confluence comment on the page `page_id` (storage format).
fn page_comment(page_id: &str, text: &str) -> Value {
    json!({
        "type": "comment",
        "container": { "id": page_id, "type": "page" },
        "body": { "storage": { "value": format!("<p>{}</p>", escape(text)), "representation": "storage" } },
    })
}

fn refused_grant(installation: &Tenant, error: &GrantError) -> ApiError {
    tracing::warn!(tenant_id = %installation.tenant_id, error = %error, "act-as-user grant failed");
    ApiError::SiteRefused(format!(
        "The site did not let the app act for you ({error}). A site admin may need to reinstall the app."
    ))
}

fn refused_comment(installation: &Tenant, error: &HostError) -> ApiError {
    tracing::warn!(tenant_id = %installation.tenant_id, error = %error, "comment as the user failed");
    match error {
        HostError::Status(404) => ApiError::SiteRefused("The site has no such issue or page.".into()),
        HostError::Status(401 | 403) => {
            ApiError::SiteRefused("The site refused the comment: you may not comment there.".into())
        }
        HostError::RateLimited(limit) => super::rate_limited(limit),
        _ => ApiError::Unavailable,
    }
}

/// `ACME-12`: a project key (letters, digits, `_`, starting with a letter) and a number.
pub(super) fn is_issue_key(key: &str) -> bool {
    let Some((project, number)) = key.split_once('-') else { return false };
    key.len() <= 64
        && project.starts_with(|c: char| c.is_ascii_uppercase())
        && project.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && !number.is_empty()
        && number.chars().all(|c| c.is_ascii_digit())
}

fn is_page_id(id: &str) -> bool {
    (1..=20).contains(&id.len()) && id.chars().all(|c| c.is_ascii_digit())
}

/// `app::api::activity`'s functions.
impl app::api::activity::ActivityBackend for super::AppBackend {
    fn list_activity<'a>(&'a self, caller: &'a Caller) -> ApiFuture<'a, Vec<ActivityEntry>> {
        Box::pin(list(&self.state, caller))
    }
    fn share_note<'a>(&'a self, caller: &'a Caller, id: i64, target: String) -> ApiFuture<'a, SharedNote> {
        Box::pin(share(&self.state, caller, id, target))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_strict() {
        assert!(is_issue_key("ACME-12") && is_issue_key("A1_B-1"));
        for bad in ["acme-1", "ACME", "ACME-", "ACME-1/../x", "-1", "1A-2", "ACME-1a"] {
            assert!(!is_issue_key(bad), "{bad}");
        }
        assert!(is_page_id("123456") && !is_page_id("12a") && !is_page_id(""));
    }

    #[test]
    fn comment_bodies_carry_the_note() {
        assert_eq!(issue_comment("T\n\nB")["body"]["content"][0]["content"][0]["text"], "T\n\nB");
        let page = page_comment("42", "<b>");
        assert_eq!(page["body"]["storage"]["value"], "<p>&lt;b&gt;</p>");
        assert_eq!(page["container"]["id"], "42");
    }
}
