//! `POST /v1/messages` and `GET /v1/messages/{id}`: authenticate, validate,
//! propose ONE `AcceptBatch` per request (staged in bounded entries and one
//! commit when it would pass the log's entry bound, `smsgw_state::staging`)
//! and answer after the commit; read a message back from the replicated state.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use smsgw_config::Account;
use smsgw_state::{Command, MessageParts, MtPart, PartRecord, Response as RaftResponse, StateView};

use super::error::ApiError;
use super::state::{now_ms, AppState, Loaded};
use super::submit::{self, Accepted, Envelope, SendRequest};

/// The account a request's bearer key belongs to.
pub fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<(Arc<Loaded>, Account), ApiError> {
    if let Some(p) = crate::console::session::principal(state, headers)? {
        let (loaded, account) = crate::console::session::account_of(state, &p)?;
        super::billing::check_open(&smsgw_state::local_view(&state.cluster), &account)?;
        return Ok((loaded, account));
    }
    let key = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or(ApiError::Unauthorized)?;
    let loaded = state.config()?;
    let Some(account) = loaded.doc.account_by_key(key).cloned() else {
        // Counted like every refused credential; the key is never logged.
        smsgw_raft::network::auth::record_failure("http", &"api client", &"unknown API key");
        return Err(ApiError::Unauthorized);
    };
    super::billing::check_open(&smsgw_state::local_view(&state.cluster), &account)?;
    Ok((loaded, account))
}

pub async fn post_messages(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if super::jobs::is_job_request(&body) {
        return super::jobs::post(&state, &headers, &body, false).await;
    }
    match post(&state, &headers, &body).await {
        // The account's content rule is review: the request waits as a held job.
        Ok(Posted::Held) => super::jobs::post(&state, &headers, &body, true).await,
        Ok(Posted::Sent {
            answers,
            replayed,
            merged,
            opted_out,
        }) => {
            let mut body = json!({ "messages": answers });
            if !merged.is_empty() {
                // Said so, not silently: these appeared more than once and were sent once.
                body["duplicates_merged"] = json!(merged);
            }
            if !opted_out.is_empty() {
                let rejected: Vec<Value> = opted_out
                    .iter()
                    .map(|n| json!({"to": n, "status": "REJECTED", "reason": "opted_out"}))
                    .collect();
                body["rejected"] = json!(rejected);
            }
            let mut resp = (StatusCode::ACCEPTED, Json(body)).into_response();
            if replayed {
                resp.headers_mut()
                    .insert("idempotent-replayed", HeaderValue::from_static("true"));
            }
            resp
        }
        Err(e) => e.into_response(),
    }
}

/// Removes repeated recipients (the same number however written: `+86`,
/// `0086`, `86` before a Chinese mobile), keeping the first; returns those removed.
fn merge_duplicates(to: &mut Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut merged = Vec::new();
    to.retain(|n| {
        if seen.insert(smsgw_config::normalize_number(n)) {
            true
        } else {
            merged.push(n.clone());
            false
        }
    });
    merged
}

/// What a plain send came to.
pub(crate) enum Posted {
    /// Committed (or replayed): the answers, whether replayed, the repeats
    /// merged, and the recipients skipped because they opted out.
    Sent {
        answers: Vec<Accepted>,
        replayed: bool,
        merged: Vec<String>,
        opted_out: Vec<String>,
    },
    /// To be held for review.
    Held,
}

async fn post(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<Posted, ApiError> {
    let json_body = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/json")
        });
    if json_body == Some(false) {
        return Err(ApiError::UnsupportedMediaType);
    }
    let (loaded, account) = authenticate(state, headers)?;
    let mut req: SendRequest =
        serde_json::from_slice(body).map_err(|e| ApiError::InvalidJson(e.to_string()))?;
    // The limit is on the request as sent, before repeats are merged.
    if req.to.len() > submit::MAX_RECIPIENTS {
        return Err(ApiError::TooManyRecipients(req.to.len()));
    }
    let merged = merge_duplicates(&mut req.to);
    send(state, &loaded, &account, req, merged).await
}

/// A plain send of an authenticated account, the one way every front door
/// (HTTP, the SMPP and CMPP servers for applications) goes: validation,
/// content rules, opt-outs, routes, daily limit, balance, ONE `AcceptBatch`
/// answered only after its commit ([`prepare`], then [`commit`]).
pub(crate) async fn send(
    state: &AppState,
    loaded: &Loaded,
    account: &Account,
    req: SendRequest,
    merged: Vec<String>,
) -> Result<Posted, ApiError> {
    let p = match prepare(state, loaded, account, req)? {
        Prepared::Held => return Ok(Posted::Held),
        Prepared::Ready(p) => p,
    };
    let opted_out = p.opted_out.clone();
    if p.answers.is_empty() {
        return Ok(Posted::Sent {
            answers: Vec::new(),
            replayed: false,
            merged,
            opted_out,
        });
    }
    match commit(state, account, vec![p]).await? {
        Committed::Accepted(mut answers) => Ok(Posted::Sent {
            answers: answers.pop().unwrap_or_default(),
            replayed: false,
            merged,
            opted_out,
        }),
        Committed::Replayed(ids) => Ok(Posted::Sent {
            answers: replay_answers(state, &ids).await?,
            replayed: true,
            merged,
            opted_out,
        }),
    }
}

/// A request checked and built, not yet proposed.
pub(crate) enum Prepared {
    /// The account's content rule holds it for review.
    Held,
    /// Its parts and answers (none when every recipient opted out).
    Ready(Ready),
}

/// The parts of one request, ready to be committed.
pub(crate) struct Ready {
    parts: Vec<MtPart>,
    /// One answer per recipient kept.
    pub answers: Vec<Accepted>,
    /// Recipients skipped because they opted out.
    pub opted_out: Vec<String>,
    priority: smsgw_config::Priority,
    request_id: Option<String>,
}

impl Ready {
    /// Its parts, for a front door that stamps its own fields into the
    /// envelopes (`M.0`) before the commit (the SMPP/CMPP servers).
    pub(crate) fn parts_mut(&mut self) -> &mut [MtPart] {
        &mut self.parts
    }

    /// An upper bound of its parts' bytes in the log.
    fn log_bytes(&self) -> usize {
        self.parts.iter().map(smsgw_state::staging::part_bytes).sum()
    }
}

/// Requests of one account (each with its caller's `tag`) cut, in order,
/// into runs that each fit one log entry as one [`commit`]: merging stops
/// before a run would pass the bound. A request too big alone is a run of
/// its own (its commit is staged).
pub(crate) fn bounded_runs<T>(batch: Vec<Ready>, tags: Vec<T>) -> Vec<(Vec<Ready>, Vec<T>)> {
    let budget = smsgw_state::staging::MAX_COMMAND_BYTES - smsgw_state::staging::SHELL_BYTES;
    let mut runs: Vec<(Vec<Ready>, Vec<T>)> = Vec::new();
    let mut size = 0;
    for (r, t) in batch.into_iter().zip(tags) {
        let b = r.log_bytes();
        match runs.last_mut() {
            Some((rs, ts)) if size + b <= budget => {
                rs.push(r);
                ts.push(t);
            }
            _ => {
                runs.push((vec![r], vec![t]));
                size = 0;
            }
        }
        size += b;
    }
    runs
}

/// What [`commit`] came to.
pub(crate) enum Committed {
    /// Committed now: each request's answers, in order.
    Accepted(Vec<Vec<Accepted>>),
    /// The one request's idempotency key was seen: the first commit's part ids.
    Replayed(Vec<String>),
}

/// Checks and builds one request (no proposal).
pub(crate) fn prepare(
    state: &AppState,
    loaded: &Loaded,
    account: &Account,
    mut req: SendRequest,
) -> Result<Prepared, ApiError> {
    let v = submit::validate(&req, account, &loaded.doc)?;
    if super::billing::content(loaded, account, [req.text.as_str()])? {
        return Ok(Prepared::Held);
    }
    let view = smsgw_state::local_view(&state.cluster);
    let (keep, opted_out) =
        super::billing::without_opt_outs(&view, &account.name, std::mem::take(&mut req.to), |n| n)?;
    req.to = keep;
    if req.to.is_empty() {
        return Ok(Prepared::Ready(Ready {
            parts: Vec::new(),
            answers: Vec::new(),
            opted_out,
            priority: v.priority,
            request_id: v.request_id,
        }));
    }
    let ids = state.next_ids(req.to.len());
    let (parts, answers) = submit::build(
        &req,
        &v,
        &account.name,
        &loaded.doc,
        &loaded.router,
        &ids,
        now_ms(),
    )?;
    Ok(Prepared::Ready(Ready {
        parts,
        answers,
        opted_out,
        priority: v.priority,
        request_id: v.request_id,
    }))
}

/// Proposes the requests of ONE account as one `AcceptBatch` (charged,
/// counted against the daily limit) and answers after its commit. An
/// idempotency key is kept only for a batch of one request.
pub(crate) async fn commit(
    state: &AppState,
    account: &Account,
    mut batch: Vec<Ready>,
) -> Result<Committed, ApiError> {
    let request_id = match batch.as_slice() {
        [one] => one.request_id.clone(),
        _ => None,
    };
    let n_parts: u64 = batch
        .iter()
        .flat_map(|r| &r.answers)
        .map(|a| u64::from(a.parts))
        .sum();
    let n = batch.iter().map(|r| r.answers.len() as u64).sum();
    let messages: Vec<MtPart> = batch
        .iter_mut()
        .flat_map(|r| std::mem::take(&mut r.parts))
        .collect();
    let cmd = Command::AcceptBatch { request_id, messages };
    let now = now_ms();
    let cmd = super::billing::charged(account, n_parts, now, cmd);
    let (loaded, view) = (state.config()?, smsgw_state::local_view(&state.cluster));
    super::limits::check_backlog(&view, &loaded.doc, &account.name, n)?;
    state.limiter.take_daily(account, n)?;
    // One entry as before, or staged when it would pass the entry bound.
    let committed = smsgw_state::staging::propose_bounded(&state.cluster, cmd, now).await;
    if !matches!(committed, Ok(RaftResponse::Accepted { .. })) {
        state.limiter.give_back_daily(account, n);
    }
    match committed? {
        RaftResponse::Accepted { .. } => {
            if let Some(rt) = &state.runtime {
                rt.nudge();
            }
            for r in &batch {
                let labels = [("priority", r.priority.name().to_string())];
                let parts: u64 = r.answers.iter().map(|a| u64::from(a.parts)).sum();
                metrics::counter!("smsgw_api_messages_accepted_total", &labels)
                    .increment(r.answers.len() as u64);
                metrics::counter!("smsgw_api_parts_accepted_total", &labels).increment(parts);
            }
            Ok(Committed::Accepted(
                batch.into_iter().map(|r| r.answers).collect(),
            ))
        }
        RaftResponse::Refused(r) => Err(super::billing::refusal(r)),
        RaftResponse::Replayed(first) => match *first {
            RaftResponse::Accepted { ids, .. } => Ok(Committed::Replayed(ids)),
            other => Err(ApiError::Internal(format!(
                "replayed request had answer {other:?}"
            ))),
        },
        other => Err(ApiError::Internal(format!("unexpected commit answer {other:?}"))),
    }
}

/// The answer a request got the first time, rebuilt from its envelopes.
async fn replay_answers(state: &AppState, part_ids: &[String]) -> Result<Vec<Accepted>, ApiError> {
    let view = state.fresh_view().await?;
    let mut out = Vec::new();
    for pid in part_ids {
        let Some(mid) = pid.strip_suffix(".0") else {
            continue;
        };
        let (_, _, env) =
            envelope(&view, mid)?.ok_or_else(|| ApiError::Internal(format!("envelope {pid} missing")))?;
        out.push(submit::answer_from_envelope(mid, &env));
    }
    Ok(out)
}

/// Message `id`'s head, a reader of its parts, and its envelope.
fn envelope<'v>(
    view: &'v StateView,
    id: &str,
) -> Result<Option<(PartRecord, MessageParts<'v>, Envelope)>, ApiError> {
    let Some((rec, rows)) = view.message(id)? else {
        return Ok(None);
    };
    let env: Envelope = serde_json::from_slice(&rec.part.payload)
        .map_err(|e| ApiError::Internal(format!("envelope of {id}: {e}")))?;
    Ok(Some((rec, rows, env)))
}

/// One part's status, from what the state machine recorded.
pub fn part_status(p: &PartRecord) -> &'static str {
    match (&p.report_state, &p.submit_status) {
        (Some(s), _) => state_name(s),
        (None, Some(code)) if code != "0" => "REJECTED",
        (None, Some(_)) => "SUBMITTED",
        // Committed: the leader's dispatcher holds it (or picks it up within
        // its next sweep).
        (None, None) => "QUEUED",
    }
}

/// The API's name of a recorded final state.
pub fn state_name(s: &str) -> &'static str {
    match s {
        "DELIVRD" | "DELIVERED" => "DELIVERED",
        "EXPIRED" => "EXPIRED",
        "UNDELIV" | "UNDELIVERABLE" => "UNDELIVERABLE",
        "REJECTD" | "REJECTED" => "REJECTED",
        // Accepted by the carrier, no report asked for: as far as it goes.
        "ACCEPTED" => "SUBMITTED",
        _ => "FAILED",
    }
}

/// A message's status from its parts: the least advanced unfinished part,
/// else DELIVERED when all were, else the worst final outcome.
pub fn message_status(parts: &[&str]) -> &'static str {
    const PROGRESS: [&str; 3] = ["ACCEPTED", "QUEUED", "SUBMITTED"];
    const WORST: [&str; 4] = ["FAILED", "REJECTED", "UNDELIVERABLE", "EXPIRED"];
    if let Some(p) = PROGRESS.iter().find(|s| parts.contains(s)) {
        return p;
    }
    WORST
        .iter()
        .find(|s| parts.contains(s))
        .copied()
        .unwrap_or("DELIVERED")
}

pub async fn get_message(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    match get(&state, &headers, &id).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn get(state: &AppState, headers: &HeaderMap, id: &str) -> Result<Value, ApiError> {
    let (_, account) = authenticate(state, headers)?;
    if id.is_empty() || id.len() > 20 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::NotFound(id.chars().take(40).collect()));
    }
    let view = state.fresh_view().await?;
    let (head, rows, env) = match envelope(&view, id)? {
        Some((h, r, e)) if h.part.account == account.name => (h, r, e),
        _ => return Err(ApiError::NotFound(id.to_string())),
    };
    let mut parts = Vec::new();
    let mut statuses = Vec::new();
    for seq in 1..=env.parts {
        let pid = format!("{id}.{seq}");
        let Some(rec) = rows.get(seq)? else { continue };
        let status = part_status(&rec);
        statuses.push(status);
        parts.push(json!({
            "id": pid,
            "status": status,
            "carrier_msg_id": rec.carrier_msg_id,
            "submit_status": rec.submit_status,
            "submitted_at_ms": rec.submitted_at_ms,
            "report": rec.report_state,
            "reported_at_ms": rec.reported_at_ms,
        }));
    }
    // The message's own final state (e.g. expired before all its parts were
    // sent) wins over what its parts say.
    let status = match head.report_state.as_deref() {
        Some(_) if !statuses.iter().any(|s| ["QUEUED", "SUBMITTED"].contains(s)) => message_status(&statuses),
        Some(_) => part_status(&head),
        None => message_status(&statuses),
    };
    Ok(json!({
        "id": id,
        "to": env.to,
        "status": status,
        "final_at_ms": head.reported_at_ms,
        "priority": env.priority,
        "route": env.route,
        "encoding": env.encoding,
        "parts": parts,
        "sender": env.sender,
        "client_ref": env.client_ref,
        "report": env.report,
        "accepted_at_ms": head.part.accepted_at_ms,
        "valid_until_ms": env.valid_until_ms,
        "accepted_index": head.accepted_index,
    }))
}

#[cfg(test)]
mod tests {
    use super::{bounded_runs, message_status, Ready};

    /// A request of one part of `kib` KiB.
    fn ready(kib: usize) -> Ready {
        Ready {
            parts: vec![smsgw_state::MtPart {
                id: "1.0".into(),
                account: "a".into(),
                to: "13800000000".into(),
                parts: 1,
                payload: vec![0; kib * 1024],
                accepted_at_ms: 0,
                queue: None,
            }],
            answers: Vec::new(),
            opted_out: Vec::new(),
            priority: smsgw_config::Priority::Normal,
            request_id: None,
        }
    }

    #[test]
    fn merged_requests_stop_before_the_entry_bound_and_a_big_one_goes_alone() {
        let batch = vec![
            ready(400),
            ready(400),
            ready(400),
            ready(2048),
            ready(1),
            ready(1),
        ];
        let runs = bounded_runs(batch, vec!['a', 'b', 'c', 'd', 'e', 'f']);
        let tags: Vec<Vec<char>> = runs.iter().map(|(_, t)| t.clone()).collect();
        assert_eq!(tags, vec![vec!['a', 'b'], vec!['c'], vec!['d'], vec!['e', 'f']]);
        for (rs, _) in &runs[..2] {
            let bytes: usize = rs.iter().map(Ready::log_bytes).sum();
            assert!(bytes + smsgw_state::staging::SHELL_BYTES <= smsgw_state::staging::MAX_COMMAND_BYTES);
        }
    }

    #[test]
    fn message_status_from_parts() {
        assert_eq!(message_status(&["DELIVERED", "SUBMITTED"]), "SUBMITTED");
        assert_eq!(message_status(&["DELIVERED", "DELIVERED"]), "DELIVERED");
        assert_eq!(message_status(&["DELIVERED", "EXPIRED", "REJECTED"]), "REJECTED");
        assert_eq!(message_status(&["ACCEPTED", "SUBMITTED"]), "ACCEPTED");
    }
}
