//! `Operator`: the console's cookie session (tower-sessions), within its
//! absolute lifetime and made with the credential configured now. Without
//! a configured operator the console does not exist (404).

use axum::extract::Request;
use tower_sessions::Session;

use super::{Proof, ProofKind};
use crate::{
    console::{self, Operator},
    error::{Error, Result},
    state::AppState,
};

impl Proof for Operator {
    const KIND: ProofKind = ProofKind::Operator;
    async fn verify(state: &AppState, request: &mut Request) -> Result<Self> {
        if state.config.operator.credential.is_none() {
            tracing::info!("operator console requested but no OPERATOR_USER is configured");
            return Err(Error::NotFound);
        }
        let session = request
            .extensions()
            .get::<Session>()
            .cloned()
            .ok_or_else(|| Error::Internal("console route without its session layer".into()))?;
        console::logged_in_operator(&session, state).await
    }
}
