//! `/v1/alarm/officers`, `/v1/alarm/groups`, `/v1/alarm/rules` and
//! `/v1/alarm/stats`: the duty roster (officers with their phones and
//! optional API keys, duty groups with Beijing-time shifts), forwarding
//! rules, and the desk's statistics. Dispatchers change the roster; an
//! officer may only set his own duty. An officer's key is shown once, when
//! it is made, and stored only as its SHA-256.

use std::collections::{BTreeMap, HashMap};

use axum::body::Bytes;
use axum::extract::{Path, Query as UrlQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use rand::RngCore;
use serde::Deserialize;
use serde_json::{json, Value};
use smsgw_config::{normalize_number, ApiKeyHash};
use smsgw_state::alarm::stats::{quantiles, BUCKETS_SECS};
use smsgw_state::alarm::{
    on_duty_at, rule_key, AlarmCommand, DutyGroup, Officer, Pick, Rule, Shift, Target, Via,
};

use super::alarm::{caller, commit, Caller};
use super::book::{json_body, respond};
use super::error::ApiError;
use super::state::{now_ms, AppState};
use crate::service::zone;

fn dispatcher(s: &AppState, h: &HeaderMap) -> Result<(), ApiError> {
    match caller(s, h)?.1 {
        Caller::Dispatcher => Ok(()),
        Caller::Officer(_) => Err(ApiError::Forbidden(
            "only a dispatcher may change the roster".into(),
        )),
    }
}

fn invalid(message: String) -> ApiError {
    ApiError::Invalid {
        code: "invalid_alarm_change",
        message,
    }
}

/// `GET /v1/alarm/officers`: with whether each is on duty now.
pub async fn officers(State(s): State<AppState>, h: HeaderMap) -> Response {
    let r = async {
        caller(&s, &h)?;
        let view = s.fresh_view().await?.alarm();
        let groups = view.groups()?;
        let now = now_ms();
        let list: Vec<Value> = view
            .officers()?
            .iter()
            .map(|o| {
                json!({
                    "badge": o.badge, "name": o.name, "phone": o.phone, "open_cases": o.open_cases,
                    "duty": match o.duty { Some(true) => "on", Some(false) => "off", None => "shifts" },
                    "on_duty": on_duty_at(o, &groups, now), "has_key": o.key_sha256.is_some(),
                })
            })
            .collect();
        Ok(json!({ "officers": list }))
    }
    .await;
    respond(r, StatusCode::OK)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OfficerInput {
    badge: String,
    name: String,
    phone: String,
    /// Make him an API key (shown once in the answer).
    #[serde(default)]
    key: bool,
}

/// `POST /v1/alarm/officers`: add or replace an officer.
pub async fn put_officer(State(s): State<AppState>, h: HeaderMap, body: Bytes) -> Response {
    let r = async {
        dispatcher(&s, &h)?;
        let i: OfficerInput = json_body(&body)?;
        let badge = i.badge.trim().to_ascii_uppercase();
        if badge.is_empty() || badge.len() > 32 || badge.contains(char::is_whitespace) {
            return Err(invalid("`badge` is 1 to 32 characters without spaces".into()));
        }
        if !super::submit::valid_number(i.phone.trim()) {
            return Err(ApiError::InvalidNumber(i.phone));
        }
        let key = i.key.then(|| {
            let mut b = [0u8; 24];
            rand::thread_rng().fill_bytes(&mut b);
            format!("ok_{}", b.iter().map(|x| format!("{x:02x}")).collect::<String>())
        });
        let officer = Officer {
            badge: badge.clone(),
            name: i.name.trim().to_string(),
            phone: normalize_number(i.phone.trim()),
            duty: None,
            open_cases: 0,
            key_sha256: key.as_deref().map(|k| ApiKeyHash::of(k).sha256),
        };
        commit(&s, AlarmCommand::PutOfficer(officer.clone())).await?;
        let mut out = json!({ "badge": badge, "name": officer.name, "phone": officer.phone });
        if let Some(k) = key {
            out["key"] = json!(k);
        }
        Ok(out)
    }
    .await;
    respond(r, StatusCode::CREATED)
}

/// `DELETE /v1/alarm/officers/{badge}`.
pub async fn remove_officer(State(s): State<AppState>, h: HeaderMap, Path(badge): Path<String>) -> Response {
    let r = async {
        dispatcher(&s, &h)?;
        let badge = badge.to_ascii_uppercase();
        commit(&s, AlarmCommand::RemoveOfficer { badge: badge.clone() }).await?;
        Ok(json!({ "removed": badge }))
    }
    .await;
    respond(r, StatusCode::OK)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DutyInput {
    /// `on`, `off` or `shifts`.
    duty: String,
}

/// `POST /v1/alarm/officers/{badge}/duty`: the dispatcher or the officer himself.
pub async fn duty(
    State(s): State<AppState>,
    h: HeaderMap,
    Path(badge): Path<String>,
    body: Bytes,
) -> Response {
    let r = async {
        let badge = badge.to_ascii_uppercase();
        match caller(&s, &h)?.1 {
            Caller::Officer(b) if b != badge => {
                return Err(ApiError::Forbidden("an officer sets only his own duty".into()))
            }
            _ => {}
        }
        let i: DutyInput = json_body(&body)?;
        let on = match i.duty.as_str() {
            "on" => Some(true),
            "off" => Some(false),
            "shifts" => None,
            other => return Err(invalid(format!("`duty` is on, off or shifts, not `{other}`"))),
        };
        commit(
            &s,
            AlarmCommand::Duty {
                badge: badge.clone(),
                on,
                via: Via::Api,
            },
        )
        .await?;
        Ok(json!({ "badge": badge, "duty": i.duty }))
    }
    .await;
    respond(r, StatusCode::OK)
}

fn show_shift(s: &Shift) -> String {
    format!(
        "{:02}:{:02}-{:02}:{:02}",
        s.start_min / 60,
        s.start_min % 60,
        s.end_min / 60,
        s.end_min % 60
    )
}

/// `08:00-20:00` (Beijing time; `20:00-08:00` crosses midnight).
fn parse_shift(s: &str) -> Option<Shift> {
    let (a, b) = s.split_once('-')?;
    let min = |t: &str| -> Option<u16> {
        let (h, m) = t.trim().split_once(':')?;
        let (h, m) = (h.parse::<u16>().ok()?, m.parse::<u16>().ok()?);
        (h <= 24 && m < 60 && h * 60 + m <= 1440).then_some(h * 60 + m)
    };
    let (start, end) = (min(a)?, min(b)?);
    (start < 1440 && start != end).then_some(Shift {
        start_min: start,
        end_min: end,
    })
}

/// `GET /v1/alarm/groups`.
pub async fn groups(State(s): State<AppState>, h: HeaderMap) -> Response {
    let r = async {
        caller(&s, &h)?;
        let view = s.fresh_view().await?.alarm();
        let list: Vec<Value> = view
            .groups()?
            .iter()
            .map(|g| {
                let shifts: Vec<String> = g.shifts.iter().map(show_shift).collect();
                json!({ "name": g.name, "leader": g.leader, "members": g.members, "shifts": shifts })
            })
            .collect();
        Ok(json!({ "groups": list }))
    }
    .await;
    respond(r, StatusCode::OK)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupInput {
    name: String,
    leader: Option<String>,
    members: Vec<String>,
    #[serde(default)]
    shifts: Vec<String>,
}

/// `POST /v1/alarm/groups`: add or replace a duty group.
pub async fn put_group(State(s): State<AppState>, h: HeaderMap, body: Bytes) -> Response {
    let r = async {
        dispatcher(&s, &h)?;
        let i: GroupInput = json_body(&body)?;
        let mut shifts = Vec::new();
        for sh in &i.shifts {
            shifts.push(
                parse_shift(sh).ok_or_else(|| invalid(format!("shift `{sh}` is not like 08:00-20:00")))?,
            );
        }
        let g = DutyGroup {
            name: i.name.trim().to_string(),
            leader: i.leader.map(|l| l.to_ascii_uppercase()),
            members: i.members.iter().map(|m| m.to_ascii_uppercase()).collect(),
            shifts,
        };
        commit(&s, AlarmCommand::PutGroup(g.clone())).await?;
        Ok(json!({ "name": g.name }))
    }
    .await;
    respond(r, StatusCode::CREATED)
}

/// `DELETE /v1/alarm/groups/{name}`.
pub async fn remove_group(State(s): State<AppState>, h: HeaderMap, Path(name): Path<String>) -> Response {
    let r = async {
        dispatcher(&s, &h)?;
        commit(&s, AlarmCommand::RemoveGroup { name: name.clone() }).await?;
        Ok(json!({ "removed": name }))
    }
    .await;
    respond(r, StatusCode::OK)
}

fn show_rule(r: &Rule) -> Value {
    let (target, officer, group, pick) = match &r.target {
        Target::Officer(b) => ("officer", Some(b.clone()), None, None),
        Target::WholeGroup(g) => ("whole_group", None, Some(g.clone()), None),
        Target::OneOf { group, pick } => (
            "one_of",
            None,
            group.clone(),
            Some(match pick {
                Pick::RoundRobin => "round_robin",
                Pick::FewestOpen => "fewest_open",
            }),
        ),
    };
    json!({ "line": r.line, "keyword": r.keyword, "target": target, "officer": officer, "group": group, "pick": pick })
}

/// `GET /v1/alarm/rules`.
pub async fn rules(State(s): State<AppState>, h: HeaderMap) -> Response {
    let r = async {
        caller(&s, &h)?;
        let view = s.fresh_view().await?.alarm();
        let list: Vec<Value> = view.rules()?.iter().map(show_rule).collect();
        Ok(json!({ "rules": list }))
    }
    .await;
    respond(r, StatusCode::OK)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleInput {
    line: Option<String>,
    keyword: Option<String>,
    /// `officer`, `one_of` or `whole_group`.
    target: String,
    officer: Option<String>,
    group: Option<String>,
    /// For `one_of`: `round_robin` (default) or `fewest_open`.
    pick: Option<String>,
}

/// `POST /v1/alarm/rules`: add or replace the rule of a line and keyword.
pub async fn put_rule(State(s): State<AppState>, h: HeaderMap, body: Bytes) -> Response {
    let r = async {
        dispatcher(&s, &h)?;
        let i: RuleInput = json_body(&body)?;
        let need = |v: Option<String>, f: &str| {
            v.ok_or_else(|| invalid(format!("target `{}` needs `{f}`", i.target)))
        };
        let target = match i.target.as_str() {
            "officer" => Target::Officer(need(i.officer.clone(), "officer")?.to_ascii_uppercase()),
            "whole_group" => Target::WholeGroup(need(i.group.clone(), "group")?),
            "one_of" => Target::OneOf {
                group: i.group.clone(),
                pick: match i.pick.as_deref() {
                    None | Some("round_robin") => Pick::RoundRobin,
                    Some("fewest_open") => Pick::FewestOpen,
                    Some(o) => {
                        return Err(invalid(format!(
                            "`pick` is round_robin or fewest_open, not `{o}`"
                        )))
                    }
                },
            },
            o => {
                return Err(invalid(format!(
                    "`target` is officer, one_of or whole_group, not `{o}`"
                )))
            }
        };
        let rule = Rule {
            line: i.line,
            keyword: i.keyword.filter(|k| !k.trim().is_empty()),
            target,
            turn: 0,
        };
        commit(
            &s,
            AlarmCommand::PutRule {
                rule: rule.clone(),
                by: smsgw_state::alarm::DISPATCHER.into(),
                via: Via::Api,
            },
        )
        .await?;
        Ok(show_rule(&rule))
    }
    .await;
    respond(r, StatusCode::CREATED)
}

/// `DELETE /v1/alarm/rules?line=&keyword=`.
pub async fn remove_rule(
    State(s): State<AppState>,
    h: HeaderMap,
    UrlQuery(q): UrlQuery<HashMap<String, String>>,
) -> Response {
    let r = async {
        dispatcher(&s, &h)?;
        let key = rule_key(
            q.get("line").map(String::as_str),
            q.get("keyword").map(String::as_str),
        );
        commit(&s, AlarmCommand::RemoveRule { key }).await?;
        Ok(json!({ "removed": { "line": q.get("line"), "keyword": q.get("keyword") } }))
    }
    .await;
    respond(r, StatusCode::OK)
}

/// `GET /v1/alarm/stats?period=day|week|month&from=&until=`: cases by line
/// and status, escalations, time to accept and to close (p50/p90, the
/// upper bound of the bucket), and accepts and closes by officer.
pub async fn stats(
    State(s): State<AppState>,
    h: HeaderMap,
    UrlQuery(q): UrlQuery<HashMap<String, String>>,
) -> Response {
    let r = async {
        caller(&s, &h)?;
        let span = super::stats::span(&q)?;
        let (d0, d1) = span.days;
        let counters = s.fresh_view().await?.alarm().stats(d0, d1)?;
        type Buckets = [u64; BUCKETS_SECS.len()];
        let mut lines: BTreeMap<(String, String), BTreeMap<String, u64>> = BTreeMap::new();
        let mut durations: BTreeMap<(String, String, String), Buckets> = BTreeMap::new();
        let mut officers: BTreeMap<(String, String), BTreeMap<String, u64>> = BTreeMap::new();
        for ((day, dim, name, event), n) in counters {
            let per = zone::period_of(zone::date_of(day), span.period);
            match dim.as_str() {
                "line" => *lines.entry((per, name)).or_default().entry(event).or_default() += n,
                "officer" => *officers.entry((per, name)).or_default().entry(event).or_default() += n,
                "accept_ms" | "close_ms" => {
                    if let Ok(i) = event.parse::<usize>() {
                        let b = durations.entry((per, name, dim)).or_insert([0; BUCKETS_SECS.len()]);
                        if let Some(slot) = b.get_mut(i) {
                            *slot += n;
                        }
                    }
                }
                _ => {}
            }
        }
        let rows: Vec<Value> = lines
            .into_iter()
            .map(|((per, line), counts)| {
                let q = |d: &str| durations.get(&(per.clone(), line.clone(), d.to_string())).map(quantiles).unwrap_or_default();
                json!({ "period": per, "line": line, "counts": counts, "accept": q("accept_ms"), "close": q("close_ms") })
            })
            .collect();
        let by_officer: Vec<Value> = officers
            .into_iter()
            .map(|((per, badge), counts)| json!({ "period": per, "badge": badge, "counts": counts }))
            .collect();
        Ok(json!({
            "period": span.period, "from": span.from.to_string(), "until": span.until.to_string(),
            "rows": rows, "officers": by_officer,
        }))
    }
    .await;
    respond(r, StatusCode::OK)
}
