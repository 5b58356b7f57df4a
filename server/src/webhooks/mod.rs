//! Product events from the host (webhooks): verified by `http::proof`,
//! persisted by `http::webhook_receiver` before the 2xx, then processed here
//! by any instance, exactly once per delivery id. A vendor plugs handlers in
//! through [`Webhooks`]; the demo app's own handler records the Activity view.

mod activity; // demo
mod handler;
pub(crate) mod worker;

pub(crate) use activity::RecordActivity; // demo
pub(crate) use handler::HandlerTools;
pub use handler::{HandlerContext, HandlerError, HandlerFuture, WebhookEvent, WebhookHandler, Webhooks};
