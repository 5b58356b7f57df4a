//! `POST /installed`, `/uninstalled`, `/enabled`, `/disabled`: parse and
//! bound the body, authenticate the request by the rules of its event, then
//! apply it in one transaction. A refused request changes nothing stored.

use axum::{
    Router,
    body::Bytes,
    extract::{DefaultBodyLimit, State},
    http::{HeaderMap, StatusCode, Uri, header},
    routing::post,
};

use crate::{
    connect::{
        authorization,
        lifecycle::{Decision, Incoming, LifecycleEvent, Signature},
        lifecycle_token::{CallbackContext, verify_signed_install, verify_tenant_signed},
        payload::LifecyclePayload,
        token::{RawToken, TokenError},
    },
    error::{Error, Result},
    outbound::install_keys::KeyError,
    secrets::{SealedSecret, SharedSecret, constant_time_eq},
    state::AppState,
    store::{
        installations::{self, InstallFields},
        lifecycle::{self as apply_event, EventWrite, NewInstall},
        lifecycle_events::{self, NewEvent, Outcome},
    },
};

/// Lifecycle bodies are a few hundred bytes; anything near this is an attack.
const LIFECYCLE_BODY_LIMIT: usize = 64 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/installed", post(installed))
        .route("/uninstalled", post(uninstalled))
        .route("/enabled", post(enabled))
        .route("/disabled", post(disabled))
        .layer(DefaultBodyLimit::max(LIFECYCLE_BODY_LIMIT))
}

async fn installed(State(s): State<AppState>, headers: HeaderMap, uri: Uri, body: Bytes) -> Result<StatusCode> {
    handle(&s, LifecycleEvent::Installed, &headers, &uri, &body).await
}

async fn uninstalled(State(s): State<AppState>, headers: HeaderMap, uri: Uri, body: Bytes) -> Result<StatusCode> {
    handle(&s, LifecycleEvent::Uninstalled, &headers, &uri, &body).await
}

async fn enabled(State(s): State<AppState>, headers: HeaderMap, uri: Uri, body: Bytes) -> Result<StatusCode> {
    handle(&s, LifecycleEvent::Enabled, &headers, &uri, &body).await
}

async fn disabled(State(s): State<AppState>, headers: HeaderMap, uri: Uri, body: Bytes) -> Result<StatusCode> {
    handle(&s, LifecycleEvent::Disabled, &headers, &uri, &body).await
}

/// How the request authenticated, or why it needs no authentication.
enum Proof {
    /// `fingerprint`: SHA-256 of the token, to refuse it replayed with another body.
    Verified { signature: Signature, iat: i64, fingerprint: Option<String> },
    /// A `disabled` without a JWT for a tenant that is unknown or already
    /// uninstalled: Atlassian sends these; answer 204 and change nothing.
    NothingToDo,
}

enum AuthFailure {
    Token(TokenError),
    /// The key server or the database could not answer; the host retries.
    Unavailable(&'static str),
}

async fn handle(state: &AppState, event: LifecycleEvent, headers: &HeaderMap, uri: &Uri, body: &[u8]) -> Result<StatusCode> {
    let now = state.clock.now();
    let payload = LifecyclePayload::parse(body, event).map_err(|reason| Error::BadRequest(reason.into()))?;
    if payload.key != state.descriptor.key() {
        return Err(Error::BadRequest("the payload is for another app key".into()));
    }
    if !state.config.host_allowlist.allows(&payload.base_url) {
        tracing::warn!(client_key = %payload.client_key, base_url = %payload.base_url, "install from a host outside the allowlist");
        return Err(Error::Forbidden);
    }
    let proof = match authenticate(state, event, headers, uri, &payload, now).await {
        Ok(proof) => proof,
        Err(AuthFailure::Unavailable(what)) => return Err(Error::Unavailable(what.into())),
        Err(AuthFailure::Token(e)) => return reject(state, event, &payload, e, now).await,
    };
    let Proof::Verified { signature, iat, fingerprint } = proof else { return Ok(StatusCode::NO_CONTENT) };
    let decision = apply(state, event, &payload, Verified { signature, iat, fingerprint: fingerprint.as_deref() }, now).await?;
    tracing::info!(client_key = %payload.client_key, event = event.as_str(), signature = signature.as_str(), ?decision, "lifecycle event");
    match decision {
        Decision::Reject(reason) => Err(Error::Unauthorized(reason)),
        _ => Ok(StatusCode::NO_CONTENT),
    }
}

async fn authenticate(
    state: &AppState,
    event: LifecycleEvent,
    headers: &HeaderMap,
    uri: &Uri,
    payload: &LifecyclePayload,
    now: i64,
) -> std::result::Result<Proof, AuthFailure> {
    // Lifecycle tokens travel only in the Authorization header.
    if authorization::jwt_query_param(uri.query()).map_err(AuthFailure::Token)?.is_some() {
        return Err(AuthFailure::Token(TokenError::Ambiguous));
    }
    let values: Vec<&str> = headers.get_all(header::AUTHORIZATION).iter().filter_map(|v| v.to_str().ok()).collect();
    if values.len() != headers.get_all(header::AUTHORIZATION).iter().count() {
        return Err(AuthFailure::Token(TokenError::Malformed));
    }
    let token = authorization::from_authorization(&values).map_err(AuthFailure::Token)?;
    let context = CallbackContext { client_key: &payload.client_key, path: uri.path(), now };
    let Some(token) = token else { return unsigned(state, event, payload).await };
    let header = token.header().map_err(AuthFailure::Token)?;
    match (event, header.alg.as_str()) {
        (LifecycleEvent::Installed | LifecycleEvent::Uninstalled, "RS256") => {
            let kid = header.kid.as_deref().ok_or(AuthFailure::Token(TokenError::BadKeyId))?;
            let key = state.install_keys.get(kid).await.map_err(|e| match e {
                KeyError::Unavailable => AuthFailure::Unavailable("install key server"),
                KeyError::InvalidKid | KeyError::UnknownKid => AuthFailure::Token(TokenError::BadKeyId),
            })?;
            let claims = verify_signed_install(token, &key, state.config.base_url_str(), &context).map_err(AuthFailure::Token)?;
            Ok(Proof::Verified { signature: Signature::AtlassianRs256, iat: claims.iat, fingerprint: Some(fingerprint(token)) })
        }
        (LifecycleEvent::Enabled | LifecycleEvent::Disabled, "HS256") => tenant_signed(state, token, &context).await,
        // Legacy mode: reinstalls and uninstalls signed with the stored secret.
        (LifecycleEvent::Installed | LifecycleEvent::Uninstalled, "HS256") if state.config.legacy_install => {
            tenant_signed(state, token, &context).await
        }
        _ => Err(AuthFailure::Token(TokenError::WrongAlgorithm)),
    }
}

/// A request without a token: a legacy first install, or a `disabled` for
/// a tenant that is gone. Anything else is refused.
async fn unsigned(state: &AppState, event: LifecycleEvent, payload: &LifecyclePayload) -> std::result::Result<Proof, AuthFailure> {
    match event {
        LifecycleEvent::Installed if state.config.legacy_install => {
            Ok(Proof::Verified { signature: Signature::Unsigned, iat: state.clock.now(), fingerprint: None })
        }
        LifecycleEvent::Disabled => {
            let current = installations::find(&state.db, &payload.client_key).await.map_err(|_| AuthFailure::Unavailable("database"))?;
            match current {
                None => Ok(Proof::NothingToDo),
                Some(c) if c.state == crate::connect::lifecycle::InstallState::Uninstalled => Ok(Proof::NothingToDo),
                Some(_) => Err(AuthFailure::Token(TokenError::Missing)),
            }
        }
        _ => Err(AuthFailure::Token(TokenError::Missing)),
    }
}

/// HS256 under the tenant's stored secret; the tenant is found by the body's
/// clientKey, which the token's `iss` must equal.
async fn tenant_signed(state: &AppState, token: RawToken<'_>, context: &CallbackContext<'_>) -> std::result::Result<Proof, AuthFailure> {
    let installation = installations::find(&state.db, context.client_key)
        .await
        .map_err(|_| AuthFailure::Unavailable("database"))?
        .ok_or(AuthFailure::Token(TokenError::UnknownIssuer))?;
    let secret = state
        .keyring
        .open(&installation.client_key, &installation.sealed_secret())
        .map_err(|_| AuthFailure::Token(TokenError::UnknownIssuer))?;
    let claims = verify_tenant_signed(token, secret.expose(), context).map_err(AuthFailure::Token)?;
    Ok(Proof::Verified { signature: Signature::TenantHs256, iat: claims.iat, fingerprint: Some(fingerprint(token)) })
}

/// What authentication established about an accepted request.
struct Verified<'a> {
    signature: Signature,
    iat: i64,
    fingerprint: Option<&'a str>,
}

async fn apply(state: &AppState, event: LifecycleEvent, payload: &LifecyclePayload, proof: Verified<'_>, now: i64) -> Result<Decision> {
    let Verified { signature, iat, fingerprint } = proof;
    let new_secret = payload.shared_secret.as_deref().unwrap_or_default();
    let sealed = match event {
        LifecycleEvent::Installed => Some(state.keyring.seal(&payload.client_key, &SharedSecret::new(new_secret.as_bytes().to_vec()))?),
        _ => None,
    };
    let keyring = state.keyring.clone();
    let same_secret = move |stored: &SealedSecret, client_key: &str| {
        keyring.open(client_key, stored).is_ok_and(|old| constant_time_eq(old.expose(), new_secret.as_bytes()))
    };
    let install = sealed.as_ref().map(|sealed| NewInstall {
        fields: InstallFields {
            client_key: &payload.client_key,
            base_url: &payload.base_url,
            display_url: payload.display_url.as_deref(),
            product_type: payload.product_type.as_deref(),
            description: payload.description.as_deref(),
            app_key: &payload.key,
            oauth_client_id: payload.oauth_client_id.as_deref(),
            service_entitlement_number: payload.service_entitlement_number.as_deref(),
            installation_id: payload.installation_id.as_deref(),
            sealed,
            signature: signature.as_str(),
            now,
            iat,
            token_fingerprint: fingerprint,
        },
        same_secret: &same_secret,
    });
    let write = EventWrite { client_key: &payload.client_key, base_url: &payload.base_url, now, install };
    let incoming = Incoming {
        event,
        signature,
        iat,
        base_url: &payload.base_url,
        same_secret: false,
        base_url_taken: false,
        token_fingerprint: fingerprint,
    };
    apply_event::apply(&state.db, incoming, &write).await
}

/// Refuses with 401 and, when the clientKey has an installation, logs why.
async fn reject(state: &AppState, event: LifecycleEvent, payload: &LifecyclePayload, error: TokenError, now: i64) -> Result<StatusCode> {
    tracing::warn!(client_key = %payload.client_key, event = event.as_str(), reason = error.reason(), "lifecycle callback refused");
    let entry = NewEvent {
        client_key: &payload.client_key,
        event: event.as_str(),
        now,
        signature: "invalid",
        outcome: Outcome::Rejected,
        detail: Some(error.reason()),
    };
    if let Err(e) = lifecycle_events::append_rejection(&state.db, &entry).await {
        tracing::warn!(error = %e, "could not log a rejected lifecycle callback");
    }
    Err(Error::Unauthorized(error.reason()))
}

fn fingerprint(token: RawToken<'_>) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(token.as_str().as_bytes()))
}
