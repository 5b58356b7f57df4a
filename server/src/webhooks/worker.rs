//! The workers that process queued deliveries, on every instance: claim the
//! oldest ready job under a lease, drop it if its tenant is no longer
//! active, run the handlers of its event, then mark it done, or ready again
//! with backoff, or dead after the last attempt (an operator can retry it).

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use tokio::sync::Notify;

use super::handler::{WebhookEvent, Webhooks};
use crate::{
    clock::Clock,
    store::{
        Database, installations,
        webhook_jobs::{self, ClaimedJob},
    },
};

/// How often an idle worker looks for jobs queued by other instances.
const IDLE_POLL: Duration = Duration::from_millis(250);
/// How often a worker looks for jobs whose lease ran out.
const REQUEUE_EVERY: Duration = Duration::from_secs(2);
/// The longest wait between retries of a failing job.
const MAX_BACKOFF_SECS: i64 = 600;

#[derive(Clone)]
pub(crate) struct Workers {
    pub db: Database,
    pub clock: Arc<Clock>,
    pub webhooks: Arc<Webhooks>,
    /// Woken when this instance queues a job.
    pub wakeup: Arc<Notify>,
    pub max_attempts: i64,
    pub lease_secs: i64,
}

impl Workers {
    /// Starts `count` workers; they run until the handles are aborted.
    pub(crate) fn spawn(&self, count: usize) -> Vec<tokio::task::JoinHandle<()>> {
        (0..count).map(|_| tokio::spawn(self.clone().run())).collect()
    }

    async fn run(self) {
        let mut requeued_at = Instant::now();
        loop {
            if requeued_at.elapsed() >= REQUEUE_EVERY {
                requeued_at = Instant::now();
                match webhook_jobs::requeue_expired(&self.db, self.clock.now()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::warn!(jobs = n, "webhook jobs whose worker stopped are ready again"),
                    Err(e) => tracing::warn!(error = %e, "could not requeue expired webhook jobs"),
                }
            }
            match webhook_jobs::claim(&self.db, self.clock.now(), self.lease_secs).await {
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
        let outcome = self.outcome(&job).await;
        let now = self.clock.now();
        let written = match &outcome {
            Ok(state) => webhook_jobs::finish(&self.db, job.id, state, now).await,
            Err(error) => {
                let retry_at = (job.attempts < self.max_attempts).then(|| now + backoff_secs(job.attempts));
                let dead = retry_at.is_none();
                tracing::warn!(delivery_id = %job.delivery_id, attempt = job.attempts, error = %error, dead,
                    "webhook handler failed");
                webhook_jobs::fail(&self.db, job.id, error, retry_at).await
            }
        };
        if let Err(e) = written {
            // The lease runs out and the job is claimed again.
            tracing::warn!(delivery_id = %job.delivery_id, error = %e, "could not record a webhook job's outcome");
        }
    }

    /// `done` or `dropped`, or the handler's error.
    async fn outcome(&self, job: &ClaimedJob) -> Result<&'static str, String> {
        let installation = installations::find(&self.db, &job.tenant_id).await.map_err(|e| e.to_string())?;
        let Some(installation) = installation.filter(|i| i.is_active()) else { return Ok("dropped") };
        let event = WebhookEvent {
            event: job.event.clone(),
            delivery_id: job.delivery_id.clone(),
            tenant_id: job.tenant_id.clone(),
            base_url: installation.base_url.clone(),
            entity_key: job.entity_key.clone(),
            payload: serde_json::from_str(&job.payload).unwrap_or(serde_json::Value::Null),
            attempt: job.attempts,
            handled_at: self.clock.now(),
        };
        for handler in self.webhooks.for_event(&job.event) {
            handler.handle(&self.db, &event).await.map_err(|e| e.0)?;
        }
        Ok("done")
    }
}

/// 1 s, 2 s, 4 s … after the first, second, third failure; at most 10 min.
fn backoff_secs(attempts: i64) -> i64 {
    (1_i64 << attempts.clamp(1, 20).saturating_sub(1)).min(MAX_BACKOFF_SECS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!([1, 2, 3, 4].map(backoff_secs), [1, 2, 4, 8]);
        assert_eq!(backoff_secs(30), MAX_BACKOFF_SECS);
        assert_eq!(backoff_secs(0), 1);
    }
}
