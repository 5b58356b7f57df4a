//! Atlassian's personal data reporting: every tenant's stored account ids
//! are reported to the product's personal data reporting API once a cycle
//! (weekly by default, on one instance of several), and the answer is acted
//! on: a closed account's personal data is erased. `report` decides,
//! `cycle` runs it.

mod cycle;
mod report;

pub(crate) use cycle::{ReportingJob, spawn_reporting_job};
