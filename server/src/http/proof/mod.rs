//! Route proofs: what a request must carry before its route's handler runs.
//! Each proof is a type; `http::routes` names one for every route, and the
//! [`require`] layer verifies it first and leaves the verified value in the
//! request, where a handler takes it as an extractor (`op: Operator`). A
//! refusal is rendered for the proof's surface: JSON for a server function,
//! an HTML page in the iframe, the login redirect in the console.

mod api_caller;
mod callback;
mod forge;
mod host_page;
mod operator;
mod over_share;
mod tenant;
mod webhook;

use axum::{
    extract::{FromRequestParts, Request, State},
    http::{HeaderMap, header, request::Parts},
    middleware::Next,
    response::Response,
};

pub(crate) use api_caller::{ApiCaller, ContextCaller};
pub(crate) use callback::LifecycleProof;
pub(crate) use forge::{ForgeEventProof, ForgeProductEventProof, allowed_site_url, learn_from};
pub(crate) use host_page::{AdminPage, HostPage};
pub(crate) use tenant::caller_license;
pub(crate) use webhook::WebhookProof;

use tracing::Instrument;

use super::error::Surface;
use crate::{
    client_address,
    connect::{
        authorization,
        lifecycle::LifecycleEvent,
        token::{RawToken, TokenError},
    },
    console::Operator,
    error::Error,
    error::Result,
    state::AppState,
};

/// The kinds of proof a route can declare.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProofKind {
    /// Nothing: the descriptor, health, static assets, the landing page.
    Public,
    /// The host's iframe page JWT (`?jwt=`, qsh bound to this request).
    HostPage,
    /// A page JWT whose user the host says is a site administrator.
    AdminPage,
    /// A server function: the app's session token, a context JWT or a FIT.
    ApiCaller,
    /// A context JWT from `AP.context.getToken()`, and nothing else.
    ContextCaller,
    /// The operator console's cookie session.
    Operator,
    /// A lifecycle callback, signed as its event requires.
    Lifecycle,
    /// A Forge delivery (a lifecycle or product event, the scheduled
    /// trigger): a FIT of the module that delivers there, with no user.
    ForgeEvent,
    /// A webhook delivery: the tenant's HS256 JWT with the qsh of this POST.
    Webhook,
}

impl ProofKind {
    /// Its name in metrics.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::HostPage => "host_page",
            Self::AdminPage => "admin_page",
            Self::ApiCaller => "api_caller",
            Self::ContextCaller => "context_caller",
            Self::Operator => "operator",
            Self::Lifecycle => "lifecycle",
            Self::ForgeEvent => "forge_event",
            Self::Webhook => "webhook",
        }
    }

    /// How a refusal of this proof is shown.
    pub(crate) fn surface(self) -> Surface {
        match self {
            Self::Public | Self::Lifecycle | Self::ForgeEvent | Self::Webhook => Surface::Json,
            Self::HostPage | Self::AdminPage => Surface::Page,
            Self::ApiCaller | Self::ContextCaller => Surface::Api,
            Self::Operator => Surface::Console,
        }
    }
}

/// A proof a route may demand: how to verify it from the request.
pub(crate) trait Proof: Clone + Send + Sync + 'static {
    const KIND: ProofKind;
    fn verify(state: &AppState, request: &mut Request) -> impl Future<Output = Result<Self>> + Send;

    /// Did Atlassian's own servers sign this request (an install key, a
    /// tenant's secret on a server-to-server call, Forge's key)? Then its
    /// network may use the connections kept for Atlassian for a while
    /// (`proven_networks`). Not a browser's page token: any site's user has one.
    fn vouches_for_network(&self) -> bool {
        false
    }
}

/// The explicit absence of a proof.
#[derive(Clone, Copy)]
pub(crate) struct Public;

impl Proof for Public {
    const KIND: ProofKind = ProofKind::Public;
    async fn verify(_: &AppState, _: &mut Request) -> Result<Self> {
        Ok(Public)
    }
}

/// The one token in `Authorization` (`JWT` or `Bearer`), where every
/// non-page proof carries it; a token in the query as well is refused
/// (threat C-08), as are two headers.
fn header_token<'h>(headers: &'h HeaderMap, query: Option<&str>) -> Result<RawToken<'h>> {
    if authorization::jwt_query_param(query)?.is_some() {
        return Err(TokenError::Ambiguous.into());
    }
    let values: Vec<&str> = headers.get_all(header::AUTHORIZATION).iter().map(|v| v.to_str().unwrap_or("")).collect();
    Ok(authorization::from_authorization(&values)?.ok_or(TokenError::Missing)?)
}

/// The layer every declared route runs first: verify `P`, or refuse. A
/// refusal is logged (by `respond`) with the path and the proof it lacked.
pub(crate) async fn require<P: Proof>(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let span = tracing::info_span!("proof", path = %request.uri().path(), kind = ?P::KIND);
    let network =
        client_address::of_request(request.extensions(), request.headers(), &state.config.shares.trusted_proxies);
    let over = network.and_then(|network| state.refusals.over(network));
    match over_share::scope(over, P::verify(&state, &mut request)).instrument(span.clone()).await {
        Ok(proof) => {
            if let Some(network) = network.filter(|_| proof.vouches_for_network()) {
                state.proven.proved(network, std::time::Instant::now());
            }
            request.extensions_mut().insert(proof);
            let mut response = next.run(request).await;
            response.extensions_mut().insert(crate::metrics::ProofLabel(P::KIND.label()));
            response
        }
        Err(error) => {
            let error = counted_refusal::<P>(&state, &request, error);
            let reason = match &error {
                Error::Unauthorized(reason) => reason,
                other => other.status().canonical_reason().unwrap_or("other"),
            };
            metrics::counter!("proof_refusals_total", "proof" => P::KIND.label(), "reason" => reason).increment(1);
            let mut response = span.in_scope(|| error.respond(P::KIND.surface()));
            response.extensions_mut().insert(crate::metrics::ProofLabel(P::KIND.label()));
            response
        }
    }
}

/// A refusal (400, 401, 403) counts against the client's network; over its
/// share it becomes a 429. Outages (503) and our own faults count nothing,
/// and on pages and the API neither does a genuine token that expired within
/// the hour: times are checked after the signature, so it is a real user's
/// page about to renew its session, which a flooder behind the same NAT must
/// not turn into a 429. (Replaying such a token costs what a verified request
/// costs, and those are never throttled either.)
///
/// Nor does an unsigned install: its 401 is what a site import needs to
/// retry the install signed (seed 000), it cost nothing to decide, and a
/// flood from Atlassian's shared egress address must not turn it into a 429.
///
/// Nor a FIT that verified on a route its module may not use: it comes
/// through Atlassian's egress, so it is charged to its installation and
/// user instead (`proof::forge`). A 429 was counted where it was decided.
fn counted_refusal<P: Proof>(state: &AppState, request: &Request, error: Error) -> Error {
    let refused_for = |token_error: TokenError| matches!(&error, Error::Unauthorized(r) if *r == token_error.reason());
    let renewing = matches!(P::KIND.surface(), Surface::Page | Surface::Api) && refused_for(TokenError::Expired);
    let unsigned_install = P::KIND == ProofKind::Lifecycle
        && request.uri().path() == LifecycleEvent::Installed.path()
        && refused_for(TokenError::Missing);
    let signed = refused_for(TokenError::WrongModule) || matches!(error, Error::TooManyRefusals(_));
    if !error.status().is_client_error() || renewing || unsigned_install || signed {
        return error;
    }
    let Some(network) =
        client_address::of_request(request.extensions(), request.headers(), &state.config.shares.trusted_proxies)
    else {
        return error;
    };
    match state.refusals.spend(network) {
        Ok(()) => error,
        Err(wait) => Error::TooManyRefusals(wait),
    }
}

/// Handlers take their route's proof as an extractor. It is only ever there
/// because `require` put it there; a handler asking for a proof its route
/// does not declare is a bug, refused with 500 (the route test finds it).
macro_rules! extract_verified {
    ($($proof:ty),*) => {$(
        impl<S: Send + Sync> FromRequestParts<S> for $proof {
            type Rejection = Error;
            async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self> {
                parts
                    .extensions
                    .remove::<$proof>()
                    .ok_or_else(|| Error::Internal(format!("the route does not declare {}", stringify!($proof))))
            }
        }
    )*};
}

extract_verified!(
    HostPage,
    AdminPage,
    ApiCaller,
    ContextCaller,
    Operator,
    LifecycleProof,
    ForgeEventProof,
    ForgeProductEventProof,
    WebhookProof
);
