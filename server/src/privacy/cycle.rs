//! One reporting cycle over every active tenant, and the job that runs a
//! cycle when it is due: each instance asks every `tick`, and the one whose
//! claim moves the next cycle on (`store::personal_data::claim_cycle`) runs
//! it. A tenant whose site cannot be asked now is tried again next cycle
//! (Atlassian asks for no more than one report a cycle per account); a cycle
//! that could not even list the tenants is tried again at the next tick.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use ids::{AccountId, UnixTime};
use serde::Serialize;

use super::report::{self, BATCH, Status, Stored};
use crate::{
    error::Result,
    store::{
        Database, Tenant, installations,
        personal_data::{self, PersonalData},
    },
    webhooks::HandlerTools,
};

/// What the job is told.
pub(crate) struct ReportingJob {
    pub tools: HandlerTools,
    pub holders: Arc<Vec<PersonalData>>,
    /// How often a cycle runs (`PERSONAL_DATA_REPORT_INTERVAL_SECS`).
    pub interval: Duration,
}

/// What a cycle did, for the log and the tests.
#[derive(Debug, Default, PartialEq, Eq, Serialize)]
struct CycleReport {
    pub tenants: usize,
    pub accounts: usize,
    pub requests: usize,
    pub closed: usize,
    pub updated: usize,
    /// Tenants whose site could not be asked (tried again next cycle).
    pub failed: usize,
}

/// Asks every `tick` (the interval, an hour at most), the first time half a
/// tick to a tick after start, whether a cycle is due.
pub(crate) fn spawn_reporting_job(job: ReportingJob) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let tick = job.interval.min(Duration::from_secs(3600));
        // Not at start, nor at the same moment on every instance and app (Atlassian asks for no fixed times).
        let first = tokio::time::Instant::now() + tick.mul_f64(0.5 + rand::random::<f64>() / 2.0);
        let mut ticker = tokio::time::interval_at(first, tick);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let now = job.tools.clock.now();
            let next = now + i64::try_from(job.interval.as_secs()).unwrap_or(i64::MAX / 2);
            match personal_data::claim_cycle(&job.tools.db, now, next).await {
                Ok(true) => match run_cycle(&job.tools, &job.holders).await {
                    Ok(report) => tracing::info!(?report, "personal data reported"),
                    Err(e) => {
                        // Nothing was reported (the tenants could not be listed): try again at the next tick.
                        tracing::warn!(error = %e, "personal data report failed; it is tried again soon");
                        let soon = now + i64::try_from(tick.as_secs()).unwrap_or(3600);
                        if let Err(e) = personal_data::postpone_cycle(&job.tools.db, soon).await {
                            tracing::warn!(error = %e, "could not bring the personal data report forward");
                        }
                    }
                },
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "could not claim the personal data report; will retry"),
            }
        }
    })
}

/// Reports every active tenant's accounts and acts on the answers.
async fn run_cycle(tools: &HandlerTools, holders: &[PersonalData]) -> Result<CycleReport> {
    let mut report = CycleReport::default();
    for tenant in installations::list(&tools.db).await?.into_iter().filter(Tenant::is_active) {
        if let Err(e) = report_tenant(tools, holders, &tenant, &mut report).await {
            tracing::warn!(tenant_id = %tenant.tenant_id, error = %e, "personal data report of a tenant failed");
            report.failed += 1;
        }
    }
    Ok(report)
}

/// Every account the holders name for the tenant, once, with its oldest write.
async fn stored_accounts(
    db: &Database,
    holders: &[PersonalData],
    tenant: &Tenant,
    now: UnixTime,
) -> Result<Vec<Stored>> {
    let mut oldest: BTreeMap<AccountId, UnixTime> = BTreeMap::new();
    for holder in holders {
        for (account_id, at) in personal_data::accounts(db, holder, &tenant.tenant_id, now).await? {
            let kept = oldest.entry(account_id).or_insert(at);
            *kept = (*kept).min(at);
        }
    }
    Ok(oldest.into_iter().map(|(account_id, updated_at)| Stored { account_id, updated_at }).collect())
}

async fn report_tenant(
    tools: &HandlerTools,
    holders: &[PersonalData],
    tenant: &Tenant,
    report: &mut CycleReport,
) -> Result<()> {
    let stored = stored_accounts(&tools.db, holders, tenant, tools.clock.now()).await?;
    if !stored.is_empty() {
        report.tenants += 1;
        report.accounts += stored.len();
    }
    for batch in stored.chunks(BATCH) {
        let answer = tools.site().report_accounts(tenant, report::body(batch)).await;
        let answer =
            answer.map_err(|e| crate::error::Error::Unavailable(format!("the personal data reporting API: {e}")))?;
        report.requests += 1;
        for (account_id, status) in report::answer(&answer, batch) {
            match status {
                Status::Closed => {
                    erase(&tools.db, holders, tenant, &account_id).await?;
                    report.closed += 1;
                }
                // The house keeps nothing else of an account (display names are asked of the site each time).
                Status::Updated => report.updated += 1,
            }
            let label = if status == Status::Closed { "closed" } else { "updated" };
            metrics::counter!("personal_data_accounts_total", "status" => label).increment(1);
        }
    }
    Ok(())
}

/// Erases a closed account's personal data from every holder, in one transaction.
async fn erase(db: &Database, holders: &[PersonalData], tenant: &Tenant, account_id: &AccountId) -> Result<()> {
    let mut tx = db.begin_write().await?;
    let mut rows = 0;
    for holder in holders {
        rows += personal_data::erase(&mut tx, holder, &tenant.tenant_id, account_id).await?;
    }
    tx.commit().await?;
    tracing::info!(tenant_id = %tenant.tenant_id, rows, "a closed account's personal data erased");
    Ok(())
}
