//! The workers that process queued deliveries, on every instance: claim the
//! oldest ready job under a lease, drop it if its tenant is no longer
//! active, run the handlers of its event, then mark it done, or ready again
//! with backoff, or dead after the last attempt (an operator can retry it).
//! A job runs on one worker at a time: the lease is renewed while its
//! handlers run and every write is fenced by the claim, so a run that lost
//! its lease stops and writes nothing. A handler that panics or runs past
//! `WEBHOOK_HANDLER_TIMEOUT_SECS` is a failed attempt like any other, and a
//! worker that dies is started again.

use std::{
    panic::AssertUnwindSafe,
    sync::Arc,
    time::{Duration, Instant},
};

use futures::FutureExt;
use tokio::{sync::Notify, task::JoinHandle};

use super::handler::{HandlerContext, HandlerTools, WebhookEvent};
use crate::store::{
    installations,
    webhook_jobs::{self, ClaimedJob, JobState},
};

/// How often an idle worker looks for jobs queued by other instances.
const IDLE_POLL: Duration = Duration::from_millis(250);
/// How often a worker looks for jobs whose lease ran out.
const REQUEUE_EVERY: Duration = Duration::from_secs(2);
/// The longest wait between retries of a failing job.
const MAX_BACKOFF_SECS: i64 = 600;

#[derive(Clone)]
pub(crate) struct Workers {
    /// The app the handlers act for: its store, clock, clients and handlers.
    pub tools: HandlerTools,
    /// Woken when this instance queues a job.
    pub wakeup: Arc<Notify>,
    pub max_attempts: i64,
    pub lease_secs: i64,
    pub handler_timeout: Duration,
}

/// Why a run ended without an outcome to write.
enum Interrupted {
    /// Another run holds the job now (this one's lease ran out).
    LostLease,
    /// The lease could not be renewed: the database is unreachable.
    Unrenewable(String),
}

/// Aborts the task when dropped: a supervisor that is aborted takes its worker with it.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Workers {
    /// Starts `count` supervised workers; they run until the handles are aborted.
    pub(crate) fn spawn(&self, count: usize) -> Vec<JoinHandle<()>> {
        (0..count).map(|_| tokio::spawn(self.clone().supervise())).collect()
    }

    /// Runs a worker and starts it again whenever it dies.
    async fn supervise(self) {
        loop {
            let mut worker = AbortOnDrop(tokio::spawn(self.clone().run()));
            match (&mut worker.0).await {
                Err(e) if e.is_panic() => tracing::error!("a webhook worker panicked; starting it again"),
                _ => return,
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    async fn run(self) {
        let mut requeued_at = Instant::now();
        loop {
            if requeued_at.elapsed() >= REQUEUE_EVERY {
                requeued_at = Instant::now();
                match webhook_jobs::requeue_expired(&self.tools.db, self.tools.clock.now()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::warn!(jobs = n, "webhook jobs whose worker stopped are ready again"),
                    Err(e) => tracing::warn!(error = %e, "could not requeue expired webhook jobs"),
                }
            }
            match webhook_jobs::claim(&self.tools.db, self.tools.clock.now(), self.lease_secs).await {
                Ok(Some(job)) => self.process(job).await,
                Ok(None) => {
                    let _ = tokio::time::timeout(IDLE_POLL, self.wakeup.notified()).await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "webhook queue unavailable; will retry");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    async fn process(&self, job: ClaimedJob) {
        let started = Instant::now();
        let outcome = tokio::select! {
            outcome = self.guarded_outcome(&job) => outcome,
            interrupted = self.keep_leased(&job) => {
                match interrupted {
                    Interrupted::LostLease => tracing::warn!(delivery_id = %job.delivery_id,
                        "a webhook job's lease ran out while it ran; the run stops and writes nothing"),
                    Interrupted::Unrenewable(e) => tracing::warn!(delivery_id = %job.delivery_id, error = %e,
                        "could not renew a webhook job's lease; the run stops and the job is claimed again"),
                }
                metrics::counter!("webhook_runs_total", "outcome" => "lost_lease").increment(1);
                return;
            }
        };
        metrics::histogram!("webhook_handler_duration_seconds", "event" => job.event.clone())
            .record(started.elapsed().as_secs_f64());
        let now = self.tools.clock.now();
        let run = match &outcome {
            Ok(state) => state.as_str(),
            Err(_) if job.attempts < self.max_attempts => "failed",
            Err(_) => "dead",
        };
        metrics::counter!("webhook_runs_total", "outcome" => run).increment(1);
        let written = match &outcome {
            Ok(state) => webhook_jobs::finish(&self.tools.db, &job, *state, now).await,
            Err(error) => {
                let retry_at = (job.attempts < self.max_attempts).then(|| now + backoff_secs(job.attempts));
                let dead = retry_at.is_none();
                tracing::warn!(delivery_id = %job.delivery_id, attempt = job.attempts, error = %error, dead,
                    "webhook handler failed");
                webhook_jobs::fail(&self.tools.db, &job, error, retry_at).await
            }
        };
        match written {
            Ok(true) => {}
            Ok(false) => tracing::warn!(delivery_id = %job.delivery_id,
                "a webhook job was taken over before its outcome was written; nothing written"),
            // The lease runs out and the job is claimed again.
            Err(e) => tracing::warn!(delivery_id = %job.delivery_id, error = %e,
                "could not record a webhook job's outcome"),
        }
    }

    /// Renews the job's lease at a third of its length for as long as the
    /// handlers run; returns only when the run must stop.
    async fn keep_leased(&self, job: &ClaimedJob) -> Interrupted {
        let every = Duration::from_millis((self.lease_secs.max(1) as u64) * 1000 / 3);
        loop {
            tokio::time::sleep(every).await;
            match webhook_jobs::renew(&self.tools.db, job, self.tools.clock.now() + self.lease_secs).await {
                Ok(true) => {}
                Ok(false) => return Interrupted::LostLease,
                Err(e) => return Interrupted::Unrenewable(e.to_string()),
            }
        }
    }

    /// The handlers' outcome, with a panic or a run past the timeout as a failure.
    async fn guarded_outcome(&self, job: &ClaimedJob) -> Result<JobState, String> {
        let run = AssertUnwindSafe(self.outcome(job)).catch_unwind();
        match tokio::time::timeout(self.handler_timeout, run).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(panic)) => Err(format!("a handler panicked: {}", panic_message(panic.as_ref()))),
            Err(_) => Err(format!("the handlers ran past {} s", self.handler_timeout.as_secs())),
        }
    }

    /// `Done` or `Dropped`, or the handler's error.
    async fn outcome(&self, job: &ClaimedJob) -> Result<JobState, String> {
        let installation = installations::find(&self.tools.db, &job.tenant_id).await.map_err(|e| e.to_string())?;
        let Some(installation) = installation.filter(|i| i.is_active()) else { return Ok(JobState::Dropped) };
        let event = WebhookEvent {
            event: job.event.clone(),
            delivery_id: job.delivery_id.clone(),
            tenant_id: job.tenant_id.clone(),
            base_url: installation.base_url.clone(),
            entity_key: job.entity_key.clone(),
            payload: serde_json::from_str(&job.payload).unwrap_or(serde_json::Value::Null),
            attempt: job.attempts,
            handled_at: self.tools.clock.now(),
        };
        let context = HandlerContext::new(&event, &installation, &self.tools);
        for handler in self.tools.webhooks.for_event(&job.event) {
            handler.handle(&context).await.map_err(|e| e.0)?;
        }
        Ok(JobState::Done)
    }
}

/// What a panic said, when it said it with text.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic.downcast_ref::<&str>().copied().or_else(|| panic.downcast_ref::<String>().map(String::as_str)).unwrap_or("?")
}

/// 1 s, 2 s, 4 s … after the first, second, third failure; at most 10 min.
fn backoff_secs(attempts: i64) -> i64 {
    (1_i64 << attempts.clamp(1, 20).saturating_sub(1)).min(MAX_BACKOFF_SECS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_says_what_it_said() {
        let text = std::panic::catch_unwind(|| panic!("handler broke: {}", 7)).unwrap_err();
        assert_eq!(panic_message(text.as_ref()), "handler broke: 7");
        let literal = std::panic::catch_unwind(|| std::panic::panic_any("plain")).unwrap_err();
        assert_eq!(panic_message(literal.as_ref()), "plain");
        let other = std::panic::catch_unwind(|| std::panic::panic_any(42)).unwrap_err();
        assert_eq!(panic_message(other.as_ref()), "?");
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!([1, 2, 3, 4].map(backoff_secs), [1, 2, 4, 8]);
        assert_eq!(backoff_secs(30), MAX_BACKOFF_SECS);
        assert_eq!(backoff_secs(0), 1);
    }
}
