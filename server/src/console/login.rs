//! `GET/POST /console/login` and `POST /console/logout`.

use std::net::SocketAddr;

use axum::{
    Form,
    extract::{ConnectInfo, State},
    http::{StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use tower_sessions::Session;

use super::{credential, html, session};
use crate::{error::Error, state::AppState};

pub async fn form(State(state): State<AppState>, session: Session) -> Response {
    if state.config.operator.is_none() {
        return not_configured();
    }
    if session::require(&session, &state).await.is_ok() {
        return Redirect::to("/console").into_response();
    }
    match session::login_csrf(&session).await {
        Ok(csrf) => Html(login_page(&csrf, None)).into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
pub struct LoginForm {
    user: String,
    password: String,
    csrf: String,
}

pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    session: Session,
    Form(form): Form<LoginForm>,
) -> Response {
    let Some(credential) = state.config.operator.clone() else { return not_configured() };
    if !session::csrf_matches(&session, &form.csrf).await {
        return forbidden();
    }
    if form.user.len() > 64 {
        return Error::BadRequest("operator names are at most 64 characters".into()).into_response();
    }
    // Behind a reverse proxy every client shares the proxy's address; the
    // per-name key still limits guessing at one operator.
    let keys = vec![format!("ip:{}", peer.ip()), format!("user:{}", form.user)];
    if let Err(wait) = state.login_throttle.attempt(&keys) {
        tracing::warn!(ip = %peer.ip(), "operator login throttled");
        let retry = wait.as_secs().max(1).to_string();
        return (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, retry)], Html(html::page("Too many attempts", None, "<p>Wait a few minutes, then try again.</p>"))).into_response();
    }
    // argon2 is slow on purpose; keep it off the async workers.
    let (user, password, checked) = (form.user.clone(), form.password, credential.clone());
    let ok = tokio::task::spawn_blocking(move || credential::verify(&checked, &user, &password)).await.unwrap_or(false);
    if !ok {
        tracing::warn!(ip = %peer.ip(), "operator login failed");
        let csrf = session::login_csrf(&session).await.unwrap_or_default();
        return (StatusCode::UNAUTHORIZED, Html(login_page(&csrf, Some("Wrong name or password.")))).into_response();
    }
    state.login_throttle.succeeded(&keys);
    match session::log_in(&session, &credential, state.clock.now()).await {
        Ok(()) => {
            tracing::info!(operator = %form.user, "operator logged in");
            Redirect::to("/console").into_response()
        }
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn logout(session: Session, Form(form): Form<CsrfForm>) -> Response {
    if !session::csrf_matches(&session, &form.csrf).await {
        return forbidden();
    }
    session::log_out(&session).await;
    Redirect::to("/console/login").into_response()
}

fn login_page(csrf: &str, error: Option<&str>) -> String {
    let error = error.map(|e| format!(r#"<p class="error" id="login-error">{}</p>"#, html::escape(e))).unwrap_or_default();
    let body = format!(
        r#"{error}<form method="post" action="/console/login" class="card note-form">
<input type="hidden" name="csrf" value="{}">
<label for="user">Operator</label><input id="user" name="user" autocomplete="username" required>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button class="button" id="login">Log in</button></form>"#,
        html::escape(csrf)
    );
    html::page("Operator console", None, &body)
}

pub fn forbidden() -> Response {
    (StatusCode::FORBIDDEN, Html(html::page("Refused", None, "<p>The form was stale or forged. Reload the page and try again.</p>"))).into_response()
}

fn not_configured() -> Response {
    tracing::info!("operator console requested but no OPERATOR_USER is configured");
    Error::NotFound.into_response()
}
