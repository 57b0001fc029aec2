//! The control API (HTTP JSON on its own port): what tests, benchmarks and
//! drills assert against, and how they steer the carrier.
//!
//! | method | path | what |
//! | --- | --- | --- |
//! | GET | `/counts` | every counter, per account and per report outcome |
//! | GET | `/submits?account=&destination=&protocol=&client_ref=&after=&limit=` | the received submits |
//! | POST | `/mo` | inject an inbound message `{protocol, account, from, to, text, copies, redeliver}` (`copies` 1 to 5: each segment delivered that many times, same wire id; `redeliver: {segments: [2], after_ms}`: those segments alone delivered once more, later) |
//! | GET, PUT | `/faults` | the fault switches |
//! | POST | `/faults/drop` | drop every connection now (queued responses flushed first) |
//! | POST | `/faults/hard-drop` | drop every connection now, in-flight requests unanswered |
//! | PUT | `/reports` | the report policy (delay, outcome mix, early fraction) |
//! | PUT | `/accounts` | add or change an account (window, tps, sgip_sp_addr, quirks) |
//! | POST | `/reset` | forget records and counters |
//! | GET | `/metrics` | Prometheus text |
//!
//! Errors are `{"error": {"code", "message"}}` with a 4xx status. This module
//! never decides carrier behaviour itself; it only reads and sets state.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::config::{Account, Protocol, ReportPolicy};
use crate::dialect::Deliverable;
use crate::faults::FaultSettings;
use crate::ledger::Filter;
use crate::shared::Shared;

type Sim = State<Arc<Shared>>;

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(
            "/counts",
            get(|State(s): Sim| async move { Json(s.ledger.counts()) }),
        )
        .route("/submits", get(submits))
        .route("/mo", post(inject_mo))
        .route(
            "/faults",
            get(|State(s): Sim| async move { Json(s.faults.get()) }).put(set_faults),
        )
        .route("/faults/drop", post(drop_now))
        .route("/faults/hard-drop", post(hard_drop_now))
        .route("/reports", put(set_reports))
        .route("/accounts", put(set_account))
        .route("/reset", post(reset))
        .route(
            "/metrics",
            get(|State(s): Sim| async move { s.ledger.prometheus() }),
        )
        .with_state(shared)
}

fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    (
        status,
        Json(json!({"error": {"code": code, "message": message.into()}})),
    )
        .into_response()
}

async fn submits(State(s): Sim, Query(f): Query<Filter>) -> Response {
    Json(s.ledger.submits(&f)).into_response()
}

/// An inbound message to inject.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoRequest {
    pub protocol: Protocol,
    /// The account (client) it is delivered to; default: the protocol's
    /// first account.
    pub account: Option<String>,
    /// The handset it comes from.
    pub from: String,
    /// The service code it was sent to (110, 1101, ...).
    pub to: String,
    pub text: String,
    /// How many times the MO is delivered (1 to 5, default 1): the copies
    /// after the first are re-deliveries of the same segments (same wire
    /// ids), as a carrier sends when its answers went missing.
    #[serde(default)]
    pub copies: Option<u8>,
    /// Some segments delivered once more, alone, `after_ms` after the rest:
    /// what a carrier does when only those segments' answers went missing.
    #[serde(default)]
    pub redeliver: Option<Redeliver>,
}

/// Segments of an injected MO delivered again on their own.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Redeliver {
    /// Segment numbers, from 1.
    pub segments: Vec<u8>,
    /// Delay after the first deliveries (at most [`MAX_REDELIVER_MS`]).
    pub after_ms: u64,
}

/// Most deliveries of one injected segment.
pub const MAX_COPIES: u8 = 5;
/// Longest wait before a re-delivery of some segments.
pub const MAX_REDELIVER_MS: u64 = 60_000;

async fn inject_mo(
    State(s): Sim,
    body: Result<Json<MoRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(req) = match body {
        Ok(b) => b,
        Err(e) => return error(StatusCode::BAD_REQUEST, "bad_json", e.body_text()),
    };
    let account = match req.account.clone().or_else(|| {
        s.config()
            .accounts
            .iter()
            .find(|a| a.protocol == req.protocol)
            .map(|a| a.login.clone())
    }) {
        Some(a) => a,
        None => {
            return error(
                StatusCode::NOT_FOUND,
                "no_account",
                format!("no {} account", req.protocol),
            )
        }
    };
    if s.account(req.protocol, &account).is_none() {
        return error(
            StatusCode::NOT_FOUND,
            "no_account",
            format!("no {} account {account:?}", req.protocol),
        );
    }
    let copies = req.copies.unwrap_or(1);
    if !(1..=MAX_COPIES).contains(&copies) {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_copies",
            format!("copies must be 1 to {MAX_COPIES}"),
        );
    }
    let profile = s
        .account(req.protocol, &account)
        .and_then(|a| crate::profile::of(&a));
    let parts = match crate::mo::parts_as(req.protocol, profile.as_ref(), &req.from, &req.to, &req.text) {
        Ok(p) => p,
        Err(e) => return error(StatusCode::UNPROCESSABLE_ENTITY, "bad_text", e),
    };
    let n = parts.len();
    let again: Vec<_> = match &req.redeliver {
        None => Vec::new(),
        Some(r) => {
            let picked: Option<Vec<_>> = r
                .segments
                .iter()
                .map(|&i| usize::from(i).checked_sub(1).and_then(|i| parts.get(i)).cloned())
                .collect();
            match picked {
                Some(p) if r.after_ms <= MAX_REDELIVER_MS && !p.is_empty() => p,
                _ => {
                    return error(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "bad_redeliver",
                        format!("redeliver: segments 1 to {n}, after_ms at most {MAX_REDELIVER_MS}"),
                    )
                }
            }
        }
    };
    // Every segment, then the whole MO again for each copy: a carrier
    // re-delivers all it holds unanswered.
    for round in 0..copies {
        for p in &parts {
            if round > 0 {
                s.ledger.bump(|c| &c.redelivered);
            }
            s.deliver(req.protocol, &account, Deliverable::Mo(p.clone()));
        }
    }
    if let Some(r) = &req.redeliver {
        let (s, protocol, account, after) = (s.clone(), req.protocol, account.clone(), r.after_ms);
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(after)).await;
            for p in again {
                s.ledger.bump(|c| &c.redelivered);
                s.deliver(protocol, &account, Deliverable::Mo(p));
            }
        });
    }
    (
        StatusCode::ACCEPTED,
        Json(json!({"account": account, "parts": n})),
    )
        .into_response()
}

async fn set_faults(
    State(s): Sim,
    body: Result<Json<FaultSettings>, axum::extract::rejection::JsonRejection>,
) -> Response {
    match body {
        Ok(Json(f)) => {
            tracing::info!(?f, "faults set");
            s.faults.set(f.clone());
            Json(f).into_response()
        }
        Err(e) => error(StatusCode::BAD_REQUEST, "bad_json", e.body_text()),
    }
}

async fn drop_now(State(s): Sim) -> Response {
    s.faults.drop_all_now();
    (StatusCode::ACCEPTED, Json(json!({"dropped": true}))).into_response()
}

async fn hard_drop_now(State(s): Sim) -> Response {
    s.faults.hard_drop_all_now();
    (StatusCode::ACCEPTED, Json(json!({"dropped": true, "hard": true}))).into_response()
}

async fn set_reports(
    State(s): Sim,
    body: Result<Json<ReportPolicy>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(policy) = match body {
        Ok(b) => b,
        Err(e) => return error(StatusCode::BAD_REQUEST, "bad_json", e.body_text()),
    };
    let mut cfg = s.config();
    cfg.reports = policy.clone();
    if let Err(e) = cfg.validate("request") {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.to_string());
    }
    s.set_report_policy(policy.clone());
    Json(policy).into_response()
}

async fn set_account(
    State(s): Sim,
    body: Result<Json<Account>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(account) = match body {
        Ok(b) => b,
        Err(e) => return error(StatusCode::BAD_REQUEST, "bad_json", e.body_text()),
    };
    if account.window == 0 {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "window must be at least 1",
        );
    }
    s.update_account(account.clone());
    Json(account).into_response()
}

async fn reset(State(s): Sim) -> Response {
    s.ledger.reset();
    (StatusCode::OK, Json(json!({"reset": true}))).into_response()
}
