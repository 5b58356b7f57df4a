//! What happens only once the page has hydrated in the browser: effects never
//! run on the server, so both helpers here are inert during rendering.

use std::future::Future;

use leptos::{prelude::*, task::spawn_local};

/// One marker for "this page has hydrated": it turns true once hydration ran.
/// Pages put it on an element as `data-hydrated`, and the browser tests wait on it.
pub(crate) fn hydrated() -> Signal<bool> {
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    hydrated.into()
}

/// The answer of `load`, fetched in the browser after hydration (`None` until
/// it arrives), so a slow call never holds the page back. Used instead of a
/// `LocalResource`: on the server a never-ready local resource read in a
/// `<Suspense>` kept about 1.5 KB per rendered page alive for good.
pub(crate) fn after_hydration<T, Fut>(load: impl Fn() -> Fut + 'static) -> ReadSignal<Option<T>>
where
    T: Send + Sync + 'static,
    Fut: Future<Output = T> + 'static,
{
    let (value, set_value) = signal(None);
    Effect::new(move |_| {
        // Untracked: a signal `load` reads must not start a second fetch.
        let loading = untrack(&load);
        spawn_local(async move { set_value.set(Some(loading.await)) });
    });
    value
}
