//! `GET /v1/inbound`: the caller's MOs as the replicated state recorded
//! them, newest first, paged by sequence number (`?limit=50&before=SEQ`).
//! An MO is an account's when its destination starts with one of the
//! account's `service_codes` (the longest code over all accounts wins); it
//! must never show an account another's MO, nor how many others have.

use std::collections::HashMap;

use axum::extract::{Query as UrlQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use smsgw_state::{Query, QueryResult};

use super::error::ApiError;
use super::messages::authenticate;
use super::state::AppState;

/// Most MOs per page.
pub const MAX_PAGE: u64 = 500;
/// Most MOs looked at for one page (others' are skipped); the page then
/// ends early with `next_before` so the caller goes on.
const MAX_SCAN: u64 = 20_000;

pub async fn get_inbound(
    State(state): State<AppState>,
    headers: HeaderMap,
    UrlQuery(q): UrlQuery<HashMap<String, String>>,
) -> Response {
    match page(&state, &headers, &q).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

fn param(q: &HashMap<String, String>, name: &str, lo: u64, hi: u64) -> Result<Option<u64>, ApiError> {
    match q.get(name) {
        None => Ok(None),
        Some(s) => match s.parse::<u64>() {
            Ok(v) if (lo..=hi).contains(&v) => Ok(Some(v)),
            _ => Err(ApiError::InvalidParameter(format!(
                "`{name}` must be a number from {lo} to {hi}, got `{}`",
                s.chars().take(30).collect::<String>()
            ))),
        },
    }
}

async fn page(state: &AppState, headers: &HeaderMap, q: &HashMap<String, String>) -> Result<Value, ApiError> {
    let (loaded, account) = authenticate(state, headers)?;
    let limit = param(q, "limit", 1, MAX_PAGE)?.unwrap_or(50);
    // As the schema says (int64), so generated clients and the server agree.
    let before = param(q, "before", 1, i64::MAX as u64)?;
    let view = state.fresh_view().await?;
    let total = match view.query(&Query::Counts) {
        Ok(QueryResult::Counts { mos, .. }) => mos,
        Ok(_) => 0,
        Err(e) => return Err(e.into()),
    };
    let start = before.map(|b| b.saturating_sub(1)).unwrap_or(total).min(total);
    let mut items = Vec::new();
    let mut seq = start;
    let mut scanned = 0u64;
    while seq >= 1 && (items.len() as u64) < limit && scanned < MAX_SCAN {
        scanned += 1;
        if let Some(mo) = view.mo(seq)? {
            let m = mo.message;
            let owner = loaded.doc.account_for_mo(&m.to).map(|a| a.name.as_str());
            if owner != Some(account.name.as_str()) {
                seq -= 1;
                continue;
            }
            items.push(json!({
                "seq": mo.seq,
                "carrier": m.carrier,
                "from": m.from,
                "to": m.to,
                "text": String::from_utf8_lossy(&m.payload),
                "received_at_ms": m.received_at_ms,
            }));
        }
        seq -= 1;
    }
    let next_before = (seq >= 1).then_some(seq + 1);
    // `total` counts this account's MOs only when the whole history was
    // looked at; it is never the count of every account's.
    let own_total = (before.is_none() && seq < 1).then_some(items.len() as u64);
    Ok(json!({ "messages": items, "total": own_total, "next_before": next_before }))
}
