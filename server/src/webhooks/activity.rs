//! The demo app's handler: every product event becomes a line of the
//! tenant's Activity view.

use super::handler::{HandlerContext, HandlerError, HandlerFuture, WebhookHandler};
use crate::{
    connect::webhook::summary,
    store::activity::{self, ActivityRow},
};

pub(crate) struct RecordActivity;

impl WebhookHandler for RecordActivity {
    fn handle<'a>(&'a self, cx: &'a HandlerContext<'a>) -> HandlerFuture<'a> {
        Box::pin(async move {
            let event = cx.event;
            let row = ActivityRow {
                event: event.event.clone(),
                delivery_id: event.delivery_id.clone(),
                entity_key: event.entity_key.clone(),
                summary: summary(&event.event, &event.payload),
                processed_at: event.handled_at,
            };
            activity::record(cx.db(), &event.tenant_id, &row).await.map_err(|e| HandlerError::new(e.to_string()))
        })
    }
}
