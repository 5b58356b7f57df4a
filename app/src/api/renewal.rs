//! Session renewal in the browser (compiled with `hydrate` only): read the
//! token the server rendered into `<meta name="token">`, and exchange a
//! context JWT from Atlassian's `AP.context.getToken()` for a new session
//! token shortly before the current one ends, or after a refusal. Times are
//! counted on the browser's own clock from the lifetime the server gave, so a
//! skewed clock cannot make every token look expired. One renewal runs at a
//! time and one timer is pending at most.

use std::cell::RefCell;

use futures::{
    FutureExt,
    future::{LocalBoxFuture, Shared},
};
use wasm_bindgen::{JsCast, closure::Closure};

use super::{ap_bridge, error::ApiError, session::renew_session, token_store};

/// Renew this long before expiry (or at 3/4 of a short lifetime).
const MARGIN_SECS: f64 = 60.0;
/// Never renew more often than this, whatever happens.
const MIN_INTERVAL_SECS: f64 = 5.0;
#[derive(Default)]
struct Schedule {
    /// Local time (seconds) when the session ends, and its full lifetime.
    deadline: f64,
    lifetime: f64,
    last_renewal: f64,
    timer: Option<i32>,
    in_flight: Option<Shared<LocalBoxFuture<'static, Result<(), ApiError>>>>,
}

thread_local! {
    static SCHEDULE: RefCell<Schedule> = RefCell::new(Schedule::default());
}

/// Takes the session token from the page into memory, once, at start.
/// False when the page has none (it is not an iframe page).
pub fn adopt_page_token() -> bool {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return false };
    let meta = |name: &str| {
        document
            .query_selector(&format!("meta[name=\"{name}\"]"))
            .ok()
            .flatten()
            .and_then(|el| el.get_attribute("content"))
    };
    let (Some(token), Some(expires_in)) = (meta("token"), meta("token-expires-in")) else { return false };
    adopt(token, expires_in.parse().unwrap_or(0));
    true
}

fn now() -> f64 {
    js_sys::Date::now() / 1000.0
}

fn adopt(token: String, expires_in: i64) {
    token_store::set_session(token);
    SCHEDULE.with(|s| {
        let mut s = s.borrow_mut();
        s.lifetime = expires_in.max(1) as f64;
        s.deadline = now() + s.lifetime;
    });
    schedule();
}

fn margin(lifetime: f64) -> f64 {
    MARGIN_SECS.min(lifetime / 4.0).max(1.0)
}

/// True when the session ends within the renewal margin.
pub(crate) fn expires_soon() -> bool {
    SCHEDULE.with(|s| {
        let s = s.borrow();
        s.deadline > 0.0 && now() + margin(s.lifetime) >= s.deadline
    })
}

/// Exchanges a fresh context JWT for a new session token. Concurrent callers
/// share one exchange.
pub(crate) async fn renew() -> Result<(), ApiError> {
    let shared = SCHEDULE.with(|s| {
        let mut s = s.borrow_mut();
        s.in_flight.get_or_insert_with(|| renew_once().boxed_local().shared()).clone()
    });
    let result = shared.clone().await;
    SCHEDULE.with(|s| {
        let mut s = s.borrow_mut();
        if s.in_flight.as_ref().is_some_and(|f| f.ptr_eq(&shared)) {
            s.in_flight = None;
        }
    });
    result
}

async fn renew_once() -> Result<(), ApiError> {
    let too_soon = SCHEDULE.with(|s| now() - s.borrow().last_renewal < MIN_INTERVAL_SECS);
    if too_soon {
        return Err(ApiError::Unauthorized);
    }
    SCHEDULE.with(|s| s.borrow_mut().last_renewal = now());
    let context_token = ap_bridge::context_token().await.ok_or(ApiError::Unauthorized)?;
    let grant = token_store::exchanging(context_token, renew_session()).await?;
    adopt(grant.token, grant.expires_in);
    Ok(())
}

/// One timer, set to fire shortly before the session ends.
fn schedule() {
    let Some(window) = web_sys::window() else { return };
    let wait_ms = SCHEDULE.with(|s| {
        let s = s.borrow();
        ((s.deadline - margin(s.lifetime) - now()).max(MIN_INTERVAL_SECS) * 1000.0) as i32
    });
    let fire = Closure::once_into_js(|| {
        leptos::task::spawn_local(async {
            SCHEDULE.with(|s| s.borrow_mut().timer = None);
            let _ = renew().await;
        })
    });
    let Ok(id) = window.set_timeout_with_callback_and_timeout_and_arguments_0(fire.unchecked_ref(), wait_ms) else {
        return;
    };
    let previous = SCHEDULE.with(|s| s.borrow_mut().timer.replace(id));
    if let Some(previous) = previous {
        window.clear_timeout_with_handle(previous);
    }
}
