//! `GET /v1/admin/sessions` (admin key): the application sessions (SMPP
//! binds, CMPP connections) of every member of the cluster, each with its
//! node, account, mode, peer and counts; members that did not answer are
//! listed in `unreachable`. Never shows a credential.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use super::book::respond;
use super::state::AppState;

pub async fn list(State(s): State<AppState>, h: HeaderMap) -> Response {
    respond(
        async {
            super::accounts::admin(&s, &h)?;
            let me = s.cluster.id();
            let with_node = |id: u64, list: Vec<Value>| {
                list.into_iter().map(move |mut v| {
                    v["node"] = id.into();
                    v
                })
            };
            let mut sessions: Vec<Value> = with_node(
                me,
                s.apps
                    .sessions(None)
                    .into_iter()
                    .filter_map(|x| serde_json::to_value(x).ok())
                    .collect(),
            )
            .collect();
            let mut unreachable = Vec::new();
            let status = s.cluster.status().await;
            for (id, info) in status.voters.into_iter().chain(status.learners) {
                if id == me {
                    continue;
                }
                let addr = if info.http_addr.is_empty() {
                    smsgw_state::local_view(&s.cluster)
                        .config(&crate::gateway::forward::http_key(id))
                        .ok()
                        .flatten()
                        .and_then(|a| String::from_utf8(a).ok())
                        .unwrap_or_default()
                } else {
                    info.http_addr
                };
                match crate::apps::delivery::remote_sessions(&s, &addr).await {
                    Ok(list) if !addr.is_empty() => sessions.extend(with_node(id, list)),
                    _ => unreachable.push(id),
                }
            }
            Ok(json!({ "node": me, "sessions": sessions, "unreachable": unreachable }))
        }
        .await,
        StatusCode::OK,
    )
}
