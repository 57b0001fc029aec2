//! The overview's live figures that only the leader's dispatcher knows:
//! each carrier's actual TPS (parts handed to its sessions per second) and
//! how long the oldest waiting message of each priority class has waited,
//! with the parts in flight. On the leader they come from one stats call to
//! the dispatcher actor; a follower asks the leader over the signed
//! internal HTTP path ([`PATH`]), at most once per [`SPAN`] for all of its
//! streams together.
//!
//! It must never read the replicated state for these (no scan), never
//! wait on the leader longer than [`ASK_TIMEOUT`] (the overview then shows
//! the figures as unknown), and never answer the internal path without the
//! cluster signature (checked by `api::internal` before it gets here).

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::{Deserialize, Serialize};

use crate::api::internal::signed_post;
use crate::api::{ApiError, AppState};

/// The internal path a follower asks the leader's figures on.
pub const PATH: &str = "/internal/v1/console/figures";
/// Shortest span a rate is measured over, and how long a follower keeps
/// the leader's answer.
pub const SPAN: Duration = Duration::from_millis(900);
/// Longest wait for the leader's answer.
pub const ASK_TIMEOUT: Duration = Duration::from_millis(500);

/// What the leader's dispatcher says.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Figures {
    /// Carrier name → parts per second (one decimal).
    pub tps: HashMap<String, f64>,
    /// Per class (alarm, high, normal, bulk): ms the oldest waiting message
    /// has waited, `None` when the class is empty.
    pub oldest_ms: [Option<u64>; 4],
    /// Parts handed to sessions and not yet answered.
    pub in_flight: usize,
    /// Messages dispatched since the leader's gateway started.
    pub dispatched: u64,
}

/// The parts handed to each carrier at the last sample, and the rates
/// between the last two samples (shared by every stream of this node, so
/// many open consoles still measure over whole spans).
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

/// Each carrier's parts per second from the dispatcher's running count.
fn carrier_tps(handed: &HashMap<String, u64>, now: Instant) -> HashMap<String, f64> {
    let mut r = rates().lock().unwrap_or_else(|p| p.into_inner());
    match r.at.map(|t| now.saturating_duration_since(t)) {
        Some(d) if d < SPAN => {}
        Some(d) => {
            let secs = d.as_secs_f64();
            let tps = handed
                .iter()
                .map(|(c, n)| {
                    let before = r.handed.get(c).copied().unwrap_or(*n);
                    let rate = n.saturating_sub(before) as f64 / secs;
                    (c.clone(), (rate * 10.0).round() / 10.0)
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

/// The figures of this node's dispatcher, if this node leads and runs a gateway.
pub async fn here(state: &AppState) -> Option<Figures> {
    let me = state.cluster.id();
    if state.cluster.leader().map(|(id, _)| id) != Some(me) {
        return None;
    }
    let rt = state.runtime.as_ref()?;
    let stats = rt.gw.read().await.as_ref()?.dispatch_stats().await?;
    Some(Figures {
        tps: carrier_tps(&stats.handed_by_carrier, Instant::now()),
        oldest_ms: stats.oldest_age_ms,
        in_flight: stats.in_flight,
        dispatched: stats.messages_dispatched,
    })
}

type HttpClient = crate::api::internal::NodeClient;

fn client() -> &'static HttpClient {
    static C: OnceLock<HttpClient> = OnceLock::new();
    C.get_or_init(|| Client::builder(TokioExecutor::new()).build_http())
}

/// The last answer a follower got from the leader, and when.
type Asked = Mutex<Option<(Instant, Option<Figures>)>>;

fn asked() -> &'static Asked {
    static A: OnceLock<Asked> = OnceLock::new();
    A.get_or_init(|| Mutex::new(None))
}

async fn ask_leader(state: &AppState) -> Result<Figures, String> {
    let addr = crate::gateway::forward::leader_http(&state.cluster).ok_or("no leader known")?;
    let b = signed_post(
        state.cluster.secret(),
        client(),
        &addr,
        PATH,
        b"{}".to_vec(),
        ASK_TIMEOUT,
    )
    .await?;
    serde_json::from_slice(&b).map_err(|e| e.to_string())
}

/// The leader's figures: from this node's dispatcher when it leads, else
/// asked of the leader (the answer kept for [`SPAN`]); `None` when unknown.
pub async fn of_leader(state: &AppState) -> Option<Figures> {
    if let Some(f) = here(state).await {
        return Some(f);
    }
    if let Some((at, f)) = asked().lock().unwrap_or_else(|p| p.into_inner()).clone() {
        if at.elapsed() < SPAN {
            return f;
        }
    }
    let f = match ask_leader(state).await {
        Ok(f) => Some(f),
        Err(e) => {
            smsgw_actors::warn_limited!("console-figures", "overview figures from the leader: {e}");
            None
        }
    };
    *asked().lock().unwrap_or_else(|p| p.into_inner()) = Some((Instant::now(), f.clone()));
    f
}

/// `POST` [`PATH`] (signature already checked): this node's figures, or
/// 503 when it does not lead.
pub async fn internal(state: &AppState) -> Response {
    match here(state).await {
        Some(f) => (StatusCode::OK, Json(f)).into_response(),
        None => ApiError::NoQuorum("this node does not lead: ask the leader".into()).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_is_measured_over_a_whole_span() {
        let t0 = Instant::now();
        let mut n = HashMap::from([("cm".to_string(), 100u64)]);
        assert!(carrier_tps(&n, t0).get("cm").is_none_or(|r| *r >= 0.0));
        n.insert("cm".into(), 150);
        // Within the span: the previous rate still stands.
        let before = carrier_tps(&n, t0 + Duration::from_millis(100));
        n.insert("cm".into(), 200);
        let r = carrier_tps(&n, t0 + Duration::from_secs(2));
        assert_eq!(r.get("cm"), Some(&50.0), "{before:?} then {r:?}");
    }
}
