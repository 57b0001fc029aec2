//! `GET /v1/callbacks/deliveries`: the caller's callback deliveries, its
//! own only: the replicated queue (pending, acknowledged, dropped), the
//! oldest pending events with their attempts and last error, and per URL
//! counts. Attempts are the leader's memory: a node that is not the leader
//! shows the queue and says so (`sender`). It must never show another
//! account's events, URLs or counts, nor the secret.

use std::collections::HashMap;

use axum::extract::{Query as UrlQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::error::ApiError;
use super::messages::authenticate;
use super::state::AppState;

/// Most pending events listed.
const MAX_LIMIT: usize = 500;

pub async fn deliveries(
    State(state): State<AppState>,
    headers: HeaderMap,
    UrlQuery(q): UrlQuery<HashMap<String, String>>,
) -> Response {
    match show(&state, &headers, &q).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn show(state: &AppState, headers: &HeaderMap, q: &HashMap<String, String>) -> Result<Value, ApiError> {
    let (_, account) = authenticate(state, headers)?;
    let limit = match q.get("limit") {
        None => 50,
        Some(s) => match s.parse::<usize>() {
            Ok(v) if (1..=MAX_LIMIT).contains(&v) => v,
            _ => {
                return Err(ApiError::InvalidParameter(format!(
                    "`limit` must be a number from 1 to {MAX_LIMIT}, got `{}`",
                    s.chars().take(30).collect::<String>()
                )))
            }
        },
    };
    let view = state.fresh_view().await?;
    let events = view.events();
    let queue = events.account(&account.name)?;
    let oldest = events.events(&account.name, queue.acked, limit)?;
    let leader = state.cluster.leads_with_lease();
    let live = state.callbacks.account(&account.name).unwrap_or_default();
    let pending: Vec<Value> = oldest
        .iter()
        .map(|e| {
            let id = crate::callbacks::event_id(&account.name, e.seq);
            match live.in_flight.get(&e.seq) {
                Some(s) => json!(s),
                None => json!({
                    "id": id,
                    "seq": e.seq,
                    "type": crate::callbacks::kind(e),
                    "attempts": 0,
                }),
            }
        })
        .collect();
    let configured = account
        .callbacks
        .as_ref()
        .map(|c| c.urls.clone())
        .unwrap_or_default();
    let urls: Vec<Value> = configured
        .iter()
        .map(|u| {
            let s = live.urls.get(u).cloned().unwrap_or_default();
            json!({
                "url": u,
                "attempts": s.attempts,
                "delivered": s.delivered,
                "failed": s.failed,
                "last_error": s.last_error,
                "last_attempt_at_ms": s.last_attempt_at_ms,
            })
        })
        .collect();
    Ok(json!({
        "account": account.name,
        "configured": account.callbacks.is_some(),
        "subscribed": queue.subscribed,
        "pending": queue.pending(),
        "last_seq": queue.last_seq,
        "acked": queue.acked,
        "dropped": queue.dropped,
        "sender": if leader { "this node" } else { "another node (the leader); attempts are shown there" },
        "delivered_by_this_leader": live.delivered,
        "urls": urls,
        "events": pending,
    }))
}
