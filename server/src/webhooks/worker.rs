//! The workers that process queued deliveries, on every instance. A worker
//! claims a batch of ready jobs under a lease, runs their handlers
//! overlapped (up to `WEBHOOK_CONCURRENCY` at once), and writes their
//! outcomes a batch at a time: done, dropped (its tenant is no longer
//! active), ready again with backoff, or dead after the last attempt (an
//! operator can retry it). It claims again when half its runs have ended.
//! A job runs on one worker at a time: the leases of the jobs a worker holds
//! are renewed together while it holds them, and every write is fenced by
//! the claim, so a run that lost its lease stops and writes nothing. A
//! handler that panics or runs past `WEBHOOK_HANDLER_TIMEOUT_SECS` is a
//! failed attempt like any other, and a worker that dies is started again.

use std::{
    collections::HashMap,
    panic::AssertUnwindSafe,
    sync::Arc,
    time::{Duration, Instant},
};

use futures::FutureExt;
use tokio::{
    sync::Notify,
    task::{Id, JoinError, JoinHandle, JoinSet},
};

use super::handler::{HandlerContext, HandlerTools, WebhookEvent};
use crate::store::{
    installations,
    webhook_jobs::{self, ClaimedJob, Finished, JobState, Outcome},
};

/// How often an idle worker looks for jobs queued by other instances.
const IDLE_POLL: Duration = Duration::from_millis(250);
/// How often a worker looks for jobs whose lease ran out.
const REQUEUE_EVERY: Duration = Duration::from_secs(2);
/// The longest an ended run's outcome waits to be written with others.
const FLUSH_AFTER: Duration = Duration::from_millis(50);
/// How long after a failed write of outcomes it is tried again.
const FLUSH_RETRY: Duration = Duration::from_secs(1);
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
    /// Handler runs one worker overlaps (and the most it claims at once).
    pub concurrency: usize,
}

/// A job a worker holds: the fence of its claim, and how to stop its run.
struct Held {
    attempts: i64,
    stop: Arc<Notify>,
}

/// What a worker holds between its loop's turns.
#[derive(Default)]
struct Round {
    held: HashMap<i64, Held>,
    /// The job each running task runs.
    tasks: HashMap<Id, i64>,
    /// Runs that ended, waiting to be written together.
    ended: Vec<Finished>,
    /// When the oldest of `ended` must be written.
    flush_by: Option<Instant>,
    /// No claim before then: the last one found nothing.
    next_claim: Option<Instant>,
}

/// A run's job, its outcome (None: it was stopped) and how long it took.
type RunEnd = (ClaimedJob, Option<Result<JobState, RunFailure>>, Duration);

/// How long after its delivery a job the site keeps limiting is put back
/// without counting the run: past it, each limited run counts, so the job
/// ends dead after `WEBHOOK_MAX_ATTEMPTS` like any failing one.
const MAX_UNCOUNTED_SECS: i64 = 86_400;

/// Why a run did not end its job: the error, and when the tenant's site
/// limited a call, how long until the job may run again.
struct RunFailure {
    error: String,
    limited: bool,
    retry_after: Option<Duration>,
}

impl RunFailure {
    fn new(error: String) -> Self {
        Self { error, limited: false, retry_after: None }
    }
}

/// How long a limited job waits: the site's `Retry-After`, else a quarter of
/// how long it has waited so far (backing off as a site keeps limiting);
/// a second to an hour (Atlassian's quotas reset each hour).
fn limited_wait(retry_after: Option<Duration>, waited_secs: i64) -> Duration {
    let backoff = Duration::from_secs(u64::try_from(waited_secs / 4).unwrap_or(0));
    retry_after.unwrap_or(backoff).clamp(Duration::from_secs(1), Duration::from_secs(3600))
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
        let concurrency = self.concurrency.max(1);
        // Each run is a task of its own: a run paused while the loop writes
        // could hold the pooled connection the write waits for.
        let mut runs = JoinSet::new();
        let mut round = Round::default();
        let mut requeued_at = Instant::now();
        let mut renewal = tokio::time::interval(Duration::from_millis((self.lease_secs.max(1) as u64) * 1000 / 3));
        renewal.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            if requeued_at.elapsed() >= REQUEUE_EVERY {
                requeued_at = Instant::now();
                self.requeue_expired().await;
            }
            if runs.len() <= concurrency / 2 {
                self.flush(&mut round).await;
                if round.next_claim.is_none_or(|at| Instant::now() >= at) {
                    for job in self.claim(&mut round, concurrency - runs.len()).await {
                        let job_id = job.id;
                        let task = runs.spawn(self.clone().run_one(job, &mut round));
                        round.tasks.insert(task.id(), job_id);
                    }
                }
            }
            if runs.is_empty() {
                let wait = round.next_claim.map_or(IDLE_POLL, |at| at.saturating_duration_since(Instant::now()));
                if tokio::time::timeout(wait, self.wakeup.notified()).await.is_ok() {
                    round.next_claim = None;
                }
                continue;
            }
            let flush_by = round.flush_by.unwrap_or_else(|| Instant::now() + FLUSH_AFTER);
            tokio::select! {
                Some(ended) = runs.join_next_with_id() => {
                    self.joined(&mut round, ended);
                    while let Some(ended) = runs.try_join_next_with_id() {
                        self.joined(&mut round, ended);
                    }
                }
                _ = renewal.tick() => self.renew(&mut round).await,
                _ = tokio::time::sleep_until(flush_by.into()), if round.flush_by.is_some() => {
                    self.flush(&mut round).await;
                }
                _ = self.wakeup.notified(), if round.next_claim.is_some() => round.next_claim = None,
            }
        }
    }

    async fn requeue_expired(&self) {
        match webhook_jobs::requeue_expired(&self.tools.db, self.tools.clock.now()).await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(jobs = n, "webhook jobs whose worker stopped are ready again"),
            Err(e) => tracing::warn!(error = %e, "could not requeue expired webhook jobs"),
        }
    }

    /// Up to `room` jobs, now held; none (and no claim for a while) when the queue is empty or unreachable.
    async fn claim(&self, round: &mut Round, room: usize) -> Vec<ClaimedJob> {
        let now = self.tools.clock.now();
        match webhook_jobs::claim_batch(&self.tools.db, now, self.lease_secs, room).await {
            Ok(jobs) => {
                round.next_claim = (jobs.len() < room).then(|| Instant::now() + IDLE_POLL);
                jobs
            }
            Err(e) => {
                tracing::warn!(error = %e, "webhook queue unavailable; will retry");
                round.next_claim = Some(Instant::now() + Duration::from_secs(1));
                Vec::new()
            }
        }
    }

    /// One job's run: its outcome, or None when it was stopped (its lease lost).
    fn run_one(self, job: ClaimedJob, round: &mut Round) -> impl Future<Output = RunEnd> + use<> {
        let stop = Arc::new(Notify::new());
        round.held.insert(job.id, Held { attempts: job.attempts, stop: stop.clone() });
        async move {
            let started = Instant::now();
            let outcome = tokio::select! {
                outcome = self.guarded_outcome(&job) => Some(outcome),
                () = stop.notified() => None,
            };
            (job, outcome, started.elapsed())
        }
    }

    /// A run's task ended: with its outcome, or (it panicked or was
    /// cancelled) without one, when its job is let go and its lease runs out.
    fn joined(&self, round: &mut Round, joined: Result<(Id, RunEnd), JoinError>) {
        match joined {
            Ok((task, ended)) => {
                round.tasks.remove(&task);
                self.ended(round, ended);
            }
            Err(e) => {
                let job = round.tasks.remove(&e.id());
                tracing::error!(job, error = %e, "a webhook run ended without an outcome; its lease will run out");
                job.map(|job| round.held.remove(&job));
            }
        }
    }

    /// A run ended: its outcome waits to be written with the others.
    fn ended(&self, round: &mut Round, (job, outcome, took): RunEnd) {
        let Some(outcome) = outcome else {
            round.held.remove(&job.id);
            metrics::counter!("webhook_runs_total", "outcome" => "lost_lease").increment(1);
            return;
        };
        metrics::histogram!("webhook_handler_duration_seconds", "event" => job.event.clone())
            .record(took.as_secs_f64());
        let now = self.tools.clock.now();
        let outcome = match outcome {
            Ok(state) => Outcome::Ended(state),
            Err(RunFailure { error, limited: true, retry_after }) if now - job.received_at < MAX_UNCOUNTED_SECS => {
                let wait = limited_wait(retry_after, now - job.received_at);
                // The queue counts whole seconds: one more, so the job never runs before `Retry-After`.
                let retry_at = now + wait.as_secs() as i64 + 1;
                tracing::info!(delivery_id = %job.delivery_id, tenant_id = %job.tenant_id, error = %error,
                    retry_in_secs = wait.as_secs(), "the site limited a webhook handler; the job waits, not counted");
                Outcome::Deferred { error, retry_at }
            }
            // No limit, or a site that has limited this job for a day: a failed attempt like any other.
            Err(RunFailure { error, .. }) => {
                let retry_at = (job.attempts < self.max_attempts).then(|| now + backoff_secs(job.attempts));
                tracing::warn!(delivery_id = %job.delivery_id, attempt = job.attempts, error = %error,
                    dead = retry_at.is_none(), "webhook handler failed");
                Outcome::Failed { error, retry_at }
            }
        };
        let run = match &outcome {
            Outcome::Ended(state) => state.as_str(),
            Outcome::Failed { retry_at: Some(_), .. } => "failed",
            Outcome::Failed { retry_at: None, .. } => "dead",
            Outcome::Deferred { .. } => "rate_limited",
        };
        metrics::counter!("webhook_runs_total", "outcome" => run).increment(1);
        round.flush_by.get_or_insert_with(|| Instant::now() + FLUSH_AFTER);
        round.ended.push(Finished { job, outcome });
    }

    /// Writes the ended runs' outcomes in one transaction; their jobs are no
    /// longer held. When the write fails (SQLite busy past its timeout, the
    /// database away) the outcomes are kept, their leases still renewed, and
    /// written at a later flush; they stay fenced, so a job taken over
    /// meanwhile is not touched.
    async fn flush(&self, round: &mut Round) {
        round.flush_by = None;
        if round.ended.is_empty() {
            return;
        }
        let ended = std::mem::take(&mut round.ended);
        match webhook_jobs::finish_batch(&self.tools.db, &ended, self.tools.clock.now()).await {
            Ok(written) => {
                for (finished, written) in ended.iter().zip(written) {
                    round.held.remove(&finished.job.id);
                    if !written {
                        tracing::warn!(delivery_id = %finished.job.delivery_id,
                            "a webhook job was taken over before its outcome was written; nothing written");
                    }
                }
            }
            Err(e) => {
                tracing::warn!(jobs = ended.len(), error = %e, "could not record webhook jobs' outcomes; will retry");
                round.ended = ended;
                round.flush_by = Some(Instant::now() + FLUSH_RETRY);
            }
        }
    }

    /// Renews the leases of every job held; a run whose job was taken over
    /// stops, and when the database cannot be reached every run stops (its
    /// job is claimed again once the lease runs out).
    async fn renew(&self, round: &mut Round) {
        if round.held.is_empty() {
            return;
        }
        let fences: Vec<(i64, i64)> = round.held.iter().map(|(id, held)| (*id, held.attempts)).collect();
        let until = self.tools.clock.now() + self.lease_secs;
        let kept = match webhook_jobs::renew_held(&self.tools.db, &fences, until).await {
            Ok(kept) => kept,
            Err(e) => {
                tracing::warn!(error = %e, "could not renew webhook jobs' leases; their runs stop");
                Vec::new()
            }
        };
        round.held.retain(|id, held| {
            let keep = kept.contains(id);
            if !keep {
                tracing::warn!(
                    job = id,
                    "a webhook job's lease ran out while it ran; the run stops and writes nothing"
                );
                held.stop.notify_one();
            }
            keep
        });
        round.ended.retain(|finished| round.held.contains_key(&finished.job.id));
    }

    /// The handlers' outcome, with a panic or a run past the timeout as a failure.
    async fn guarded_outcome(&self, job: &ClaimedJob) -> Result<JobState, RunFailure> {
        let run = AssertUnwindSafe(self.outcome(job)).catch_unwind();
        match tokio::time::timeout(self.handler_timeout, run).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(panic)) => Err(RunFailure::new(format!("a handler panicked: {}", panic_message(panic.as_ref())))),
            Err(_) => Err(RunFailure::new(format!("the handlers ran past {} s", self.handler_timeout.as_secs()))),
        }
    }

    /// `Done` or `Dropped`, or the handler's error. The tenant is read as
    /// requests read it (a copy at most `FRESH_FOR` old): a backlog of one
    /// tenant reads its row once, not once a job, and an uninstall may race
    /// a run as it always could.
    async fn outcome(&self, job: &ClaimedJob) -> Result<JobState, RunFailure> {
        let installation = installations::find_recent(&self.tools.db, &job.tenant_id)
            .await
            .map_err(|e| RunFailure::new(e.to_string()))?;
        let Some(installation) = installation.filter(|i| i.is_active()) else { return Ok(JobState::Dropped) };
        let event = WebhookEvent {
            event: job.event.clone(),
            delivery_id: job.delivery_id.clone(),
            tenant_id: job.tenant_id.clone(),
            base_url: installation.site.base_url.clone(),
            entity_key: job.entity_key.clone(),
            payload: serde_json::from_str(&job.payload).unwrap_or(serde_json::Value::Null),
            attempt: job.attempts,
            handled_at: self.tools.clock.now(),
        };
        let context = HandlerContext::new(&event, &installation, &self.tools);
        for handler in self.tools.webhooks.for_event(&job.event) {
            handler.handle(&context).await.map_err(|e| RunFailure {
                error: e.to_string(),
                limited: e.is_rate_limited(),
                retry_after: e.retry_after(),
            })?;
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
    fn a_limited_job_waits_the_sites_retry_after_else_backs_off_within_an_hour() {
        assert_eq!(limited_wait(Some(Duration::from_secs(30)), 5), Duration::from_secs(30));
        assert_eq!(limited_wait(None, 0), Duration::from_secs(1));
        assert_eq!(limited_wait(None, 400), Duration::from_secs(100));
        assert_eq!(limited_wait(None, 86_000), Duration::from_secs(3600));
        assert_eq!(limited_wait(Some(Duration::from_secs(7200)), 5), Duration::from_secs(3600));
        assert_eq!(limited_wait(Some(Duration::ZERO), 5), Duration::from_secs(1));
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!([1, 2, 3, 4].map(backoff_secs), [1, 2, 4, 8]);
        assert_eq!(backoff_secs(30), MAX_BACKOFF_SECS);
        assert_eq!(backoff_secs(0), 1);
    }
}
