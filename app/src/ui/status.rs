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
    let (y, m, d, hour, min, _) = at.utc();
    format!("{y:04}-{m:02}-{d:02} {hour:02}:{min:02} UTC")
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
