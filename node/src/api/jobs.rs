//! Group, template and scheduled sends: a `POST /v1/messages` that names
//! `to_groups`, `to_contacts`, `exclude_contacts`, `template`, `vars` or
//! `send_at` becomes a replicated job (see `smsgw_state::jobs`), answered
//! 202 with the job id, recipient count, parts and encodings once the job is
//! committed; the leader's runner accepts its messages in chunks, at once
//! or at `send_at`. `GET /v1/jobs[/{id}]` shows progress by status,
//! `DELETE /v1/jobs/{id}` cancels what has not been accepted. Every
//! recipient is checked (route, sender, text) before the job is stored, so
//! a job never fails half-way on input the request could have been told of.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use axum::extract::{Path, Query as UrlQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Value};
use smsgw_state::jobs::{JobCommand, JobRecord, JobResponse, JobSpec};
use smsgw_state::{Command, Response as Committed};

use super::book::{json_body, limit, next_of, num_param, respond};
use super::error::ApiError;
use super::messages::authenticate;
use super::state::{now_ms, AppState};
use super::submit::{self, SendRequest};
use crate::service::recipients::{self, Ask};
use crate::service::zone;

/// Furthest ahead a job may be scheduled.
const MAX_AHEAD_MS: u64 = 366 * 24 * 3600 * 1000;
/// The fields that make a send a job.
const JOB_FIELDS: [&str; 6] = [
    "to_groups",
    "to_contacts",
    "exclude_contacts",
    "template",
    "vars",
    "send_at",
];

/// Whether a `POST /v1/messages` body asks for a job.
pub fn is_job_request(body: &[u8]) -> bool {
    match serde_json::from_slice::<serde_json::Map<String, Value>>(body) {
        Ok(m) => JOB_FIELDS.iter().any(|f| m.contains_key(*f)),
        Err(_) => false,
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JobRequest {
    #[serde(default)]
    to: Vec<String>,
    text: Option<String>,
    priority: Option<String>,
    sender: Option<String>,
    client_ref: Option<String>,
    report: Option<bool>,
    #[serde(default)]
    to_groups: Vec<String>,
    #[serde(default)]
    to_contacts: Vec<u64>,
    #[serde(default)]
    exclude_contacts: Vec<u64>,
    template: Option<String>,
    #[serde(default)]
    vars: BTreeMap<String, String>,
    send_at: Option<String>,
}

/// `POST /v1/messages` for a job; `held` when a plain send must wait for
/// review.
pub async fn post(s: &AppState, h: &HeaderMap, body: &[u8], held: bool) -> Response {
    respond(create(s, h, body, held).await, StatusCode::ACCEPTED)
}

async fn create(s: &AppState, h: &HeaderMap, body: &[u8], held: bool) -> Result<Value, ApiError> {
    let (loaded, account) = authenticate(s, h)?;
    let req: JobRequest = json_body(body)?;
    let now = now_ms();
    let send_at_ms = match &req.send_at {
        None => None,
        Some(t) => {
            let at = zone::parse(t).ok_or_else(|| ApiError::Invalid {
                code: "invalid_send_at",
                message: format!("`send_at` `{t}` is not an RFC 3339 time (e.g. 2026-12-24T08:00:00+08:00)"),
            })?;
            if at < now || at > now + MAX_AHEAD_MS {
                return Err(ApiError::Invalid {
                    code: "invalid_send_at",
                    message: format!(
                        "`send_at` {} must be between now ({}) and a year ahead",
                        zone::show(at),
                        zone::show(now)
                    ),
                });
            }
            Some(at)
        }
    };
    let book = s.fresh_view().await?.book();
    let ask = Ask {
        to: &req.to,
        to_groups: &req.to_groups,
        to_contacts: &req.to_contacts,
        exclude_contacts: &req.exclude_contacts,
        text: req.text.as_deref(),
        template: req.template.as_deref(),
        vars: &req.vars,
    };
    let list = recipients::resolve(&book, &account.name, &ask)?;
    let held = held | super::billing::content(&loaded, &account, list.iter().map(|r| r.text.as_str()))?;
    let view = smsgw_state::local_view(&s.cluster);
    let (mut list, opted_out) = super::billing::without_opt_outs(&view, &account.name, list, |r| &r.to)?;
    if list.is_empty() {
        return Err(ApiError::Invalid {
            code: "no_recipients",
            message: format!("every recipient opted out of this account's messages: {opted_out:?}"),
        });
    }
    // The same checks as a plain send, for every recipient, before storing.
    let probe = SendRequest {
        to: vec![String::new()],
        text: String::new(),
        priority: req.priority.clone(),
        sender: req.sender.clone(),
        client_ref: req.client_ref.clone(),
        report: req.report,
    };
    let mut v = submit::validate(
        &SendRequest {
            to: vec!["10000".into()],
            text: "x".into(),
            ..probe
        },
        &account,
        &loaded.doc,
    )?;
    v.request_id = None;
    let (mut parts, mut encodings) = (0u64, BTreeSet::new());
    for r in &mut list {
        if r.text.chars().count() > submit::MAX_TEXT_CHARS {
            return Err(ApiError::TextTooLong(format!(
                "the text for {} has more than {} characters",
                r.to,
                submit::MAX_TEXT_CHARS
            )));
        }
        let (_, a) = submit::build_one(
            &r.to,
            &r.text,
            req.sender.as_deref(),
            &v,
            &account.name,
            &loaded.doc,
            &loaded.router,
            0,
            now,
        )?;
        parts += u64::from(a.parts);
        r.parts = a.parts;
        encodings.insert(a.encoding.name());
    }
    let spec = JobSpec {
        priority: v.priority.name().to_string(),
        sender: req.sender.clone(),
        report: req.report,
        template: req.template.clone(),
        groups: req.to_groups.clone(),
        client_ref: req.client_ref.clone(),
        created_ms: now,
        send_at_ms,
        held,
    };
    let n = list.len() as u64;
    s.limiter.take_daily(&account, n)?;
    let cmd = Command::Job {
        request_id: req
            .client_ref
            .as_ref()
            .map(|r| format!("job/{}/{r}", account.name)),
        account: account.name.clone(),
        change: JobCommand::Create {
            spec,
            recipients: list,
        },
    };
    let cmd = super::billing::charged(&account, parts, now, cmd);
    // Up to 100,000 recipients pass the entry bound: staged then, under
    // an id of its own.
    let stage = s.next_ids(1).first().map(|id| format!("job.{id}"));
    let committed = smsgw_state::staging::propose_bounded_as(&s.cluster, cmd, now, stage).await;
    let id = match committed {
        Ok(Committed::Job(JobResponse::Created { id })) => id,
        Ok(Committed::Refused(r)) => {
            s.limiter.give_back_daily(&account, n);
            return Err(super::billing::refusal(r));
        }
        Ok(Committed::Replayed(first)) => match *first {
            Committed::Job(JobResponse::Created { id }) => id,
            other => return Err(ApiError::Internal(format!("replayed job had answer {other:?}"))),
        },
        Ok(other) => {
            s.limiter.give_back_daily(&account, n);
            return Err(ApiError::Internal(format!("unexpected commit answer {other:?}")));
        }
        Err(e) => {
            s.limiter.give_back_daily(&account, n);
            return Err(e.into());
        }
    };
    s.jobs_nudge.notify_one();
    metrics::counter!("smsgw_jobs_created_total").increment(1);
    let mut answer = json!({
        "job": id,
        "recipients": n,
        "parts": parts,
        "encodings": encodings,
        "scheduled": send_at_ms.is_some(),
        "send_at": send_at_ms.map(zone::show),
        "held_for_review": held,
    });
    if !opted_out.is_empty() {
        let rejected: Vec<Value> = opted_out
            .iter()
            .map(|n| json!({"to": n, "status": "REJECTED", "reason": "opted_out"}))
            .collect();
        answer["rejected"] = json!(rejected);
    }
    Ok(answer)
}

pub(crate) fn show(job: &JobRecord, outcomes: &[(String, u64)]) -> Value {
    let finished: u64 = outcomes.iter().map(|(_, n)| n).sum();
    let by_state: BTreeMap<&str, u64> = outcomes
        .iter()
        .map(|(s, n)| (crate::api::messages::state_name(s), *n))
        .fold(BTreeMap::new(), |mut m, (s, n)| {
            *m.entry(s).or_insert(0) += n;
            m
        });
    let late_ms = job.fired_at_ms.map(|f| f.saturating_sub(job.due_ms()));
    json!({
        "id": job.id,
        "status": job.status.name(),
        "recipients": job.recipients,
        "accepted": job.accepted,
        "parts": job.parts,
        "not_sent": if job.cancelled_at_ms.is_some() { job.recipients - job.accepted } else { 0 },
        "in_progress": job.accepted.saturating_sub(finished),
        "by_status": by_state,
        "priority": job.spec.priority,
        "template": job.spec.template,
        "groups": job.spec.groups,
        "client_ref": job.spec.client_ref,
        "created_at": zone::show(job.spec.created_ms),
        "send_at": job.spec.send_at_ms.map(zone::show),
        "fired_at": job.fired_at_ms.map(zone::show),
        "late_ms": late_ms,
        "cancelled_at": job.cancelled_at_ms.map(zone::show),
        "review": job.review,
        "charged": job.charged,
    })
}

fn parse_id(id: &str) -> Result<u64, ApiError> {
    id.parse().map_err(|_| ApiError::Missing {
        what: "job",
        id: id.chars().take(40).collect(),
    })
}

async fn one(s: &AppState, account: &str, id: u64) -> Result<Value, ApiError> {
    let jobs = s.fresh_view().await?.jobs();
    let job = jobs.job(account, id)?.ok_or(ApiError::Missing {
        what: "job",
        id: id.to_string(),
    })?;
    Ok(show(&job, &jobs.outcomes(id)?))
}

pub async fn get(State(s): State<AppState>, h: HeaderMap, Path(id): Path<String>) -> Response {
    respond(
        async {
            let (_, account) = authenticate(&s, &h)?;
            one(&s, &account.name, parse_id(&id)?).await
        }
        .await,
        StatusCode::OK,
    )
}

pub async fn list(
    State(s): State<AppState>,
    h: HeaderMap,
    UrlQuery(q): UrlQuery<HashMap<String, String>>,
) -> Response {
    respond(
        async {
            let (_, account) = authenticate(&s, &h)?;
            let limit = limit(&q)?;
            let jobs = s.fresh_view().await?.jobs();
            let page = jobs.jobs(&account.name, num_param(&q, "after")?.unwrap_or(0), limit)?;
            let next = next_of(&page, limit, |j| j.id);
            let items = page
                .iter()
                .map(|j| Ok(show(j, &jobs.outcomes(j.id)?)))
                .collect::<Result<Vec<_>, ApiError>>()?;
            Ok(json!({ "items": items, "next": next }))
        }
        .await,
        StatusCode::OK,
    )
}

/// `DELETE /v1/jobs/{id}`: what has not been accepted is not sent.
pub async fn cancel(State(s): State<AppState>, h: HeaderMap, Path(id): Path<String>) -> Response {
    respond(
        async {
            let (_, account) = authenticate(&s, &h)?;
            let id = parse_id(&id)?;
            let cmd = Command::Job {
                request_id: None,
                account: account.name.clone(),
                change: JobCommand::Cancel {
                    job: id,
                    at_ms: now_ms(),
                },
            };
            match smsgw_state::propose(&s.cluster, &cmd).await? {
                Committed::Job(JobResponse::Cancelled { left }) => {
                    s.jobs_nudge.notify_one();
                    Ok(json!({ "cancelled": id, "not_sent": left }))
                }
                Committed::Job(JobResponse::Refused { missing: true, .. }) => Err(ApiError::Missing {
                    what: "job",
                    id: id.to_string(),
                }),
                Committed::Job(JobResponse::Refused { reason, .. }) => Err(ApiError::Conflict(reason)),
                other => Err(ApiError::Internal(format!("unexpected commit answer {other:?}"))),
            }
        }
        .await,
        StatusCode::OK,
    )
}
