//! Product events from the host (webhooks): verified by `http::proof`,
//! persisted by `http::webhook_receiver` before the 2xx, then processed here
//! by any instance, exactly once per delivery id. A vendor plugs handlers in
//! through [`Webhooks`]; the demo app's own handler records the Activity view.

mod activity;
mod context;
mod handler;
pub(crate) mod worker;

pub(crate) use activity::RecordActivity;
pub use context::HandlerContext;
pub use handler::{HandlerError, HandlerFuture, WebhookEvent, WebhookHandler, Webhooks};
