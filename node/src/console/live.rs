//! The overview: `GET /console/api/overview` (one snapshot) and
//! `GET /console/api/overview/events` (server-sent events, one snapshot a
//! second). A snapshot is the leader and each member's lag, the carriers
//! (sessions up, TPS limit and actual, window) and the queue depth and the
//! oldest message's age per priority: point reads, one status call to the
//! leader and the leader dispatcher's figures ([`super::figures`]), never a
//! scan of the state.
//!
//! Streams are bounded ([`MAX_STREAMS`] per node): past it the answer is
//! 503 `overloaded`, so a room of open consoles cannot starve the API.

use std::convert::Infallible;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use smsgw_raft::{admin_call, AdminRequest, AdminResponse, NodeStatus};
use tokio::sync::Semaphore;

use crate::api::{ApiError, AppState};

/// Most overview streams open at once on a node.
pub const MAX_STREAMS: usize = 64;
/// How often a stream sends a snapshot.
pub const PERIOD: Duration = Duration::from_secs(1);

fn streams() -> Arc<Semaphore> {
    static S: OnceLock<Arc<Semaphore>> = OnceLock::new();
    S.get_or_init(|| Arc::new(Semaphore::new(MAX_STREAMS))).clone()
}

async fn leader_status(state: &AppState, me: &NodeStatus) -> Option<NodeStatus> {
    let leader = me.leader?;
    if leader == me.id {
        return Some(me.clone());
    }
    let addr = me
        .voters
        .iter()
        .chain(&me.learners)
        .find(|(id, _)| *id == leader)
        .map(|(_, n)| n.raft_addr.clone())?;
    match admin_call(
        &state.cluster.secret(),
        &addr,
        AdminRequest::Status,
        Duration::from_millis(500),
    )
    .await
    {
        Ok(AdminResponse::Status(s)) => Some(*s),
        _ => None,
    }
}

/// One snapshot of what the overview shows.
pub async fn snapshot(state: &AppState) -> Result<Value, ApiError> {
    let me = state.cluster.status().await;
    let leader = leader_status(state, &me).await;
    let last = leader.as_ref().and_then(|l| l.last_log_index);
    let matched = |id| {
        leader
            .as_ref()
            .and_then(|l| l.replication.iter().find(|(n, _)| *n == id).and_then(|(_, m)| *m))
    };
    let nodes: Vec<Value> = me
        .voters
        .iter()
        .map(|m| (m, "voter"))
        .chain(me.learners.iter().map(|m| (m, "learner")))
        .map(|((id, info), kind)| {
            let lag = match (last, matched(*id)) {
                (Some(l), Some(m)) => Some(l.saturating_sub(m)),
                _ if Some(*id) == me.leader => Some(0),
                _ => None,
            };
            json!({
                "id": id,
                "kind": kind,
                "raft": info.raft_addr,
                "http": info.http_addr,
                "leader": Some(*id) == me.leader,
                "lag": lag,
            })
        })
        .collect();
    let view = smsgw_state::local_view(&state.cluster);
    let queued = view.ready_counts()?;
    // The dispatcher works on the leader only: its figures, asked there.
    let figures = super::figures::of_leader(state).await;
    let mut carriers = Vec::new();
    if let Ok(loaded) = state.config() {
        let gw = match &state.runtime {
            Some(rt) => Some(rt.gw.read().await),
            None => None,
        };
        for c in &loaded.doc.carriers {
            let up = match gw.as_deref().and_then(|g| g.as_ref()) {
                Some(g) => g.sessions(&c.name).await.iter().filter(|s| s.is_some()).count(),
                None => 0,
            };
            carriers.push(json!({
                "name": c.name,
                "protocol": c.protocol.name(),
                "sessions": up,
                "connections": c.connections,
                "tps_limit": c.tps,
                "tps": figures.as_ref().map(|f| f.tps.get(&c.name).copied().unwrap_or(0.0)),
                "window": c.window,
            }));
        }
    }
    let ages = figures.as_ref().map(|f| f.oldest_ms);
    Ok(json!({
        "node": me.id,
        "state": me.state,
        "term": me.term,
        "leader": me.leader,
        "nodes": nodes,
        "carriers": carriers,
        "queue": {"alarm": queued[0], "high": queued[1], "normal": queued[2], "bulk": queued[3]},
        // Per class: ms the oldest waiting message has waited (`null` inside:
        // none waiting; the whole field `null`: the leader did not answer).
        "oldest_ms": ages.map(|a| json!({"alarm": a[0], "high": a[1], "normal": a[2], "bulk": a[3]})),
        "in_flight": figures.as_ref().map(|f| f.in_flight),
        "dispatched": figures.as_ref().map(|f| f.dispatched),
        "at": crate::service::zone::show(crate::api::now_ms()),
    }))
}

fn signed_in(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    match super::session::principal(state, headers)? {
        Some(_) => Ok(()),
        None => crate::api::authenticate(state, headers).map(|_| ()),
    }
}

/// `GET /console/api/overview`.
pub async fn overview(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(e) = signed_in(&state, &headers) {
        return e.into_response();
    }
    match snapshot(&state).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

/// `GET /console/api/overview/events`: `event: overview` every second.
pub async fn events(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(e) = signed_in(&state, &headers) {
        return e.into_response();
    }
    let Ok(permit) = streams().try_acquire_owned() else {
        return ApiError::Overloaded.into_response();
    };
    let stream = futures::stream::unfold((state, permit, true), |(state, permit, first)| async move {
        if !first {
            tokio::time::sleep(PERIOD).await;
        }
        let data = match snapshot(&state).await {
            Ok(v) => v.to_string(),
            Err(e) => json!({"error": e.message()}).to_string(),
        };
        let ev: Result<Event, Infallible> = Ok(Event::default().event("overview").data(data));
        Some((ev, (state, permit, false)))
    });
    Sse::new(stream).keep_alive(KeepAlive::default()).into_response()
}
