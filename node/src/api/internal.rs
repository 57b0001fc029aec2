//! Node-to-node endpoints under `/internal/`: a standby's forwarded reports
//! and MOs, handed to this node's gateway. Not part of the public API (not
//! in the OpenAPI document); bind HTTP to a private network.
//!
//! It never touches the replicated state itself: the gateway's reconciler
//! and inbound actor do. It answers only once they committed the batch (or
//! after [`COMMIT_WAIT`]), with one flag per item ([`Committed`]); the
//! standby acknowledges to the carrier only the committed items.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use smsgw_actors::link::Ack;
use tokio::sync::oneshot;

use super::error::ApiError;
use super::state::AppState;
use crate::gateway::forward::{Committed, Wire, COMMIT_WAIT};

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
    let mut waits = Vec::with_capacity(n);
    for w in items {
        let (tx, rx) = oneshot::channel::<()>();
        gw.deliver(
            w.into(),
            Ack::new(move || {
                let _ = tx.send(());
            }),
        );
        waits.push(rx);
    }
    // The gateway is not needed while waiting; a rebuild may take it.
    drop(slot);
    metrics::counter!("smsgw_forward_received_total").increment(n as u64);
    let deadline = tokio::time::Instant::now() + COMMIT_WAIT;
    let mut committed = Vec::with_capacity(n);
    for rx in waits {
        committed.push(matches!(tokio::time::timeout_at(deadline, rx).await, Ok(Ok(()))));
    }
    (StatusCode::OK, Json(Committed { committed })).into_response()
}
