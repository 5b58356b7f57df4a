//! A moment in whole seconds since the Unix epoch: what a JWT's `iat`, `exp`
//! and `nbf` carry, what the app's clock reads and what rows store. Adding
//! or taking seconds gives a moment; one moment taken from another gives
//! seconds, so a duration can never be stored where a moment is meant.

use std::ops::{Add, Sub};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(transparent))]
#[serde(transparent)]
pub struct UnixTime(i64);

impl UnixTime {
    /// The epoch itself: a moment before anything the app has seen.
    pub const EPOCH: Self = Self(0);

    pub const fn from_secs(secs: i64) -> Self {
        Self(secs)
    }

    pub const fn secs(self) -> i64 {
        self.0
    }

    /// `secs` later, or the last moment there is (a token's `exp` near
    /// `i64::MAX` must not wrap round into the past).
    pub const fn saturating_add(self, secs: i64) -> Self {
        Self(self.0.saturating_add(secs))
    }

    /// The UTC calendar date and time: (year, month, day, hour, minute, second).
    pub fn utc(self) -> (i64, u32, u32, i64, i64, i64) {
        let (days, rest) = (self.0.div_euclid(86_400), self.0.rem_euclid(86_400));
        let (y, m, d) = civil_from_days(days);
        (y, m, d, rest / 3600, rest % 3600 / 60, rest % 60)
    }

    /// RFC 3339 in UTC, to the second: `2026-12-07T22:47:58Z`.
    pub fn rfc3339(self) -> String {
        let (y, m, d, hour, min, sec) = self.utc();
        format!("{y:04}-{m:02}-{d:02}T{hour:02}:{min:02}:{sec:02}Z")
    }
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

impl Add<i64> for UnixTime {
    type Output = Self;
    fn add(self, secs: i64) -> Self {
        self.saturating_add(secs)
    }
}

impl Sub<i64> for UnixTime {
    type Output = Self;
    fn sub(self, secs: i64) -> Self {
        Self(self.0.saturating_sub(secs))
    }
}

/// The seconds from `earlier` to `self` (negative when `earlier` is later).
impl Sub for UnixTime {
    type Output = i64;
    fn sub(self, earlier: Self) -> i64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl std::fmt::Display for UnixTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_move_a_moment_and_two_moments_give_seconds() {
        let t = UnixTime::from_secs(1_000);
        assert_eq!(t + 60, UnixTime::from_secs(1_060));
        assert_eq!(t - 60, UnixTime::from_secs(940));
        assert_eq!((t + 60) - t, 60);
        assert_eq!(t - (t + 60), -60);
        assert!(t < t + 1);
    }

    #[test]
    fn a_moment_near_the_end_of_time_does_not_wrap_into_the_past() {
        let last = UnixTime::from_secs(i64::MAX - 5);
        assert_eq!(last + 60, UnixTime::from_secs(i64::MAX));
        assert!(last + 60 > last);
        assert_eq!(UnixTime::from_secs(i64::MIN + 5) - 60, UnixTime::from_secs(i64::MIN));
    }

    #[test]
    fn it_is_written_and_read_as_its_number() {
        assert_eq!(serde_json::to_string(&UnixTime::from_secs(1_700_000_000)).unwrap(), "1700000000");
        assert_eq!(serde_json::from_str::<UnixTime>("42").unwrap(), UnixTime::from_secs(42));
    }
}
