//! Node-to-node endpoints under `/internal/`: a standby's forwarded reports
//! and MOs, handed to this node's gateway (and the leader's dispatcher
//! figures for a follower's console overview). Not part of the public API (not
//! in the OpenAPI document).
//!
//! Every request must carry `x-smsgw-cluster-auth: t=MS,sig=HEX`, an
//! HMAC-SHA256 of the cluster secret over the method, path, time and body
//! ([`sign`]); a request without it, with a wrong one, one older or newer
//! than [`MAX_SKEW`] or one already seen (replay) gets the same 404 as a
//! path that does not exist, and is counted in
//! `smsgw_auth_failures_total{port="http"}`. Why not move forwarding to the
//! raft port: that would add SMS types to the raft crate's frames, which
//! must stay SMS-agnostic and unchanged; signing needs no new listener.
//!
//! It never touches the replicated state itself: the gateway's reconciler
//! and inbound actor do. It answers only once they committed the batch (or
//! after [`COMMIT_WAIT`]), with one flag per item ([`Committed`]); the
//! standby acknowledges to the carrier only the committed items.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use smsgw_actors::link::Ack;
use tokio::sync::oneshot;

use super::error::ApiError;
use super::state::AppState;
use crate::gateway::forward::{Committed, Wire, COMMIT_WAIT};
use smsgw_raft::ClusterSecret;

/// The header carrying the signature.
pub const AUTH_HEADER: &str = "x-smsgw-cluster-auth";
/// The path of the forwarding endpoint.
pub const DELIVER_PATH: &str = "/internal/v1/deliver";
/// How far a signed request's time may be from ours.
pub const MAX_SKEW_MS: u64 = 30_000;
const LABEL: &[u8] = b"smsgw internal http v1";

/// The header value for a request `method path` with `body` at `now_ms`.
/// Takes the secret by value or by reference: callers pass the one the
/// cluster dials with at that moment (it changes on a rotation).
pub fn sign(
    secret: impl std::borrow::Borrow<ClusterSecret>,
    method: &str,
    path: &str,
    now_ms: u64,
    body: &[u8],
) -> String {
    let secret = secret.borrow();
    let t = now_ms.to_string();
    let tag = secret.mac(LABEL, &[method.as_bytes(), path.as_bytes(), t.as_bytes(), body]);
    format!("t={t},sig={}", hex::encode(tag))
}

/// The HTTP client the nodes call each other's internal paths with.
pub type NodeClient = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    http_body_util::Full<Bytes>,
>;

/// A POST of `body` to the internal `path` of the node at `addr`, signed
/// with the cluster secret (`cluster.secret()`); the answer's body when it
/// is a success, else why not, within `timeout`.
pub async fn signed_post(
    secret: ClusterSecret,
    client: &NodeClient,
    addr: &str,
    path: &str,
    body: Vec<u8>,
    timeout: std::time::Duration,
) -> Result<Vec<u8>, String> {
    use http_body_util::BodyExt;
    let auth = sign(secret, "POST", path, crate::api::now_ms(), &body);
    let req = hyper::Request::post(format!("http://{addr}{path}"))
        .header("content-type", "application/json")
        .header(AUTH_HEADER, auth)
        .body(http_body_util::Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    let call = async {
        let r = client.request(req).await.map_err(|e| e.to_string())?;
        let status = r.status();
        let b = r
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        if !status.is_success() {
            return Err(format!("{addr} answered {status}"));
        }
        Ok(b.to_vec())
    };
    tokio::time::timeout(timeout, call)
        .await
        .map_err(|_| format!("{addr} did not answer within {timeout:?}"))?
}

/// Why a signed request was refused (logged, never answered). During a
/// rotation a signature made with any accepted secret is good.
fn check(
    accepted: &smsgw_raft::SecretSet,
    headers: &HeaderMap,
    method: &str,
    path: &str,
    body: &[u8],
    now_ms: u64,
) -> Result<(), &'static str> {
    let value = headers
        .get(AUTH_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or("no cluster signature")?;
    let (t, sig) = value
        .strip_prefix("t=")
        .and_then(|v| v.split_once(",sig="))
        .ok_or("malformed cluster signature")?;
    let ts: u64 = t.parse().map_err(|_| "malformed cluster signature")?;
    let tag = hex::decode(sig).map_err(|_| "malformed cluster signature")?;
    let signed = [method.as_bytes(), path.as_bytes(), t.as_bytes(), body];
    if !accepted.accepted().any(|s| s.verify_mac(LABEL, &signed, &tag)) {
        return Err("wrong cluster signature");
    }
    if ts.abs_diff(now_ms) > MAX_SKEW_MS {
        return Err("cluster signature too old or from the future");
    }
    if !seen_first(&tag, ts, now_ms) {
        return Err("cluster signature replayed");
    }
    Ok(())
}

/// Signatures seen, and the order they expire in.
type Seen = (HashSet<Vec<u8>>, VecDeque<(u64, Vec<u8>)>);

/// Remembers the valid signatures of the last [`MAX_SKEW_MS`] x 2 (a
/// signature can be valid only that long); `false` for one seen before.
fn seen_first(tag: &[u8], ts: u64, now_ms: u64) -> bool {
    static SEEN: Mutex<Option<Seen>> = Mutex::new(None);
    let mut guard = SEEN.lock().unwrap_or_else(|p| p.into_inner());
    let (set, order) = guard.get_or_insert_with(Default::default);
    while order
        .front()
        .is_some_and(|(t, _)| t.saturating_add(2 * MAX_SKEW_MS) < now_ms)
    {
        if let Some((_, old)) = order.pop_front() {
            set.remove(&old);
        }
    }
    if !set.insert(tag.to_vec()) {
        return false;
    }
    order.push_back((ts.max(now_ms), tag.to_vec()));
    true
}

/// Every method on every `/internal/` path: checks the signature first,
/// so an outsider cannot tell an internal path from a missing one.
pub async fn internal(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    method: Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    let now = super::state::now_ms();
    if let Err(why) = check(
        &state.cluster.keyring().current(),
        &headers,
        method.as_str(),
        path,
        &body,
        now,
    ) {
        smsgw_raft::network::auth::record_failure("http", &peer, &format!("{method} {path}: {why}"));
        return ApiError::NoSuchEndpoint.into_response();
    }
    if method == Method::POST && path == crate::console::figures::PATH {
        return crate::console::figures::internal(&state).await;
    }
    if method == Method::POST && path.starts_with("/internal/v1/apps/") {
        return crate::apps::delivery::internal(&state, path, &body).await;
    }
    if method != Method::POST || path != DELIVER_PATH {
        return ApiError::NoSuchEndpoint.into_response();
    }
    deliver(state, body).await
}

async fn deliver(state: AppState, body: Bytes) -> Response {
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
