//! `WebhookProof`: a webhook delivery from a tenant's site, as the host
//! sends it: `Authorization: JWT`, HS256 under the shared secret of its
//! `iss`, the exact qsh of this POST (a context JWT is refused), the usual
//! `exp`/`iat` checks, a bounded body and a well-formed delivery id. A
//! refusal changes nothing; a delivery for a tenant that is no longer
//! active, or has no active licence, verifies but is marked, so the handler
//! answers 2xx and drops it.

use axum::{body::Bytes, extract::Request};
use ids::TenantId;

use super::{
    Proof, ProofKind,
    callback::read_body,
    header_token,
    tenant::{caller_license, issuer_installation, shared_secret},
};
use crate::{
    connect::{
        host_token::{PageRequest, verify_page_token},
        webhook::delivery_id,
    },
    error::{Error, Result},
    state::AppState,
};

const IDENTIFIER_HEADER: &str = "x-atlassian-webhook-identifier";

#[derive(Clone)]
pub(crate) struct WebhookProof {
    pub event: String,
    pub tenant_id: TenantId,
    pub delivery_id: String,
    pub body: Bytes,
    /// Why the delivery is answered and dropped (Atlassian retries anything
    /// but a 2xx): its tenant is uninstalled, disabled or orphaned, or has
    /// no active licence (`APP_LICENSING`).
    pub dropped: Option<&'static str>,
}

impl Proof for WebhookProof {
    const KIND: ProofKind = ProofKind::Webhook;
    async fn verify(state: &AppState, request: &mut Request) -> Result<Self> {
        let uri = request.uri().clone();
        let event = state.descriptor.webhook_event(uri.path()).ok_or(Error::NotFound)?;
        let headers = request.headers();
        let token = header_token(headers, uri.query())?;
        let installation = issuer_installation(state, token).await?;
        let secret = shared_secret(state, &installation)?;
        let post = PageRequest { method: "POST", path: uri.path(), query: uri.query().unwrap_or_default() };
        verify_page_token(token, secret.expose(), &post, state.clock.now())?;
        let identifier = headers.get(IDENTIFIER_HEADER).map(|v| v.to_str().unwrap_or(""));
        let identifier = identifier.map(str::to_string);
        let body = read_body(request).await?;
        let delivery_id =
            delivery_id(identifier.as_deref(), &body).map_err(|reason| Error::BadRequest(reason.into()))?;
        let dropped = match installation.is_active() {
            false => Some("installation not active"),
            true if !caller_license(state, &installation, None).await.allows() => Some("no active licence"),
            true => None,
        };
        Ok(Self { event, tenant_id: installation.tenant_id.clone(), delivery_id, body, dropped })
    }

    /// The tenant's secret on a POST only Atlassian's servers send.
    fn vouches_for_network(&self) -> bool {
        true
    }
}
