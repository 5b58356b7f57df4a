//! Small shared pieces for loading and error states.

use leptos::{either::Either, prelude::*};

use crate::api::error::ApiError;

#[component]
pub(crate) fn Loading(#[prop(into)] what: String) -> impl IntoView {
    view! { <p class="muted loading" role="status">{format!("Loading {what}…")}</p> }
}

/// An error the user can act on, with a retry button when `retry` is given.
/// The site's missing licence is not an error to retry: its notice instead.
#[component]
pub(crate) fn ErrorBox(error: ApiError, #[prop(optional)] retry: Option<Callback<()>>) -> impl IntoView {
    if error == ApiError::Unlicensed {
        return Either::Left(view! { <super::license::LicenseNotice/> });
    }
    Either::Right(view! {
        <div class="error-box" role="alert">
            <p class="error">{error.message()}</p>
            {retry.map(|retry| view! {
                <button class="button subtle retry" on:click=move |_| retry.run(())>"Try again"</button>
            })}
        </div>
    })
}

/// A moment as a short UTC date and time.
pub fn format_time(at: ids::UnixTime) -> String {
    let unix = at.secs();
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02} UTC", secs / 3600, (secs % 3600) / 60)
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

#[cfg(test)]
mod tests {
    use ids::UnixTime;

    #[test]
    fn formats_unix_time_as_utc() {
        let format = |secs| super::format_time(UnixTime::from_secs(secs));
        assert_eq!(format(0), "1970-01-01 00:00 UTC");
        assert_eq!(format(1_795_000_000), "2026-11-18 11:06 UTC");
        assert_eq!(format(951_782_400), "2000-02-29 00:00 UTC");
    }
}
