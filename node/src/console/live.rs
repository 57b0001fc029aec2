//! The overview: `GET /console/api/overview` (one snapshot) and
//! `GET /console/api/overview/events` (server-sent events, one snapshot a
//! second). A snapshot is the leader and each member's lag, the carriers
//! (sessions up, TPS limit and actual, window) and the queue depth and the
//! oldest message's age per priority: point reads, one status call to the
//! leader and one stats call to this node's dispatcher, never a scan of
//! the state. The actual TPS and the ages come from the dispatcher of the
//! leader, so a follower's overview shows them as unknown (`null`).
//!
//! Streams are bounded ([`MAX_STREAMS`] per node): past it the answer is
//! 503 `overloaded`, so a room of open consoles cannot starve the API.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

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

/// The parts handed to each carrier at the last sample, and the rates
/// between the last two samples (shared by every stream of this node, so
/// many open consoles still measure over whole seconds).
struct Rates {
    at: Option<Instant>,
    handed: HashMap<String, u64>,
    tps: HashMap<String, f64>,
}

fn rates() -> &'static Mutex<Rates> {
    static R: OnceLock<Mutex<Rates>> = OnceLock::new();
    R.get_or_init(|| {
        Mutex::new(Rates {
            at: None,
            handed: HashMap::new(),
            tps: HashMap::new(),
        })
    })
}

/// Shortest span a rate is measured over.
const RATE_SPAN: Duration = Duration::from_millis(900);

/// Each carrier's parts per second from the dispatcher's running count.
fn carrier_tps(handed: &HashMap<String, u64>, now: Instant) -> HashMap<String, f64> {
    let mut r = rates().lock().unwrap_or_else(|p| p.into_inner());
    let since = r.at.map(|t| now.saturating_duration_since(t));
    match since {
        Some(d) if d < RATE_SPAN => {}
        Some(d) => {
            let secs = d.as_secs_f64();
            let tps = handed
                .iter()
                .map(|(c, n)| {
                    let before = r.handed.get(c).copied().unwrap_or(*n);
                    (c.clone(), n.saturating_sub(before) as f64 / secs)
                })
                .collect();
            r.tps = tps;
            r.at = Some(now);
            r.handed = handed.clone();
        }
        None => {
            r.at = Some(now);
            r.handed = handed.clone();
        }
    }
    r.tps.clone()
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
    let queued = view.ready_counts().map_err(ApiError::internal)?;
    // The dispatcher works on the leader only: elsewhere its figures are not the cluster's.
    let dispatch = match (&state.runtime, me.leader == Some(me.id)) {
        (Some(rt), true) => match rt.gw.read().await.as_ref() {
            Some(g) => g.dispatch_stats().await,
            None => None,
        },
        _ => None,
    };
    let tps = dispatch
        .as_ref()
        .map(|d| carrier_tps(&d.handed_by_carrier, Instant::now()));
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
                "protocol": format!("{:?}", c.protocol),
                "sessions": up,
                "connections": c.connections,
                "tps_limit": c.tps,
                "tps": tps.as_ref().map(|t| (t.get(&c.name).copied().unwrap_or(0.0) * 10.0).round() / 10.0),
                "window": c.window,
            }));
        }
    }
    let ages = dispatch.as_ref().map(|d| d.oldest_age_ms);
    Ok(json!({
        "node": me.id,
        "state": me.state,
        "term": me.term,
        "leader": me.leader,
        "nodes": nodes,
        "carriers": carriers,
        "queue": {"alarm": queued[0], "high": queued[1], "normal": queued[2], "bulk": queued[3]},
        // Per class: ms the oldest waiting message has waited (`null` inside:
        // none waiting; the whole field `null`: not known on this node).
        "oldest_ms": ages.map(|a| json!({"alarm": a[0], "high": a[1], "normal": a[2], "bulk": a[3]})),
        "in_flight": dispatch.as_ref().map(|d| d.in_flight),
        "dispatched": dispatch.as_ref().map(|d| d.messages_dispatched),
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
