//! Node-to-node endpoints under `/internal/`: a standby's forwarded reports
//! and MOs, handed to this node's gateway. Not part of the public API (not
//! in the OpenAPI document); bind HTTP to a private network.
//!
//! It never touches the replicated state itself: the gateway's reconciler
//! and inbound actor do.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::state::AppState;
use crate::gateway::forward::Wire;

pub async fn deliver(State(state): State<AppState>, body: Bytes) -> Response {
    let items: Vec<Wire> = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return ApiError::InvalidJson(e.to_string()).into_response(),
    };
    let Some(rt) = &state.runtime else {
        return ApiError::Internal("no gateway on this node".into()).into_response();
    };
    let slot = rt.gw.read().await;
    let Some(gw) = slot.as_ref() else {
        return ApiError::Internal("gateway not started yet".into()).into_response();
    };
    let n = items.len();
    for w in items {
        gw.deliver(w.into());
    }
    metrics::counter!("smsgw_forward_received_total").increment(n as u64);
    StatusCode::NO_CONTENT.into_response()
}
