//! A paid app's licence (`APP_LICENSING`), judged from what Atlassian says
//! of it: a Connect page's `lic` query parameter (`active`, `none`; signed by
//! the page JWT's qsh), a FIT's `app.license.active`. Atlassian says nothing
//! on a session token, a context JWT, a Connect webhook, nor in a FIT of a
//! free app or of a development or staging environment: those are judged by
//! the tenant's record of the last thing said, and a tenant nothing has said
//! anything about is not refused. Pure: the proofs call it and write what it
//! says to record.

use app::api::backend::License;
use ids::UnixTime;

/// What a proof said of the licence, and when its token was issued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Said {
    pub active: bool,
    pub at: UnixTime,
}

/// What a Connect page's `lic` says: `active`, or not (`none`; anything
/// else, such as the old `expired`, is not an active licence either).
pub(crate) fn said_by_lic(lic: Option<&str>) -> Option<bool> {
    lic.map(|value| value == "active")
}

/// The tenant's record of the last word: the licence and when it was said.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Recorded {
    pub license: Option<License>,
    pub at: Option<UnixTime>,
}

/// The caller's licence: what Atlassian said on this request, else the
/// tenant's record; with licensing off, never checked.
pub(crate) fn judge(licensing: bool, said: Option<bool>, recorded: Option<License>) -> License {
    match (licensing, said) {
        (false, _) => License::Unchecked,
        (true, Some(true)) => License::Active,
        (true, Some(false)) => License::Inactive,
        (true, None) => recorded.unwrap_or(License::Unchecked),
    }
}

/// What to record, if anything: what Atlassian said, when the record says
/// otherwise and was not said by a newer token.
pub(crate) fn to_record(licensing: bool, said: Option<Said>, recorded: Recorded) -> Option<License> {
    let said = said.filter(|s| licensing && recorded.at.is_none_or(|at| at <= s.at))?;
    let license = if said.active { License::Active } else { License::Inactive };
    (recorded.license != Some(license)).then_some(license)
}

/// How the record's column holds it.
pub(crate) fn stored_text(license: License) -> Option<&'static str> {
    match license {
        License::Active => Some("active"),
        License::Inactive => Some("inactive"),
        License::Unchecked => None,
    }
}

/// The record's column read back; anything else is "nothing said yet".
pub(crate) fn from_stored(text: &str) -> Option<License> {
    [License::Active, License::Inactive].into_iter().find(|l| stored_text(*l) == Some(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lic_active_is_the_only_active_value() {
        assert_eq!(said_by_lic(Some("active")), Some(true));
        assert_eq!(said_by_lic(Some("none")), Some(false));
        assert_eq!(said_by_lic(Some("expired")), Some(false));
        assert_eq!(said_by_lic(Some("")), Some(false));
        assert_eq!(said_by_lic(None), None);
    }

    #[test]
    fn judged_by_what_was_said_then_by_the_record() {
        use License::*;
        let cases = [
            // licensing, said, recorded → judged
            (false, Some(false), Some(Inactive), Unchecked),
            (false, None, None, Unchecked),
            (true, Some(true), Some(Inactive), Active),
            (true, Some(false), Some(Active), Inactive),
            (true, Some(false), None, Inactive),
            (true, None, Some(Inactive), Inactive),
            (true, None, Some(Active), Active),
            (true, None, None, Unchecked),
        ];
        for (licensing, said, recorded, judged) in cases {
            assert_eq!(judge(licensing, said, recorded), judged, "{licensing} {said:?} {recorded:?}");
        }
    }

    #[test]
    fn records_only_a_newer_change_and_only_with_licensing_on() {
        use License::*;
        let said = |active, at| Some(Said { active, at: UnixTime::from_secs(at) });
        let recorded = |license, at| Recorded { license: Some(license), at: Some(UnixTime::from_secs(at)) };
        assert_eq!(to_record(true, said(false, 20), recorded(Active, 10)), Some(Inactive));
        assert_eq!(to_record(true, said(true, 20), Recorded::default()), Some(Active));
        assert_eq!(to_record(true, said(true, 20), recorded(Active, 10)), None, "no change");
        assert_eq!(to_record(true, None, recorded(Active, 10)), None);
        assert_eq!(to_record(false, said(false, 20), recorded(Active, 10)), None);
        assert_eq!(to_record(true, said(true, 5), recorded(Inactive, 10)), None, "an older token said it");
        assert_eq!(stored_text(Unchecked), None);
        assert_eq!(from_stored("inactive"), Some(Inactive));
        assert_eq!(from_stored("active"), Some(Active));
        assert_eq!(from_stored("bought"), None);
    }
}
