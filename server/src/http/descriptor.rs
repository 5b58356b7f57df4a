//! `GET /atlassian-connect.json`: the descriptor bytes rendered at start.

use axum::{
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};

use crate::state::AppState;

pub(crate) async fn descriptor(State(state): State<AppState>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], state.descriptor.bytes().to_vec()).into_response()
}
