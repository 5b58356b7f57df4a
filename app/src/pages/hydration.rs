//! One marker for "this page has hydrated": effects run only in the browser,
//! so it turns true once hydration ran. Pages put it on an element as
//! `data-hydrated`, and the browser tests wait on it.

use leptos::prelude::*;

pub(crate) fn hydrated() -> Signal<bool> {
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    hydrated.into()
}
