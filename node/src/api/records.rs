//! `GET /v1/records`: what the caller's account sent (`direction=mt`, by
//! acceptance time through the account's record index) or received
//! (`direction=mo`), filtered by time (`from`, `until`: a Beijing date or
//! RFC 3339), `number`, `contact`, `group`, `job`, `status` and text (`q`);
//! JSON pages with a cursor, or CSV with `format=csv`. An MO is shown with
//! the contact who sent it. A page looks at most [`MAX_SCAN`] rows, then
//! ends with its cursor so the caller goes on: the cost of a page never
//! grows with the history. It must never show another account's rows.

use std::collections::{BTreeSet, HashMap};

use axum::extract::{Query as UrlQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use smsgw_state::book::BookView;
use smsgw_state::StateView;

use super::book::{limit, num_param};
use super::error::ApiError;
use super::messages::{authenticate, state_name};
use super::state::AppState;
use super::submit::Envelope;
use crate::service::{csvio, zone};

/// Most rows one page looks at.
const MAX_SCAN: usize = 20_000;
/// Most rows a CSV export writes.
const MAX_CSV: usize = 100_000;

/// The filters of one query.
struct Filter {
    from_ms: u64,
    until_ms: u64,
    numbers: Option<BTreeSet<String>>,
    job: Option<u64>,
    status: Option<String>,
    q: Option<String>,
}

fn bound(q: &HashMap<String, String>, name: &str, end: bool, default: u64) -> Result<u64, ApiError> {
    match q.get(name) {
        None => Ok(default),
        Some(s) => zone::parse_bound(s, end).ok_or_else(|| {
            ApiError::InvalidParameter(format!(
                "`{name}` must be a date (2026-12-03) or an RFC 3339 time, not `{s}`"
            ))
        }),
    }
}

fn filter(q: &HashMap<String, String>, book: &BookView, account: &str) -> Result<Filter, ApiError> {
    let mut numbers: Option<BTreeSet<String>> = None;
    let mut narrow = |set: BTreeSet<String>| {
        numbers = Some(match numbers.take() {
            None => set,
            Some(old) => old.intersection(&set).cloned().collect(),
        });
    };
    if let Some(n) = q.get("number") {
        let n = csvio::phone(n).map_err(ApiError::InvalidParameter)?;
        narrow(BTreeSet::from([n]));
    }
    if let Some(c) = num_param(q, "contact")? {
        let contact = book.contact(account, c)?.ok_or(ApiError::Missing {
            what: "contact",
            id: c.to_string(),
        })?;
        narrow(contact.data.phones.into_iter().collect());
    }
    if let Some(g) = q.get("group") {
        let group = book.group_by_name(account, g)?.ok_or_else(|| ApiError::Missing {
            what: "group",
            id: g.clone(),
        })?;
        let members = book.members(account, group.id)?.map_err(ApiError::internal)?;
        narrow(members.into_iter().flat_map(|c| c.data.phones).collect());
    }
    Ok(Filter {
        from_ms: bound(q, "from", false, 0)?,
        until_ms: bound(q, "until", true, u64::MAX)?,
        numbers,
        job: num_param(q, "job")?,
        status: q.get("status").map(|s| s.to_ascii_uppercase()),
        q: q.get("q").cloned(),
    })
}

fn contact_json(book: &BookView, account: &str, number: &str) -> Result<Value, ApiError> {
    Ok(match book.contact_by_phone(account, number)? {
        Some(c) => json!({ "id": c.id, "name": c.data.name }),
        None => Value::Null,
    })
}

/// One page of MT records and the cursor after it.
fn mt_page(
    view: &StateView,
    account: &str,
    f: &Filter,
    after: Option<(u64, String)>,
    limit: usize,
) -> Result<(Vec<Value>, Option<String>), ApiError> {
    let book = view.book();
    let jobs = view.jobs();
    let ids = view.records(
        account,
        after.as_ref().map(|(a, i)| (*a, i.as_str())),
        f.from_ms,
        f.until_ms,
        MAX_SCAN,
    )?;
    let scanned_all = ids.len() < MAX_SCAN;
    let mut items = Vec::new();
    let mut cursor = None;
    for (at, mid) in ids {
        cursor = Some(format!("{at}-{mid}"));
        let Some(head) = view.part(&format!("{mid}.0"))? else {
            continue;
        };
        let Ok(env) = serde_json::from_slice::<Envelope>(&head.part.payload) else {
            continue;
        };
        let status = head.report_state.as_deref().map_or("IN_PROGRESS", state_name);
        let job = jobs.job_of(&mid)?;
        if f.numbers.as_ref().is_some_and(|n| !n.contains(&head.part.to))
            || f.job.is_some_and(|j| Some(j) != job)
            || f.status.as_deref().is_some_and(|s| s != status)
            || f.q.as_deref().is_some_and(|q| !env.text.contains(q))
        {
            continue;
        }
        items.push(json!({
            "id": mid, "to": head.part.to, "contact": contact_json(&book, account, &head.part.to)?,
            "text": env.text, "status": status, "route": env.route, "parts": env.parts,
            "priority": env.priority.name(), "job": job, "client_ref": env.client_ref,
            "accepted_at": zone::show(at), "finished_at": head.reported_at_ms.map(zone::show),
        }));
        if items.len() >= limit {
            return Ok((items, cursor));
        }
    }
    Ok((items, if scanned_all { None } else { cursor }))
}

/// One page of MO records (by sequence) and the cursor after it.
fn mo_page(
    view: &StateView,
    doc: &smsgw_config::ClusterDoc,
    account: &str,
    f: &Filter,
    after: u64,
    limit: usize,
) -> Result<(Vec<Value>, Option<String>), ApiError> {
    let book = view.book();
    let mut items = Vec::new();
    // Purged MOs are gone from the front of the sequence: start past them.
    let purged = view.counter(smsgw_state::keys::retention::counter::MOS)?;
    let mut seq = after.max(purged);
    for _ in 0..MAX_SCAN {
        seq += 1;
        let Some(mo) = view.mo(seq)? else {
            return Ok((items, None));
        };
        let m = mo.message;
        let mine = doc.account_for_mo(&m.to).is_some_and(|a| a.name == account);
        let from = smsgw_config::normalize_number(&m.from);
        let text = String::from_utf8_lossy(&m.payload).into_owned();
        if !mine
            || m.received_at_ms < f.from_ms
            || m.received_at_ms >= f.until_ms
            || f.numbers.as_ref().is_some_and(|n| !n.contains(&from))
            || f.q.as_deref().is_some_and(|q| !text.contains(q))
        {
            continue;
        }
        items.push(json!({
            "seq": mo.seq, "from": m.from, "to": m.to, "contact": contact_json(&book, account, &from)?,
            "text": text, "carrier": m.carrier, "received_at": zone::show(m.received_at_ms),
        }));
        if items.len() >= limit {
            break;
        }
    }
    Ok((items, Some(seq.to_string())))
}

fn parse_cursor(s: &str) -> Result<(u64, String), ApiError> {
    s.split_once('-')
        .and_then(|(a, i)| Some((a.parse().ok()?, i.to_string())))
        .ok_or_else(|| ApiError::InvalidParameter(format!("`after` `{s}` is not a cursor this API returned")))
}

pub async fn list(
    State(s): State<AppState>,
    h: HeaderMap,
    UrlQuery(q): UrlQuery<HashMap<String, String>>,
) -> Response {
    let r = async {
        let (loaded, account) = authenticate(&s, &h)?;
        let csv = match q.get("format").map(String::as_str) {
            None | Some("json") => false,
            Some("csv") => true,
            Some(other) => {
                return Err(ApiError::InvalidParameter(format!(
                    "`format` is json or csv, not `{other}`"
                )))
            }
        };
        let view = s.fresh_view().await?;
        let f = filter(&q, &view.book(), &account.name)?;
        let limit = if csv { MAX_CSV } else { limit(&q)? };
        let mo = match q.get("direction").map(String::as_str) {
            None | Some("mt") => false,
            Some("mo") => true,
            Some(other) => {
                return Err(ApiError::InvalidParameter(format!(
                    "`direction` is mt or mo, not `{other}`"
                )))
            }
        };
        let (items, next) = if mo {
            let after = num_param(&q, "after")?.unwrap_or(0);
            mo_page(&view, &loaded.doc, &account.name, &f, after, limit)?
        } else {
            let after = q.get("after").map(|c| parse_cursor(c)).transpose()?;
            mt_page(&view, &account.name, &f, after, limit)?
        };
        Ok((csv, mo, items, next))
    }
    .await;
    match r {
        Ok((true, mo, items, _)) => {
            let cols: &[&str] = if mo {
                &["seq", "from", "to", "text", "carrier", "received_at"]
            } else {
                &[
                    "id",
                    "to",
                    "text",
                    "status",
                    "route",
                    "parts",
                    "priority",
                    "job",
                    "accepted_at",
                    "finished_at",
                ]
            };
            let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
            let mut rows = vec![cols.iter().map(|c| c.to_string()).collect::<Vec<_>>()];
            for it in &items {
                let mut row: Vec<String> = cols
                    .iter()
                    .map(|c| match &it[*c] {
                        Value::String(s) => s.clone(),
                        Value::Null => String::new(),
                        v => v.to_string(),
                    })
                    .collect();
                row.push(it["contact"]["name"].as_str().unwrap_or("").to_string());
                rows.push(row);
            }
            if let Some(h) = rows.first_mut() {
                h.push("contact".into());
            }
            for row in rows {
                if let Err(e) = w.write_record(&row) {
                    return ApiError::internal(e).into_response();
                }
            }
            match w.into_inner() {
                Ok(bytes) => ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], bytes).into_response(),
                Err(e) => ApiError::internal(e).into_response(),
            }
        }
        Ok((false, _, items, next)) => (
            StatusCode::OK,
            axum::Json(json!({ "items": items, "next": next })),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}
