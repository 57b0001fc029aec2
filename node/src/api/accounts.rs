//! Prepaid accounts over HTTP: an account's own balance (`/v1/account`),
//! its ledger and monthly statement (the account itself or an admin), its
//! opt-out list (`/v1/optouts`), and the admin's top-ups, adjustments and
//! content review (`/v1/admin/...`, admin keys from `[admin]`). Every write
//! is committed before it is answered; a top-up repeated with its `ref`
//! counts once.

use std::collections::{BTreeMap, HashMap};

use axum::body::Bytes;
use axum::extract::{Path, Query as UrlQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use serde_json::{json, Value};
use smsgw_config::Account;
use smsgw_state::accounts::{AccountCommand, AccountRecord, AccountResponse, LedgerLine};
use smsgw_state::jobs::{JobCommand, JobResponse};
use smsgw_state::{Command, Response as Committed};

use super::book::{json_body, limit, next_of, respond};
use super::error::ApiError;
use super::messages::authenticate;
use super::state::{now_ms, AppState, Loaded};
use crate::service::{csvio, zone};

/// The bearer key of a request, if it has one.
pub(crate) fn bearer(h: &HeaderMap) -> Option<&str> {
    h.get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

/// The document, if the caller holds an admin key.
pub(super) fn admin(s: &AppState, h: &HeaderMap) -> Result<std::sync::Arc<Loaded>, ApiError> {
    let loaded = s.config()?;
    if let Some(admin) = crate::console::session::is_admin(s, h)? {
        return if admin {
            Ok(loaded)
        } else {
            Err(ApiError::Forbidden("this needs an admin".into()))
        };
    }
    match bearer(h) {
        Some(k) if loaded.doc.admin.admits(k) => Ok(loaded),
        Some(k) if loaded.doc.account_by_key(k).is_some() => Err(ApiError::Forbidden(
            "this needs an admin key (`[admin] api_keys`)".into(),
        )),
        _ => Err(ApiError::Unauthorized),
    }
}

/// The prepaid account `name`, if the caller is an admin or that account.
fn admin_or_own(s: &AppState, h: &HeaderMap, name: &str) -> Result<Account, ApiError> {
    let loaded = s.config()?;
    let is_admin = bearer(h).is_some_and(|k| loaded.doc.admin.admits(k))
        || crate::console::session::is_admin(s, h)? == Some(true);
    let account = if is_admin {
        loaded.doc.accounts.iter().find(|a| a.name == name).cloned()
    } else {
        let (_, me) = authenticate(s, h)?;
        if me.name != name {
            return Err(ApiError::Forbidden("an account sees only its own ledger".into()));
        }
        Some(me)
    };
    account.ok_or_else(|| ApiError::Missing {
        what: "account",
        id: name.to_string(),
    })
}

fn show(a: &Account, rec: Option<&AccountRecord>, loaded: &Loaded) -> Value {
    let Some(billing) = &a.billing else {
        return json!({ "name": a.name, "prepaid": false });
    };
    let freeze_at = rec.map(|r| r.last_topup_ms + loaded.doc.billing.freeze_after_secs * 1000);
    json!({
        "name": a.name,
        "prepaid": true,
        "status": rec.map_or("ACTIVE", |r| r.status.name()),
        "balance": rec.map_or(0, |r| r.balance),
        "price_fen": billing.price_fen,
        "kind": billing.kind,
        "last_topup_at": rec.map(|r| zone::show(r.last_topup_ms)),
        "freezes_at": freeze_at.map(zone::show),
    })
}

/// `GET /v1/account`: the caller's own account.
pub async fn me(State(s): State<AppState>, h: HeaderMap) -> Response {
    respond(
        async {
            let (loaded, account) = authenticate(&s, &h)?;
            let view = s.fresh_view().await?;
            let rec = view.accounts().account(&account.name)?;
            Ok(show(&account, rec.as_ref(), &loaded))
        }
        .await,
        StatusCode::OK,
    )
}

/// `GET /v1/admin/accounts/{name}`.
pub async fn get(State(s): State<AppState>, h: HeaderMap, Path(name): Path<String>) -> Response {
    respond(
        async {
            let loaded = admin(&s, &h)?;
            let a = loaded
                .doc
                .accounts
                .iter()
                .find(|a| a.name == name)
                .ok_or(ApiError::Missing {
                    what: "account",
                    id: name.clone(),
                })?;
            let rec = s.fresh_view().await?.accounts().account(&name)?;
            Ok(show(a, rec.as_ref(), &loaded))
        }
        .await,
        StatusCode::OK,
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TopUp {
    parts: u64,
    #[serde(rename = "ref")]
    reference: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Adjustment {
    parts: i64,
    reason: String,
}

async fn change(
    s: &AppState,
    name: &str,
    request_id: Option<String>,
    change: AccountCommand,
) -> Result<(bool, AccountRecord), ApiError> {
    let cmd = Command::Account {
        request_id,
        account: name.to_string(),
        change,
    };
    match smsgw_state::propose(&s.cluster, &cmd).await? {
        Committed::Account(AccountResponse::Account(r)) => Ok((false, r)),
        Committed::Replayed(first) => match *first {
            Committed::Account(AccountResponse::Account(r)) => Ok((true, r)),
            other => Err(ApiError::internal(format!("replayed answer {other:?}"))),
        },
        Committed::Account(AccountResponse::Missing) => Err(ApiError::Conflict(format!(
            "account `{name}` has no balance yet: top it up first"
        ))),
        other => Err(ApiError::internal(format!("unexpected commit answer {other:?}"))),
    }
}

fn prepaid<'a>(loaded: &'a Loaded, name: &str) -> Result<&'a Account, ApiError> {
    let a = loaded
        .doc
        .accounts
        .iter()
        .find(|a| a.name == name)
        .ok_or(ApiError::Missing {
            what: "account",
            id: name.to_string(),
        })?;
    if a.billing.is_none() {
        return Err(ApiError::Conflict(format!(
            "account `{name}` is not prepaid: give it `[accounts.billing]` in the cluster document"
        )));
    }
    Ok(a)
}

/// `POST /v1/admin/accounts/{name}/topups`.
pub async fn topup(
    State(s): State<AppState>,
    h: HeaderMap,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    let r = async {
        let loaded = admin(&s, &h)?;
        prepaid(&loaded, &name)?;
        let t: TopUp = json_body(&body)?;
        if t.parts == 0 || t.reference.is_empty() || t.reference.len() > 64 {
            return Err(ApiError::Invalid {
                code: "invalid_topup",
                message: "`parts` must be positive and `ref` 1 to 64 characters".into(),
            });
        }
        let rid = format!("topup/{name}/{}", t.reference);
        let at_ms = now_ms();
        let cmd = AccountCommand::TopUp {
            parts: t.parts,
            reference: t.reference,
            at_ms,
        };
        let (replayed, rec) = change(&s, &name, Some(rid), cmd).await?;
        metrics::counter!("smsgw_topups_total").increment(u64::from(!replayed));
        Ok((
            replayed,
            json!({"account": name, "status": rec.status.name(), "balance": rec.balance}),
        ))
    }
    .await;
    match r {
        Ok((replayed, v)) => {
            let mut resp = (StatusCode::CREATED, axum::Json(v)).into_response();
            if replayed {
                resp.headers_mut()
                    .insert("idempotent-replayed", header::HeaderValue::from_static("true"));
            }
            resp
        }
        Err(e) => e.into_response(),
    }
}

/// `POST /v1/admin/accounts/{name}/adjustments`.
pub async fn adjust(
    State(s): State<AppState>,
    h: HeaderMap,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    respond(
        async {
            let loaded = admin(&s, &h)?;
            prepaid(&loaded, &name)?;
            let a: Adjustment = json_body(&body)?;
            let cmd = AccountCommand::Adjust {
                parts: a.parts,
                reason: a.reason,
                at_ms: now_ms(),
            };
            let (_, rec) = change(&s, &name, None, cmd).await?;
            Ok(json!({"account": name, "status": rec.status.name(), "balance": rec.balance}))
        }
        .await,
        StatusCode::CREATED,
    )
}

fn line_json(l: &LedgerLine) -> Value {
    json!({
        "seq": l.seq, "at": zone::show(l.at_ms), "kind": l.kind.name(), "parts": l.parts,
        "balance": l.balance, "reference": l.reference, "carrier": l.carrier,
    })
}

/// `GET /v1/accounts/{name}/ledger?from=&until=&after=&limit=`.
pub async fn ledger(
    State(s): State<AppState>,
    h: HeaderMap,
    Path(name): Path<String>,
    UrlQuery(q): UrlQuery<HashMap<String, String>>,
) -> Response {
    respond(
        async {
            admin_or_own(&s, &h, &name)?;
            let limit = limit(&q)?;
            let b = |k: &str, end: bool, d: u64| match q.get(k) {
                None => Ok(d),
                Some(v) => zone::parse_bound(v, end).ok_or_else(|| {
                    ApiError::InvalidParameter(format!("`{k}` must be a date or an RFC 3339 time"))
                }),
            };
            let (from, until) = (b("from", false, 0)?, b("until", true, u64::MAX)?);
            let after = match q.get("after") {
                None => None,
                Some(c) => Some(
                    c.split_once('-')
                        .and_then(|(a, s)| Some((a.parse().ok()?, s.parse().ok()?)))
                        .ok_or_else(|| {
                            ApiError::InvalidParameter(format!("`after` `{c}` is not a cursor"))
                        })?,
                ),
            };
            let view = s.fresh_view().await?;
            let lines = view.accounts().ledger(&name, from, until, after, limit)?;
            let next = next_of(&lines, limit, |l| format!("{}-{}", l.at_ms, l.seq));
            Ok(json!({"items": lines.iter().map(line_json).collect::<Vec<_>>(), "next": next}))
        }
        .await,
        StatusCode::OK,
    )
}

/// `GET /v1/accounts/{name}/statement?month=2026-12[&format=csv]`.
pub async fn statement(
    State(s): State<AppState>,
    h: HeaderMap,
    Path(name): Path<String>,
    UrlQuery(q): UrlQuery<HashMap<String, String>>,
) -> Response {
    let r = async {
        let account = admin_or_own(&s, &h, &name)?;
        let month = q.get("month").cloned().unwrap_or_else(|| {
            let today = zone::date_of(smsgw_state::stats::day(now_ms()));
            format!("{}-{:02}", today.year(), today.month())
        });
        let first = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").map_err(|_| {
            ApiError::InvalidParameter(format!("`month` must be like 2026-12, not `{month}`"))
        })?;
        let next = first
            .checked_add_months(chrono::Months::new(1))
            .ok_or_else(|| ApiError::InvalidParameter("`month` is out of range".into()))?;
        let (d0, d1) = (zone::day_of(first), zone::day_of(next));
        let view = s.fresh_view().await?;
        let accounts = view.accounts();
        let opening = accounts.opening_balance(&name, d0)?;
        let closing = accounts.opening_balance(&name, d1)?;
        let mut totals: BTreeMap<String, u64> = BTreeMap::new();
        let mut by_day: Vec<Value> = Vec::new();
        for st in view.stats(&name, d0, d1 - 1)? {
            if !st.parts {
                continue;
            }
            if st.dim == smsgw_state::accounts::BILLING {
                *totals.entry(st.event.clone()).or_default() += st.value;
            } else if let Some(carrier) = st.dim.strip_prefix("billing-carrier:") {
                *totals.entry(st.event.clone()).or_default() += st.value;
                by_day.push(json!({
                    "day": zone::date_of(st.day).to_string(), "carrier": carrier,
                    "kind": st.event, "parts": st.value,
                }));
            }
        }
        let price = account.billing.as_ref().map_or(0, |b| u64::from(b.price_fen));
        let charged = totals.get("charge").copied().unwrap_or(0);
        let refunded = totals.get("refund").copied().unwrap_or(0);
        Ok(json!({
            "account": name, "month": month, "time_zone": "Asia/Shanghai",
            "opening_balance": opening, "closing_balance": closing,
            "topups": totals.get("topup").copied().unwrap_or(0),
            "charges": charged, "refunds": refunded,
            "adjustments": totals.get("adjustment").copied().unwrap_or(0),
            "price_fen": price, "amount_fen": charged.saturating_sub(refunded) * price,
            "by_day_and_carrier": by_day,
        }))
    }
    .await;
    match (r, q.get("format").map(String::as_str)) {
        (Ok(v), Some("csv")) => {
            let mut out = String::from("\u{feff}day,carrier,kind,parts\n");
            for row in v["by_day_and_carrier"].as_array().into_iter().flatten() {
                out.push_str(&format!(
                    "{},{},{},{}\n",
                    row["day"].as_str().unwrap_or(""),
                    row["carrier"].as_str().unwrap_or(""),
                    row["kind"].as_str().unwrap_or(""),
                    row["parts"]
                ));
            }
            for k in [
                "opening_balance",
                "topups",
                "charges",
                "refunds",
                "adjustments",
                "closing_balance",
            ] {
                out.push_str(&format!(",,{k},{}\n", v[k]));
            }
            ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], out).into_response()
        }
        (r, _) => respond(r, StatusCode::OK),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OptOutInput {
    number: String,
}

async fn opt_out(s: &AppState, account: &str, number: &str, add: bool) -> Result<(), ApiError> {
    let cmd = Command::Account {
        request_id: None,
        account: account.to_string(),
        change: AccountCommand::OptOut {
            number: number.to_string(),
            add,
            at_ms: now_ms(),
        },
    };
    match smsgw_state::propose(&s.cluster, &cmd).await? {
        Committed::Account(AccountResponse::OptOut) => Ok(()),
        other => Err(ApiError::internal(format!("unexpected commit answer {other:?}"))),
    }
}

/// `GET /v1/optouts`.
pub async fn optouts(
    State(s): State<AppState>,
    h: HeaderMap,
    UrlQuery(q): UrlQuery<HashMap<String, String>>,
) -> Response {
    respond(
        async {
            let (_, account) = authenticate(&s, &h)?;
            let limit = limit(&q)?;
            let after = q.get("after").map(String::as_str).unwrap_or("");
            let view = s.fresh_view().await?;
            let page = view.accounts().opt_outs(&account.name, after, limit)?;
            let next = next_of(&page, limit, |(n, _)| n.clone());
            let items: Vec<Value> = page
                .iter()
                .map(|(n, at)| json!({"number": n, "since": zone::show(*at)}))
                .collect();
            Ok(json!({"items": items, "next": next}))
        }
        .await,
        StatusCode::OK,
    )
}

/// `POST /v1/optouts`.
pub async fn add_optout(State(s): State<AppState>, h: HeaderMap, body: Bytes) -> Response {
    respond(
        async {
            let (_, account) = authenticate(&s, &h)?;
            let o: OptOutInput = json_body(&body)?;
            let n = csvio::phone(&o.number)
                .map_err(|_| ApiError::InvalidNumber(o.number.chars().take(40).collect()))?;
            opt_out(&s, &account.name, &n, true).await?;
            Ok(json!({"number": n, "opted_out": true}))
        }
        .await,
        StatusCode::CREATED,
    )
}

/// `DELETE /v1/optouts/{number}`.
pub async fn remove_optout(State(s): State<AppState>, h: HeaderMap, Path(number): Path<String>) -> Response {
    respond(
        async {
            let (_, account) = authenticate(&s, &h)?;
            let n = csvio::phone(&number)
                .map_err(|_| ApiError::InvalidNumber(number.chars().take(40).collect()))?;
            opt_out(&s, &account.name, &n, false).await?;
            Ok(json!({"number": n, "opted_out": false}))
        }
        .await,
        StatusCode::OK,
    )
}

/// `GET /v1/admin/review`: jobs held by the content rules.
pub async fn review_list(
    State(s): State<AppState>,
    h: HeaderMap,
    UrlQuery(q): UrlQuery<HashMap<String, String>>,
) -> Response {
    respond(
        async {
            admin(&s, &h)?;
            let limit = limit(&q)?;
            let view = s.fresh_view().await?;
            let jobs = view.jobs();
            let mut items = Vec::new();
            for (id, account) in jobs.held(0, limit)? {
                let Some(job) = jobs.job(&account, id)? else {
                    continue;
                };
                let sample = jobs.chunk(id, 0)?.and_then(|c| c.first().map(|r| r.text.clone()));
                let mut v = super::jobs::show(&job, &[]);
                v["account"] = json!(account);
                v["sample_text"] = json!(sample);
                items.push(v);
            }
            Ok(json!({"items": items}))
        }
        .await,
        StatusCode::OK,
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Decision {
    decision: String,
    #[serde(default)]
    note: String,
}

/// `POST /v1/admin/review/{job}`: `{"decision": "approve"|"reject", "note"}`.
pub async fn review(
    State(s): State<AppState>,
    h: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    respond(
        async {
            admin(&s, &h)?;
            let d: Decision = json_body(&body)?;
            let approve = match d.decision.as_str() {
                "approve" => true,
                "reject" => false,
                other => {
                    return Err(ApiError::Invalid {
                        code: "invalid_decision",
                        message: format!("`decision` is approve or reject, not `{other}`"),
                    })
                }
            };
            let missing = || ApiError::Missing {
                what: "job",
                id: id.clone(),
            };
            let job: u64 = id.parse().map_err(|_| missing())?;
            let view = s.fresh_view().await?;
            let account = view
                .jobs()
                .held(job.saturating_sub(1), 1)?
                .into_iter()
                .find(|(j, _)| *j == job)
                .map(|(_, a)| a)
                .ok_or_else(missing)?;
            let cmd = Command::Job {
                request_id: None,
                account,
                change: JobCommand::Review {
                    job,
                    approve,
                    note: d.note,
                    at_ms: now_ms(),
                },
            };
            match smsgw_state::propose(&s.cluster, &cmd).await? {
                Committed::Job(JobResponse::Approved) => {
                    s.jobs_nudge.notify_one();
                    Ok(json!({"job": job, "decision": "approved"}))
                }
                Committed::Job(JobResponse::Cancelled { left }) => {
                    Ok(json!({"job": job, "decision": "rejected", "not_sent": left}))
                }
                Committed::Job(JobResponse::Refused { reason, .. }) => Err(ApiError::Conflict(reason)),
                other => Err(ApiError::internal(format!("unexpected commit answer {other:?}"))),
            }
        }
        .await,
        StatusCode::OK,
    )
}
