//! `GET /v1/stats`: the caller's counts by `period` (day, week, month in
//! Beijing time) between `from` and `until` (dates), optionally `by`
//! carrier, status, group or template: messages and parts sent, delivered,
//! failed and expired, and MOs. Read from the counters apply keeps (see
//! `smsgw_state::stats`), never from the records. `format=csv` gives the
//! same rows as CSV.

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Query as UrlQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde_json::{json, Value};

use super::error::ApiError;
use super::messages::authenticate;
use super::state::{now_ms, AppState};
use crate::service::zone;

/// Longest span one query covers.
const MAX_DAYS: u32 = 3 * 366;

/// The column an event counts in.
fn column(event: &str) -> &'static str {
    match event {
        "accepted" => "sent",
        "DELIVRD" => "delivered",
        "EXPIRED" => "expired",
        "mo" => "mo",
        // A carrier that takes a message without a report asked for.
        "ACCEPTED" => "delivered_unconfirmed",
        _ => "failed",
    }
}

fn date(q: &HashMap<String, String>, name: &str, default: NaiveDate) -> Result<NaiveDate, ApiError> {
    match q.get(name) {
        None => Ok(default),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
            ApiError::InvalidParameter(format!("`{name}` must be a date like 2026-12-03, not `{s}`"))
        }),
    }
}

/// The span a statistics query covers.
pub(crate) struct Span<'q> {
    /// `day`, `week` or `month`.
    pub period: &'q str,
    /// First date.
    pub from: NaiveDate,
    /// Last date.
    pub until: NaiveDate,
    /// The same as Beijing day numbers.
    pub days: (u32, u32),
}

/// `period` (day, default), `until` (default today) and `from` (default a
/// week before `until`), checked: what every statistics query takes.
pub(crate) fn span(q: &HashMap<String, String>) -> Result<Span<'_>, ApiError> {
    let period = q.get("period").map_or("day", String::as_str);
    if !matches!(period, "day" | "week" | "month") {
        return Err(ApiError::InvalidParameter(format!(
            "`period` is day, week or month, not `{period}`"
        )));
    }
    let today = zone::date_of(smsgw_state::stats::day(now_ms()));
    let until = date(q, "until", today)?;
    let from = date(q, "from", until - chrono::Duration::days(6))?;
    let (d0, d1) = (zone::day_of(from), zone::day_of(until));
    if d1 < d0 || d1 - d0 > MAX_DAYS {
        return Err(ApiError::InvalidParameter(format!(
            "`from` must be before `until`, at most {MAX_DAYS} days"
        )));
    }
    Ok(Span {
        period,
        from,
        until,
        days: (d0, d1),
    })
}

/// The table: (period, key) → column → (messages, parts).
type Table = BTreeMap<(String, String), BTreeMap<&'static str, (u64, u64)>>;

pub async fn get(
    State(s): State<AppState>,
    h: HeaderMap,
    UrlQuery(q): UrlQuery<HashMap<String, String>>,
) -> Response {
    let r = async {
        let (_, account) = authenticate(&s, &h)?;
        let Span {
            period,
            from,
            until,
            days: (d0, d1),
        } = span(&q)?;
        let by = q.get("by").map(String::as_str);
        if let Some(b) = by {
            if !matches!(b, "carrier" | "status" | "group" | "template") {
                return Err(ApiError::InvalidParameter(format!(
                    "`by` is carrier, status, group or template, not `{b}`"
                )));
            }
        }
        let view = s.fresh_view().await?;
        let stats = view.stats(&account.name, d0, d1)?;
        let mut table = Table::new();
        for st in stats {
            let key = match (by, st.dim.split_once(':')) {
                (None, _) if st.dim == "all" => String::new(),
                (Some("status"), _) if st.dim == "all" => st.event.clone(),
                (Some(b), Some((dim, value))) if b == dim => value.to_string(),
                _ => continue,
            };
            let per = zone::period_of(zone::date_of(st.day), period);
            let col = if by == Some("status") {
                "count"
            } else {
                column(&st.event)
            };
            let cell = table.entry((per, key)).or_default().entry(col).or_default();
            if st.parts {
                cell.1 += st.value;
            } else {
                cell.0 += st.value;
            }
        }
        Ok((period, by, from, until, table))
    }
    .await;
    let (period, by, from, until, table) = match r {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    if q.get("format").map(String::as_str) == Some("csv") {
        let mut out = String::from("\u{feff}period,key,column,messages,parts\n");
        for ((p, k), cols) in &table {
            for (c, (m, pa)) in cols {
                out.push_str(&format!("{p},{},{c},{m},{pa}\n", k.replace(',', " ")));
            }
        }
        return ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], out).into_response();
    }
    let rows: Vec<Value> = table
        .into_iter()
        .map(|((p, k), cols)| {
            let mut row = json!({ "period": p });
            if by.is_some() {
                row["key"] = json!(k);
            }
            for (c, (m, pa)) in cols {
                row[c] = json!({ "messages": m, "parts": pa });
            }
            row
        })
        .collect();
    (
        StatusCode::OK,
        axum::Json(json!({
            "period": period, "by": by, "from": from.to_string(), "until": until.to_string(),
            "time_zone": "Asia/Shanghai", "rows": rows,
        })),
    )
        .into_response()
}
