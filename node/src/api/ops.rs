//! Operations endpoints: `/healthz` (the process answers), `/readyz` (member
//! of a cluster with a leader, a cluster document, and every registered
//! [`super::ReadyCheck`] passing — carrier sessions register theirs when the
//! actors are wired in), `/metrics` (Prometheus text), `/openapi.json`.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::error::ApiError;
use super::state::AppState;

/// The OpenAPI document, written by hand next to this file.
pub const OPENAPI: &str = include_str!("openapi.json");

pub async fn healthz() -> Response {
    Json(json!({"status": "ok"})).into_response()
}

pub async fn readyz(State(state): State<AppState>) -> Response {
    let st = state.cluster.status().await;
    let mut problems = Vec::new();
    if !st.initialized {
        problems.push("not part of an initialised cluster".to_string());
    }
    if st.leader.is_none() {
        problems.push("no leader known".to_string());
    }
    if state.config().is_err() {
        problems.push("no cluster document applied".to_string());
    }
    let mut checks = serde_json::Map::new();
    for c in state.ready_checks.iter() {
        let r = c.check();
        checks.insert(
            c.name().to_string(),
            json!(r.as_ref().err().map(String::as_str).unwrap_or("ok")),
        );
        if let Err(e) = r {
            problems.push(format!("{}: {e}", c.name()));
        }
    }
    let body = json!({
        "ready": problems.is_empty(),
        "node": st.id,
        "state": st.state,
        "leader": st.leader,
        "problems": problems,
        "checks": checks,
    });
    let code = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body)).into_response()
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    match &state.metrics {
        Some(h) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], h.render()).into_response(),
        None => ApiError::Internal("no metrics recorder installed in this process".into()).into_response(),
    }
}

pub async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

pub async fn not_found() -> Response {
    ApiError::NoSuchEndpoint.into_response()
}
