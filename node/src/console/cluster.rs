//! The cluster page's endpoints (admins only):
//! `GET /console/api/cluster/document` (the document in force as TOML,
//! carrier passwords and callback secrets masked), `POST
//! /console/api/cluster/document` (a new document as TOML text: validated
//! with the config crate's errors, which name key and line, then proposed),
//! `POST /console/api/cluster/transfer` (`{"to": NODE}`, a planned
//! switchover through the node's own admin port).
//!
//! It must never send a secret to the browser: a masked carrier password
//! in a new document keeps the password of the carrier of that name in
//! force (and is refused for a new carrier).

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use smsgw_config::{ClusterDoc, CLUSTER_DOC_KEY, REDACTED};
use smsgw_raft::{admin_call, AdminRequest, AdminResponse};
use smsgw_state::{Command, Response as Committed};

use super::error::ConsoleError;
use super::users::require_admin;
use crate::api::{ApiError, AppState};

/// `GET /console/api/cluster/document`.
pub async fn document(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(e) = require_admin(&state, &headers) {
        return e.into_response();
    }
    match state.config() {
        Ok(l) => (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            l.doc.redacted().to_toml(),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

/// The new document from `text`, with masked carrier passwords taken from `current`.
pub fn prepare(text: &str, current: Option<&ClusterDoc>) -> Result<ClusterDoc, ConsoleError> {
    let mut doc = ClusterDoc::from_toml_str(text, "document").map_err(|e| ConsoleError::InvalidDocument {
        line: e.line,
        message: e.to_string(),
    })?;
    for c in &mut doc.carriers {
        if c.password != REDACTED {
            continue;
        }
        match current.and_then(|d| d.carriers.iter().find(|k| k.name == c.name)) {
            Some(k) => c.password = k.password.clone(),
            None => {
                let line = text
                    .lines()
                    .position(|l| l.contains(REDACTED))
                    .map_or(0, |i| i + 1);
                return Err(ConsoleError::InvalidDocument {
                    line,
                    message: format!(
                        "document:{line}: carrier `{}` is new: give its password, not the masked form",
                        c.name
                    ),
                });
            }
        }
    }
    Ok(doc)
}

/// `POST /console/api/cluster/document`.
pub async fn apply(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(e) = require_admin(&state, &headers) {
        return e.into_response();
    }
    let Ok(text) = std::str::from_utf8(&body) else {
        return ConsoleError::InvalidDocument {
            line: 0,
            message: "the document is not UTF-8 text".into(),
        }
        .into_response();
    };
    let current = state.config().ok();
    let doc = match prepare(text, current.as_ref().map(|l| &l.doc)) {
        Ok(d) => d,
        Err(e) => return e.into_response(),
    };
    let cmd = Command::PutConfig {
        key: CLUSTER_DOC_KEY.into(),
        value: doc.to_json(),
    };
    match smsgw_state::propose(&state.cluster, &cmd).await {
        Ok(Committed::ConfigStored { version, .. }) => {
            Json(json!({"applied": true, "version": version})).into_response()
        }
        Ok(other) => ApiError::internal(format!("unexpected answer {other:?}")).into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TransferBody {
    to: u64,
}

/// `POST /console/api/cluster/transfer`.
pub async fn transfer(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(e) = require_admin(&state, &headers) {
        return e.into_response();
    }
    let b: TransferBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => return ApiError::InvalidJson(e.to_string()).into_response(),
    };
    let addr = state.cluster.raft_addr().to_string();
    let req = AdminRequest::TransferLeader { to: b.to };
    match admin_call(&state.cluster.secret(), &addr, req, Duration::from_secs(30)).await {
        Ok(AdminResponse::Done(line)) => (StatusCode::OK, Json(json!({"done": line}))).into_response(),
        Ok(other) => ApiError::internal(format!("unexpected answer {other:?}")).into_response(),
        Err(e) => ApiError::Invalid {
            code: "transfer_failed",
            message: e.to_string(),
        }
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_document_names_its_line() {
        let text = "[[carriers]]\nname = \"cm\"\nprotocol = \"nope\"\n";
        match prepare(text, None) {
            Err(ConsoleError::InvalidDocument { line, message }) => {
                assert!(line > 0, "{message}");
                assert!(message.contains(&format!(":{line}:")), "{message}");
            }
            other => panic!("not refused: {other:?}"),
        }
    }
}
