//! What an operator can watch: Prometheus text on a listener of its own
//! (`METRICS_ADDR`, off by default), never on the app's public address.
//! Counters and histograms are recorded where things happen (requests by
//! route, proof and status; refusals by reason; key fetches and their waits;
//! webhook runs); the queue and the database pool are read when scraped.
//! Without `METRICS_ADDR` no recorder is installed and recording costs nothing.

use std::{sync::OnceLock, time::Instant};

use axum::{
    Router,
    extract::{MatchedPath, Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
};
use ids::UnixTime;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tracing::Instrument;

use crate::{
    clock::Clock,
    error::{Error, Result},
    store::{
        Database,
        webhook_jobs::{self, JobState},
    },
};

/// Seconds: from a cached page (1 ms) to a handler near its timeout.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0];

/// The process's one recorder, installed by the first instance that serves metrics.
static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

fn handle() -> Result<PrometheusHandle> {
    let builder = PrometheusBuilder::new().set_buckets(&BUCKETS).map_err(|e| Error::Config(format!("metrics: {e}")))?;
    // Instances in one process (tests) share the first recorder; the others wait for it.
    let handle = HANDLE.get_or_init(|| {
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed; /metrics will show nothing of ours");
        }
        handle
    });
    Ok(handle.clone())
}

#[derive(Clone)]
struct Scrape {
    handle: PrometheusHandle,
    db: Database,
    clock: std::sync::Arc<Clock>,
}

/// Serves `GET /metrics` on `listener` until the task is aborted.
pub(crate) fn spawn(
    listener: TcpListener,
    db: Database,
    clock: std::sync::Arc<Clock>,
) -> Result<tokio::task::JoinHandle<()>> {
    let scrape = Scrape { handle: handle()?, db, clock };
    let router = Router::new().route("/metrics", get(render)).with_state(scrape);
    Ok(tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "the metrics listener stopped");
        }
    }))
}

async fn render(State(scrape): State<Scrape>) -> Response {
    record_queue(&scrape.db, scrape.clock.now()).await;
    let (size, idle) = scrape.db.pool_use();
    metrics::gauge!("db_pool_connections", "state" => "in_use").set(f64::from(size.saturating_sub(idle)));
    metrics::gauge!("db_pool_connections", "state" => "idle").set(f64::from(idle));
    scrape.handle.run_upkeep();
    ([("content-type", "text/plain; version=0.0.4")], scrape.handle.render()).into_response()
}

/// Jobs by state and the age of the oldest ready one, as the database holds them now.
async fn record_queue(db: &Database, now: UnixTime) {
    match webhook_jobs::unfinished_counts(db).await {
        Ok(counts) => {
            for state in [JobState::Queued, JobState::Running, JobState::Dead] {
                let n = counts.iter().find(|(s, _)| *s == state).map_or(0, |(_, n)| *n);
                metrics::gauge!("webhook_jobs", "state" => state.as_str()).set(n as f64);
            }
        }
        Err(e) => tracing::warn!(error = %e, "metrics: could not count webhook jobs"),
    }
    if let Ok(oldest) = webhook_jobs::oldest_ready(db, now).await {
        metrics::gauge!("webhook_oldest_ready_job_age_seconds").set(oldest.map_or(0, |at| now - at) as f64);
    }
}

/// The proof a route demanded, as its label; the proof layer puts it on the response.
#[derive(Clone, Copy)]
pub(crate) struct ProofLabel(pub &'static str);

/// Counts and times every request by its route, the proof it needed and
/// its status; runs it in a span that carries Forge's `x-b3-traceid`.
pub(crate) async fn track_request(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str()).to_string();
    let span = match trace_id(&request) {
        Some(id) => tracing::info_span!("request", trace_id = %id),
        None => tracing::Span::none(),
    };
    let started = Instant::now();
    let response = next.run(request).instrument(span).await;
    let proof = response.extensions().get::<ProofLabel>().map_or("none", |label| label.0);
    let status = response.status().as_u16().to_string();
    metrics::histogram!("http_request_duration_seconds", "route" => route.clone())
        .record(started.elapsed().as_secs_f64());
    if response.status().as_u16() == 429 {
        metrics::counter!("http_throttled_total", "route" => route.clone()).increment(1);
    }
    metrics::counter!("http_requests_total", "route" => route, "proof" => proof, "status" => status).increment(1);
    response
}

/// Forge's trace id, when it is one (16 or 32 hex digits): anything else is not logged.
fn trace_id(request: &Request) -> Option<&str> {
    let id = request.headers().get("x-b3-traceid")?.to_str().ok()?;
    (matches!(id.len(), 16 | 32) && id.bytes().all(|b| b.is_ascii_hexdigit())).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_trace(value: &str) -> Request {
        Request::builder().header("x-b3-traceid", value).body(axum::body::Body::empty()).unwrap()
    }

    #[test]
    fn only_a_well_formed_trace_id_is_taken() {
        assert_eq!(trace_id(&with_trace("463ac35c9f6413ad")), Some("463ac35c9f6413ad"));
        assert_eq!(trace_id(&with_trace("463ac35c9f6413ad48485a3953bb6124")).map(str::len), Some(32));
        for bad in ["", "xyz", "463ac35c9f6413a", "463ac35c9f6413ag", "463ac35c 9f6413ad"] {
            assert_eq!(trace_id(&with_trace(bad)), None, "{bad:?}");
        }
    }
}
