//! `/v1/alarm/cases` and `/v1/alarm/events`: the 110 desk's cases for
//! dispatchers (the desk account's keys, or an admin key) and officers
//! (their own keys: they see and change only the cases given to them).
//! Every change is the same `CaseOp` an officer's SMS makes, committed
//! before it is answered. Cases are read from indexes (the triage queue,
//! a day's cases), never by a scan.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query as UrlQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};
use smsgw_config::ApiKeyHash;
use smsgw_state::alarm::{AlarmCommand, AlarmResponse, Case, CaseOp, CaseStatus, Via};
use smsgw_state::Command;

use super::accounts::bearer;
use super::book::{json_body, limit, respond};
use super::error::ApiError;
use super::state::{now_ms, AppState, Loaded};
use crate::service::zone;

/// Who is calling the desk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Caller {
    /// The desk account's key or an admin key: every case.
    Dispatcher,
    /// An officer's key: his cases.
    Officer(String),
}

impl Caller {
    /// The name steps record.
    pub(crate) fn by(&self) -> &str {
        match self {
            Caller::Dispatcher => smsgw_state::alarm::DISPATCHER,
            Caller::Officer(b) => b,
        }
    }

    /// Whether the caller may see `case`.
    pub(crate) fn sees(&self, case: &Case) -> bool {
        match self {
            Caller::Dispatcher => true,
            Caller::Officer(b) => case.officer.as_deref() == Some(b) || case.tried.iter().any(|t| t == b),
        }
    }
}

/// The caller of a desk endpoint, with the document in force.
pub(crate) fn caller(state: &AppState, h: &HeaderMap) -> Result<(Arc<Loaded>, Caller), ApiError> {
    let session = crate::console::session::principal(state, h)?;
    let key = match session {
        Some(_) => "",
        None => bearer(h).ok_or(ApiError::Unauthorized)?,
    };
    let loaded = state.config()?;
    let desk = &loaded.doc.alarm;
    if !desk.enabled() {
        return Err(ApiError::Missing {
            what: "alarm desk",
            id: "[alarm] lines".into(),
        });
    }
    if let Some(p) = session {
        let who = crate::console::desk::caller_of(&p, desk.account.as_deref())?;
        return Ok((loaded, who));
    }
    if loaded.doc.admin.admits(key) {
        return Ok((loaded, Caller::Dispatcher));
    }
    if let Some(a) = loaded.doc.account_by_key(key) {
        if desk.account.as_deref() == Some(a.name.as_str()) {
            return Ok((loaded, Caller::Dispatcher));
        }
        return Err(ApiError::Forbidden(format!(
            "account `{}` is not the alarm desk's account",
            a.name
        )));
    }
    let sha = ApiKeyHash::of(key).sha256;
    let view = smsgw_state::local_view(&state.cluster);
    match view.alarm().officer_by_key(&sha)? {
        Some(o) => Ok((loaded, Caller::Officer(o.badge))),
        None => {
            smsgw_raft::network::auth::record_failure("http", &"api client", &"unknown API key");
            Err(ApiError::Unauthorized)
        }
    }
}

/// A case as the API shows it (times also in Beijing time).
pub(crate) fn show(c: &Case) -> Value {
    let mut v = serde_json::to_value(c).unwrap_or(Value::Null);
    v["text"] = json!(c.first_text());
    v["created_at"] = json!(zone::show(c.created_ms));
    v["accepted_at"] = json!(c.accepted_ms.map(zone::show));
    v["closed_at"] = json!(c.closed_ms.map(zone::show));
    v
}

/// Proposes `change` and maps a refusal to its API error.
pub(crate) async fn commit(state: &AppState, change: AlarmCommand) -> Result<Option<Case>, ApiError> {
    let cmd = Command::Alarm {
        at_ms: now_ms(),
        change,
    };
    match smsgw_state::propose(&state.cluster, &cmd).await? {
        smsgw_state::Response::Alarm(AlarmResponse::Done(c)) => Ok(c.map(|c| *c)),
        smsgw_state::Response::Alarm(AlarmResponse::Refused { code, message }) => Err(match code.as_str() {
            "not_found" => ApiError::NotFound(message),
            "conflict" => ApiError::Conflict(message),
            "forbidden" => ApiError::Forbidden(message),
            _ => ApiError::Invalid {
                code: "invalid_alarm_change",
                message,
            },
        }),
        other => Err(ApiError::Internal(format!("unexpected commit answer {other:?}"))),
    }
}

/// `GET /v1/alarm/cases?status=open|all|NEW|…&line=&day=YYYY-MM-DD&limit=`.
pub async fn list(
    State(s): State<AppState>,
    h: HeaderMap,
    UrlQuery(q): UrlQuery<HashMap<String, String>>,
) -> Response {
    let r = async {
        let (_, who) = caller(&s, &h)?;
        let limit = limit(&q)?;
        let status = q.get("status").map_or("open", String::as_str);
        let wanted = match status {
            "open" | "all" => None,
            other => Some(CaseStatus::parse(other).ok_or_else(|| {
                ApiError::InvalidParameter(format!("`status` is open, all or a case status, not `{other}`"))
            })?),
        };
        let view = s.fresh_view().await?.alarm();
        let cases = match q.get("day") {
            Some(d) => {
                let date = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
                    ApiError::InvalidParameter(format!("`day` must be a date like 2026-12-03, not `{d}`"))
                })?;
                let ymd = smsgw_state::stats::ymd(zone::day_of(date));
                view.day_cases(ymd, 10_000)?
            }
            None if status == "open" || wanted.is_some_and(CaseStatus::is_open) => view.queue(10_000)?,
            None => {
                let today = smsgw_state::stats::ymd(smsgw_state::stats::day(now_ms()));
                view.day_cases(today, 10_000)?
            }
        };
        let shown: Vec<Value> = cases
            .iter()
            .filter(|c| who.sees(c))
            .filter(|c| status != "open" || c.status.is_open())
            .filter(|c| wanted.is_none_or(|w| c.status == w))
            .filter(|c| q.get("line").is_none_or(|l| &c.line == l))
            .take(limit)
            .map(show)
            .collect();
        Ok(json!({ "cases": shown }))
    }
    .await;
    respond(r, StatusCode::OK)
}

/// `GET /v1/alarm/cases/{id}`.
pub async fn get(State(s): State<AppState>, h: HeaderMap, Path(id): Path<String>) -> Response {
    let r = async {
        let (_, who) = caller(&s, &h)?;
        let view = s.fresh_view().await?.alarm();
        match view.case(&id.to_ascii_uppercase())? {
            Some(c) if who.sees(&c) => Ok(show(&c)),
            _ => Err(ApiError::Missing { what: "case", id }),
        }
    }
    .await;
    respond(r, StatusCode::OK)
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ActInput {
    badge: Option<String>,
    note: Option<String>,
    status: Option<String>,
    of: Option<String>,
    rank: Option<u16>,
}

fn via(h: &HeaderMap) -> Via {
    match h.get("x-smsgw-via").and_then(|v| v.to_str().ok()) {
        Some("web") => Via::Web,
        _ => Via::Api,
    }
}

fn need<T>(v: Option<T>, field: &str, action: &str) -> Result<T, ApiError> {
    v.ok_or_else(|| ApiError::Invalid {
        code: "missing_field",
        message: format!("`{action}` needs `{field}`"),
    })
}

/// `POST /v1/alarm/cases/{id}/{action}`: accept, close, transfer, note, mark, rank.
pub async fn act(
    State(s): State<AppState>,
    h: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let r = async {
        let (loaded, who) = caller(&s, &h)?;
        let input: ActInput = if body.is_empty() {
            ActInput::default()
        } else {
            json_body(&body)?
        };
        let case = id.to_ascii_uppercase();
        let dispatcher_only = |what: &str| match who {
            Caller::Dispatcher => Ok(()),
            Caller::Officer(_) => Err(ApiError::Forbidden(format!("only a dispatcher may {what}"))),
        };
        let op = match action.as_str() {
            "accept" => CaseOp::Accept {
                case,
                badge: match &who {
                    Caller::Officer(b) => b.clone(),
                    Caller::Dispatcher => need(input.badge, "badge", "accept")?,
                },
            },
            "close" => CaseOp::Close {
                case,
                note: input.note.unwrap_or_default(),
            },
            "transfer" => CaseOp::Transfer {
                case,
                badge: need(input.badge, "badge", "transfer")?,
            },
            "note" => CaseOp::Note {
                case,
                note: need(input.note, "note", "note")?,
            },
            "mark" => {
                dispatcher_only("mark a case")?;
                let status = need(input.status, "status", "mark")?;
                let status = CaseStatus::parse(&status)
                    .filter(|s| matches!(s, CaseStatus::Duplicate | CaseStatus::Invalid))
                    .ok_or_else(|| ApiError::Invalid {
                        code: "invalid_alarm_change",
                        message: format!("`status` is DUPLICATE or INVALID, not `{status}`"),
                    })?;
                CaseOp::Mark {
                    case,
                    status,
                    of: input.of.map(|o| o.to_ascii_uppercase()),
                }
            }
            "rank" => {
                dispatcher_only("re-rank a case")?;
                CaseOp::Rank {
                    case,
                    rank: need(input.rank, "rank", "rank")?,
                }
            }
            other => {
                return Err(ApiError::NotFound(format!(
                    "no case action `{other}`: accept, close, transfer, note, mark or rank"
                )))
            }
        };
        let change = AlarmCommand::Act {
            by: who.by().to_string(),
            via: via(&h),
            op,
            policy: crate::alarm::policy(&loaded.doc.alarm),
        };
        let c = commit(&s, change).await?;
        c.map(|c| show(&c))
            .ok_or_else(|| ApiError::Internal("the change returned no case".into()))
    }
    .await;
    respond(r, StatusCode::OK)
}

/// How often a live view looks at the change log.
const EVENTS_POLL: Duration = Duration::from_millis(200);

/// `GET /v1/alarm/events`: new and changed cases as server-sent events
/// (`event: case`, `id:` the change sequence, data the case), from
/// `Last-Event-ID` (or `?after=`) or from now. Each node serves it from its
/// own applied state.
pub async fn events(
    State(s): State<AppState>,
    h: HeaderMap,
    UrlQuery(q): UrlQuery<HashMap<String, String>>,
) -> Response {
    let who = match caller(&s, &h) {
        Ok((_, w)) => w,
        Err(e) => return e.into_response(),
    };
    let view = smsgw_state::local_view(&s.cluster).alarm();
    let now = view
        .counter(smsgw_state::alarm::keys::counter::CHANGE_SEQ)
        .unwrap_or(0);
    let from = h
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .or(q.get("after").map(String::as_str))
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(now);
    let stream = futures::stream::unfold(
        (s, who, from, Vec::<Event>::new()),
        |(s, who, mut after, mut ready)| async move {
            loop {
                if let Some(e) = ready.pop() {
                    return Some((Ok::<Event, std::convert::Infallible>(e), (s, who, after, ready)));
                }
                tokio::time::sleep(EVENTS_POLL).await;
                let view = smsgw_state::local_view(&s.cluster).alarm();
                let Ok(changes) = view.changes(after, 500) else {
                    continue;
                };
                for (seq, id) in changes {
                    after = seq;
                    if let Ok(Some(c)) = view.case(&id) {
                        if who.sees(&c) {
                            ready.push(
                                Event::default()
                                    .event("case")
                                    .id(seq.to_string())
                                    .data(show(&c).to_string()),
                            );
                        }
                    }
                }
                ready.reverse();
            }
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::default()).into_response()
}
