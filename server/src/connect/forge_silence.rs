//! When `preUninstall` never comes: Forge calls it best-effort, so a tenant
//! born on Forge is judged by when a verified FIT last reached it (its
//! hourly trigger, an event, a page call). Silent past the first limit, it
//! is shown so on the console; past the second, the app treats it as
//! uninstalled (purged like any other later), and Forge's next verified
//! delivery for it brings it back.

use std::time::Duration;

use ids::UnixTime;

/// How often the time a tenant was reached is written: a page's calls
/// cost at most one write in this long, and the limits count in days.
pub const REACH_GRANULARITY_SECS: i64 = 15 * 60;

/// The app gives up on no one until it has run this long: after an outage of
/// the app (or a restore from an old backup) every tenant looks silent until
/// Forge's hourly triggers have had two rounds to reach those still installed.
pub const WARM_UP_SECS: i64 = 2 * 3600;

/// Whether an app running since `started` may give up on silent tenants `now`.
pub fn warmed_up(started: UnixTime, now: UnixTime) -> bool {
    now - started >= WARM_UP_SECS
}

/// `FORGE_SILENT_DAYS` and `FORGE_GONE_DAYS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SilenceLimits {
    pub silent_after: Duration,
    pub gone_after: Duration,
}

/// What the app makes of a tenant's silence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// Reached within the first limit.
    Heard,
    /// Not reached since `since`, for longer than the first limit.
    Silent { since: UnixTime },
    /// Not reached since `since`, for longer than the second limit.
    Gone { since: UnixTime },
}

/// Judges a tenant last reached at `last_reached`.
pub fn judge(last_reached: UnixTime, now: UnixTime, limits: &SilenceLimits) -> Reach {
    let quiet_for = now - last_reached;
    if quiet_for > secs(limits.gone_after) {
        Reach::Gone { since: last_reached }
    } else if quiet_for > secs(limits.silent_after) {
        Reach::Silent { since: last_reached }
    } else {
        Reach::Heard
    }
}

/// Whether a FIT arriving `now` is worth writing down, the tenant having
/// last been recorded as reached at `recorded` (never, for None).
pub fn worth_recording(recorded: Option<UnixTime>, now: UnixTime) -> bool {
    recorded.is_none_or(|at| now - at >= REACH_GRANULARITY_SECS)
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;
    const LIMITS: SilenceLimits =
        SilenceLimits { silent_after: Duration::from_secs(2 * 86_400), gone_after: Duration::from_secs(14 * 86_400) };

    fn at(secs: i64) -> UnixTime {
        UnixTime::from_secs(secs)
    }

    #[test]
    fn a_tenant_is_heard_then_silent_then_gone_as_days_pass() {
        let reached = at(1_000_000);
        let cases = [
            (0, Reach::Heard),
            (2 * DAY, Reach::Heard),
            (2 * DAY + 1, Reach::Silent { since: reached }),
            (14 * DAY, Reach::Silent { since: reached }),
            (14 * DAY + 1, Reach::Gone { since: reached }),
        ];
        for (later, expected) in cases {
            assert_eq!(judge(reached, at(1_000_000 + later), &LIMITS), expected, "{later} s after");
        }
    }

    #[test]
    fn a_clock_behind_the_last_reach_is_heard() {
        assert_eq!(judge(at(1_000_000), at(999_000), &LIMITS), Reach::Heard);
    }

    #[test]
    fn nobody_is_given_up_on_in_the_first_two_hours_of_a_run() {
        assert!(!warmed_up(at(1_000), at(1_000)));
        assert!(!warmed_up(at(1_000), at(1_000 + WARM_UP_SECS - 1)));
        assert!(warmed_up(at(1_000), at(1_000 + WARM_UP_SECS)));
    }

    #[test]
    fn a_reach_is_written_once_per_granule() {
        assert!(worth_recording(None, at(0)));
        assert!(!worth_recording(Some(at(1_000)), at(1_000 + REACH_GRANULARITY_SECS - 1)));
        assert!(worth_recording(Some(at(1_000)), at(1_000 + REACH_GRANULARITY_SECS)));
    }
}
