//! The console's webhook queue: counts by state, the newest jobs (dead ones
//! first, with why they failed), and a retry button for each dead job.

use axum::{
    Form,
    extract::{Path, State},
    response::{Html, Redirect},
};
use tower_sessions::Session;

use super::{
    html::{escape, page, row, table, time},
    session::{self, Operator},
    views::CsrfForm,
};
use crate::{
    error::{ConsoleError, Error},
    state::AppState,
    store::webhook_jobs::{self, JobState},
};

pub(crate) async fn list(op: Operator, State(state): State<AppState>) -> Result<Html<String>, ConsoleError> {
    let counts = webhook_jobs::counts(&state.db).await?;
    let summary: Vec<String> = counts.iter().map(|(s, n)| format!("{} {n}", s.as_str())).collect();
    let rows: String = webhook_jobs::recent(&state.db, 200)
        .await?
        .iter()
        .map(|j| {
            let retry = if j.state == JobState::Dead {
                format!(
                    r#"<form method="post" action="/console/webhooks/{}/retry" class="inline">
<input type="hidden" name="csrf" value="{}"><button class="button retry">Retry</button></form>"#,
                    j.id,
                    escape(&op.csrf)
                )
            } else {
                String::new()
            };
            row(&[
                escape(j.tenant_id.as_str()),
                escape(&j.event),
                escape(&j.delivery_id),
                j.state.as_str().to_string(),
                j.attempts.to_string(),
                escape(j.last_error.as_deref().unwrap_or("")),
                time(Some(j.received_at)),
                time(j.processed_at),
                retry,
            ])
        })
        .collect();
    let headings = ["Tenant", "Event", "Delivery", "State", "Runs", "Last error", "Received", "Processed", ""];
    let body = format!(
        r#"<p id="webhook-counts">{}</p>{}"#,
        if summary.is_empty() { "No deliveries yet.".to_string() } else { summary.join(" · ") },
        table("webhooks", &headings, &rows)
    );
    Ok(Html(page("Webhooks", Some((&op.name, &op.csrf)), &body)))
}

pub(crate) async fn retry(
    op: Operator,
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Result<Redirect, ConsoleError> {
    if !session::csrf_matches(&session, &form.csrf).await {
        return Err(Error::Forbidden.into());
    }
    if !webhook_jobs::retry_dead(&state.db, id, state.clock.now()).await? {
        return Err(Error::BadRequest("only a dead job can be retried".into()).into());
    }
    state.webhook_wakeup.notify_one();
    tracing::info!(operator = %op.name, job = id, "webhook job retried by an operator");
    Ok(Redirect::to("/console/webhooks"))
}
