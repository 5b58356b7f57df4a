//! Your app: the pages and server functions you add. This folder is yours;
//! the house (everything else under `app/` and `server/`) reads only the two
//! lists below, so adding a page or a server function changes nothing
//! outside it. The route table declares each entry with the proof given
//! here, and startup stops if one of your server functions is missing from
//! [`SERVER_FUNCTIONS`] (docs/vendor.md).

mod hello;

use leptos::prelude::*;

/// A page of yours: a tab of the general page, at a path under `/app/`,
/// opened with the host's page token like the house's tabs. Its view is
/// [`page`]'s arm of the same place in [`PAGES`].
pub struct VendorPage {
    pub path: &'static str,
    /// The tab's label.
    pub label: &'static str,
}

/// Who may call a server function of yours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proof {
    /// A verified user of a tenant: the app's session token, a context JWT
    /// or a Forge page's FIT. The function's [`ServerCx`](crate::api::backend::ServerCx) names them.
    Caller,
    /// Anyone; only for paths under `/api/public/`, which must reveal nothing.
    Public,
}

/// Every page of yours.
pub const PAGES: &[VendorPage] = &[VendorPage { path: "/app/hello", label: "Hello" }];

/// The view of `PAGES[index]`. One arm per page; with several, wrap the arms
/// in `leptos::either::EitherOf…` (an `AnyView` would cost the bundle its
/// type-erased hydration code, some 7 KB brotli).
pub fn page(index: usize) -> impl IntoView {
    (index == 0).then(|| view! { <hello::Hello/> })
}

/// Every server function of yours, with the proof it accepts.
pub const SERVER_FUNCTIONS: &[(&str, Proof)] = &[(hello::GREETING, Proof::Caller)];
