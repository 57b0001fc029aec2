//! Receipts and MOs to applications' receiving sessions on ANY node, at
//! least once, from the account's replicated event queue
//! (`smsgw_state::events`, the queue HTTP callbacks use; an account with
//! `callbacks` URLs gets its events there, one with only app logins here).
//!
//! Why leases from the leader: the queue has one acknowledged cursor per
//! account, and only the leader may move it. Each node with a receiving
//! session of an account runs a worker that asks the leader for a lease on
//! the next events (`POST /internal/v1/apps/lease`, signed; in-process on
//! the leader itself), hands them round robin to its sessions, and reports
//! the acknowledged ones (`/internal/v1/apps/done`). The leader leases each
//! event to one node at a time for [`LEASE`]; an event not reported done by
//! then (its session or node went away) is leased again to whoever asks,
//! and the leader proposes `EventsCommand::Ack` for the contiguous prefix
//! reported done. Leases live in the leader's memory only: a new leader
//! starts with none and leases every unacknowledged event again, so an
//! event may reach an application twice, never zero times.
//!
//! It never acknowledges an event no application answered, and never
//! moves the cursor off the leader.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::{Deserialize, Serialize};
use smsgw_config::Account;
use smsgw_state::events::{Event, EventsCommand};
use smsgw_state::{Command, Response};

use super::hub::Outbound;
use crate::api::internal::signed_post;
use crate::api::state::AppState;
use crate::api::ApiError;

/// How long an event leased to a node stays its own.
pub const LEASE: Duration = Duration::from_secs(15);
/// Most events in one lease.
pub const MAX_LEASE: usize = 256;
/// How far past the acknowledged cursor the leader looks for events to lease.
const SCAN: usize = 2048;
/// How often an idle worker asks again.
const IDLE: Duration = Duration::from_millis(50);
/// The lease endpoint.
pub const LEASE_PATH: &str = "/internal/v1/apps/lease";
/// The done endpoint.
pub const DONE_PATH: &str = "/internal/v1/apps/done";
/// A node's own application sessions (for `GET /v1/admin/sessions` on another node).
pub const SESSIONS_PATH: &str = "/internal/v1/apps/sessions";

/// Whether `a`'s events go to its application sessions (it has app logins
/// and no HTTP callbacks, which would take them instead).
pub fn takes_events(a: &Account) -> bool {
    a.apps.is_some() && a.callbacks.is_none()
}

#[derive(Default)]
struct AccountLeases {
    leased: HashMap<u64, Instant>,
    done: BTreeSet<u64>,
}

/// The leader's leases (empty on other nodes).
#[derive(Default)]
pub struct Leases {
    accounts: Mutex<HashMap<String, AccountLeases>>,
}

#[derive(Serialize, Deserialize)]
struct LeaseReq {
    account: String,
    max: usize,
}

#[derive(Serialize, Deserialize)]
struct LeaseResp {
    events: Vec<Event>,
}

#[derive(Serialize, Deserialize)]
struct DoneReq {
    account: String,
    seqs: Vec<u64>,
}

impl Leases {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, AccountLeases>> {
        self.accounts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Up to `max` of `account`'s events leased to the caller.
    fn lease(&self, state: &AppState, account: &str, max: usize) -> Result<Vec<Event>, String> {
        if !state.cluster.leads_with_lease() {
            return Err("not the leader".into());
        }
        let events = smsgw_state::local_view(&state.cluster).events();
        let meta = events.account(account).map_err(|e| e.to_string())?;
        let batch = events
            .events(account, meta.acked, SCAN)
            .map_err(|e| e.to_string())?;
        let now = Instant::now();
        let mut all = self.lock();
        let l = all.entry(account.to_string()).or_default();
        l.done = l.done.split_off(&(meta.acked + 1));
        l.leased.retain(|s, until| *s > meta.acked && *until > now);
        let mut out = Vec::new();
        for e in batch {
            if out.len() >= max.min(MAX_LEASE) {
                break;
            }
            if l.done.contains(&e.seq) || l.leased.contains_key(&e.seq) {
                continue;
            }
            l.leased.insert(e.seq, now + LEASE);
            out.push(e);
        }
        Ok(out)
    }

    fn done(&self, account: &str, seqs: &[u64]) {
        let mut all = self.lock();
        let l = all.entry(account.to_string()).or_default();
        for s in seqs {
            l.leased.remove(s);
            l.done.insert(*s);
        }
    }

    /// The acknowledgements to propose: per account, the end of the
    /// contiguous run of done events after the cursor.
    fn acks(&self, state: &AppState) -> Vec<(String, u64)> {
        let events = smsgw_state::local_view(&state.cluster).events();
        let all = self.lock();
        let mut out = Vec::new();
        for (account, l) in all.iter() {
            let Ok(meta) = events.account(account) else {
                continue;
            };
            let mut through = meta.acked;
            for s in l.done.range(meta.acked + 1..) {
                if *s != through + 1 {
                    break;
                }
                through = *s;
            }
            if through > meta.acked {
                out.push((account.clone(), through));
            }
        }
        out
    }

    /// `smsgw_app_events_pending{account}` for the accounts seen.
    fn publish(&self, state: &AppState) {
        let events = smsgw_state::local_view(&state.cluster).events();
        let names: Vec<String> = self.lock().keys().cloned().collect();
        for a in names {
            if let Ok(m) = events.account(&a) {
                metrics::gauge!("smsgw_app_events_pending", "account" => a).set(m.pending() as f64);
            }
        }
    }
}

/// `/internal/v1/apps/*` (the signature is already checked).
pub async fn internal(state: &AppState, path: &str, body: &[u8]) -> axum::response::Response {
    use axum::response::IntoResponse;
    match path {
        LEASE_PATH => {
            let Ok(req) = serde_json::from_slice::<LeaseReq>(body) else {
                return ApiError::InvalidJson("lease request".into()).into_response();
            };
            match state.leases.lease(state, &req.account, req.max) {
                Ok(events) => axum::Json(LeaseResp { events }).into_response(),
                Err(e) => ApiError::NoQuorum(e).into_response(),
            }
        }
        DONE_PATH => {
            let Ok(req) = serde_json::from_slice::<DoneReq>(body) else {
                return ApiError::InvalidJson("done request".into()).into_response();
            };
            state.leases.done(&req.account, &req.seqs);
            axum::Json(serde_json::json!({})).into_response()
        }
        SESSIONS_PATH => axum::Json(state.apps.sessions(None)).into_response(),
        _ => ApiError::NoSuchEndpoint.into_response(),
    }
}

type HttpClient = crate::api::internal::NodeClient;

async fn post(state: &AppState, client: &HttpClient, path: &str, body: Vec<u8>) -> Result<Vec<u8>, String> {
    let leader = crate::gateway::forward::leader_http(&state.cluster).ok_or("no leader known")?;
    post_to(state, client, &leader, path, body).await
}

/// A signed internal POST to the node at `addr`; its answer's body.
async fn post_to(
    state: &AppState,
    client: &HttpClient,
    addr: &str,
    path: &str,
    body: Vec<u8>,
) -> Result<Vec<u8>, String> {
    signed_post(
        state.cluster.secret(),
        client,
        addr,
        path,
        body,
        Duration::from_secs(5),
    )
    .await
}

/// The application sessions of the node at `addr` (its HTTP address).
pub async fn remote_sessions(state: &AppState, addr: &str) -> Result<Vec<serde_json::Value>, String> {
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    let r = post_to(state, &client, addr, SESSIONS_PATH, b"{}".to_vec()).await?;
    serde_json::from_slice(&r).map_err(|e| e.to_string())
}

async fn lease(state: &AppState, client: &HttpClient, account: &str) -> Result<Vec<Event>, String> {
    if state.cluster.leads_with_lease() {
        return state.leases.lease(state, account, MAX_LEASE);
    }
    let body = serde_json::to_vec(&LeaseReq {
        account: account.to_string(),
        max: MAX_LEASE,
    })
    .map_err(|e| e.to_string())?;
    let r = post(state, client, LEASE_PATH, body).await?;
    let resp: LeaseResp = serde_json::from_slice(&r).map_err(|e| e.to_string())?;
    Ok(resp.events)
}

async fn report(state: &AppState, client: &HttpClient, account: &str, seqs: Vec<u64>) -> Result<(), String> {
    if state.cluster.leads_with_lease() {
        state.leases.done(account, &seqs);
        return Ok(());
    }
    let body = serde_json::to_vec(&DoneReq {
        account: account.to_string(),
        seqs,
    })
    .map_err(|e| e.to_string())?;
    post(state, client, DONE_PATH, body).await.map(|_| ())
}

/// Runs on every node until aborted: a worker per account with receiving
/// sessions here, and (while leading) the acknowledgements.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
        let mut workers: HashMap<String, tokio::task::JoinHandle<()>> = HashMap::new();
        loop {
            workers.retain(|_, w| !w.is_finished());
            let wanted: Vec<String> = match state.config() {
                Ok(l) => state
                    .apps
                    .receiving_accounts()
                    .into_iter()
                    .filter(|a| l.doc.accounts.iter().any(|x| &x.name == a && takes_events(x)))
                    .collect(),
                Err(_) => Vec::new(),
            };
            for a in wanted {
                workers
                    .entry(a.clone())
                    .or_insert_with(|| tokio::spawn(worker(state.clone(), client.clone(), a)));
            }
            if state.cluster.leads_with_lease() {
                for (account, through) in state.leases.acks(&state) {
                    let cmd = Command::Events(EventsCommand::Ack {
                        account: account.clone(),
                        through,
                    });
                    match smsgw_state::propose(&state.cluster, &cmd).await {
                        Ok(Response::Events(_)) => {}
                        Ok(other) => tracing::warn!(%account, "unexpected answer to an app ack: {other:?}"),
                        Err(e) => tracing::debug!(%account, "proposing an app ack: {e}"),
                    }
                }
                state.leases.publish(&state);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
}

/// Delivers `account`'s events to its sessions on this node while it has any.
async fn worker(state: AppState, client: HttpClient, account: String) {
    loop {
        if state.apps.next_receiver(&account).is_none() {
            return;
        }
        let events = match lease(&state, &client, &account).await {
            Ok(e) => e,
            Err(e) => {
                tracing::debug!(%account, "app events lease: {e}");
                tokio::time::sleep(IDLE * 4).await;
                continue;
            }
        };
        if events.is_empty() {
            tokio::time::sleep(IDLE).await;
            continue;
        }
        // Round robin over the sessions open now; one that closed meanwhile
        // passes its event to the next.
        let receivers = state.apps.receivers(&account);
        let mut waits = Vec::with_capacity(events.len());
        let mut next = 0usize;
        'events: for event in events {
            let seq = event.seq;
            let (done, ok) = tokio::sync::oneshot::channel();
            let mut ob = Outbound { event, done };
            for _ in 0..receivers.len() {
                let rx = &receivers[next % receivers.len()];
                next = next.wrapping_add(1);
                match rx.send(ob).await {
                    Ok(()) => {
                        waits.push((seq, ok));
                        continue 'events;
                    }
                    Err(back) => ob = back.0,
                }
            }
            break;
        }
        let mut seqs = Vec::new();
        for (seq, ok) in waits {
            if matches!(ok.await, Ok(true)) {
                seqs.push(seq);
            }
        }
        if seqs.is_empty() {
            continue;
        }
        let n = seqs.len();
        if let Err(e) = report(&state, &client, &account, seqs).await {
            // The leases run out and the events are delivered again.
            tracing::warn!(%account, "reporting {n} delivered app events: {e}");
        }
        metrics::counter!("smsgw_app_events_delivered_total", "account" => account.clone())
            .increment(n as u64);
    }
}
