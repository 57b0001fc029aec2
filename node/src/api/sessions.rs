//! `GET /v1/admin/sessions` (admin key): the application sessions (SMPP
//! binds, CMPP connections) of the node asked, with their account, mode,
//! peer and counts. Never shows a credential.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

use super::book::respond;
use super::state::AppState;

pub async fn list(State(s): State<AppState>, h: HeaderMap) -> Response {
    respond(
        async {
            super::accounts::admin(&s, &h)?;
            Ok(json!({
                "node": s.cluster.id(),
                "sessions": s.apps.sessions(None),
            }))
        }
        .await,
        StatusCode::OK,
    )
}
