//! Cases in apply: saving a case with every index it is in (triage queue,
//! officer's cases, timers, statistics, change log), the outbox, and the
//! steps of the lifecycle NEW → DISPATCHED → ACCEPTED → CLOSED (or
//! DUPLICATE / INVALID): dispatch by rule, escalation, and the changes
//! people make. Deterministic: times come from the command.

use smsgw_raft::{ApplyError, Tx};

use super::roster;
use super::{keys, stats};
use super::{
    AlarmResponse, Case, CaseOp, CaseStatus, OutKind, Outgoing, Policy, Step, Via, CHANGES_KEPT, MAX_STEPS,
};

/// Who acts for the desk as a whole (may act on any case).
pub const DISPATCHER: &str = "dispatcher";

pub(super) fn load(tx: &Tx<'_>, id: &str) -> Result<Option<Case>, ApplyError> {
    tx.get(&keys::case(id))
}

fn counter(tx: &mut Tx<'_>, name: &str, by: i64) -> Result<u64, ApplyError> {
    tx.add(&keys::counter(name), by)
}

/// Stores `after` (which was `before`) and keeps every index in step.
pub(super) fn save(tx: &mut Tx<'_>, before: Option<&Case>, after: &Case) -> Result<(), ApplyError> {
    let was_open = before.is_some_and(|b| b.status.is_open());
    let is_open = after.status.is_open();
    if let Some(b) = before.filter(|b| b.status.is_open()) {
        tx.remove(keys::queued(b.rank, b.created_ms, &b.id));
        if let Some(o) = &b.officer {
            tx.remove(keys::with_officer_case(o, &b.id));
            roster::count_open(tx, o, -1)?;
        }
    }
    if let Some(b) = before {
        if let Some(d) = b.ack_deadline_ms {
            tx.remove(keys::escalation(d, &b.id));
        }
        if let Some(d) = b.open_deadline_ms {
            tx.remove(keys::overdue(d, &b.id));
        }
    }
    if is_open {
        tx.put(keys::queued(after.rank, after.created_ms, &after.id), &())?;
        if let Some(o) = &after.officer {
            tx.put(keys::with_officer_case(o, &after.id), &())?;
            roster::count_open(tx, o, 1)?;
        }
        if let Some(d) = after.ack_deadline_ms {
            tx.put(keys::escalation(d, &after.id), &())?;
        }
        if let Some(d) = after.open_deadline_ms {
            tx.put(keys::overdue(d, &after.id), &())?;
        }
    }
    match before {
        None => {
            stats::created(tx, after)?;
            let mut lines: Vec<String> = tx
                .get(&keys::counter(&keys::counter::lines()))?
                .unwrap_or_default();
            if !lines.contains(&after.line) {
                lines.push(after.line.clone());
                tx.put(keys::counter(&keys::counter::lines()), &lines)?;
            }
        }
        Some(b) => stats::moved(tx, after, b.status)?,
    }
    if before.is_none_or(|b| b.status != after.status) {
        counter(tx, &keys::counter::reached(&after.line, after.status.name()), 1)?;
    }
    match (was_open, is_open) {
        (false, true) => {
            counter(tx, &keys::counter::open(&after.line), 1)?;
        }
        (true, false) => {
            counter(tx, &keys::counter::open(&after.line), -1)?;
        }
        _ => {}
    }
    tx.put(keys::case(&after.id), after)?;
    let seq = counter(tx, keys::counter::CHANGE_SEQ, 1)?;
    tx.put(keys::change(seq), &after.id)?;
    if seq > CHANGES_KEPT {
        tx.remove(keys::change(seq - CHANGES_KEPT));
    }
    Ok(())
}

/// Owes `to` an SMS.
pub(super) fn owe(
    tx: &mut Tx<'_>,
    to: &str,
    text: String,
    kind: OutKind,
    case: Option<&str>,
    at_ms: u64,
) -> Result<(), ApplyError> {
    let seq = counter(tx, keys::counter::OUT_SEQ, 1)?;
    let row = Outgoing {
        seq,
        to: to.to_string(),
        text,
        kind,
        case: case.map(String::from),
        at_ms,
    };
    tx.put(keys::outgoing(seq), &row)
}

/// Outbox row `seq` was accepted for sending.
pub(super) fn sent(tx: &mut Tx<'_>, seq: u64) -> Result<AlarmResponse, ApplyError> {
    if !tx.contains(&keys::outgoing(seq))? {
        return Ok(AlarmResponse::Stale);
    }
    tx.remove(keys::outgoing(seq));
    let last = tx
        .get::<u64>(&keys::counter(keys::counter::OUT_SEQ))?
        .unwrap_or(0);
    let mut done = tx
        .get::<u64>(&keys::counter(keys::counter::OUT_SENT))?
        .unwrap_or(0);
    while done < last && !tx.contains(&keys::outgoing(done + 1))? {
        done += 1;
    }
    tx.put(keys::counter(keys::counter::OUT_SENT), &done)?;
    Ok(AlarmResponse::Done(None))
}

pub(super) fn step(case: &mut Case, at_ms: u64, what: &str, by: &str, via: Via, note: impl Into<String>) {
    case.updated_ms = at_ms;
    if case.timeline.len() < MAX_STEPS {
        case.timeline.push(Step {
            at_ms,
            step: what.into(),
            by: by.into(),
            via,
            note: note.into(),
        });
    }
}

/// Beijing `HH:MM` of `ms` (UTC+8 all year).
pub(super) fn hhmm(ms: u64) -> String {
    let m = ((ms / 60_000) + 8 * 60) % 1440;
    format!("{:02}:{:02}", m / 60, m % 60)
}

fn forward_text(case: &Case) -> String {
    format!(
        "【{}警情】{} {} 报警人{}：{}。回复“JS {}”接警",
        case.line,
        case.id,
        hhmm(case.created_ms),
        case.citizen,
        case.first_text(),
        case.id
    )
}

/// Sends `case` on by its rule (or to the rule's next officer, past
/// `case.tried`); leaves it NEW when there is no rule or nobody on duty.
pub(super) fn dispatch(
    tx: &mut Tx<'_>,
    case: &mut Case,
    at_ms: u64,
    policy: &Policy,
    via: Via,
) -> Result<bool, ApplyError> {
    let Some(rule) = roster::rule_for(tx, &case.line, case.first_text())? else {
        return Ok(false);
    };
    let (officers, group) = roster::pick(tx, &rule, &case.tried, at_ms)?;
    if officers.is_empty() {
        return Ok(false);
    }
    let names: Vec<String> = officers
        .iter()
        .map(|o| format!("{}{}", o.badge, o.name))
        .collect();
    for o in &officers {
        owe(
            tx,
            &o.phone,
            forward_text(case),
            OutKind::Forward,
            Some(&case.id),
            at_ms,
        )?;
        case.tried.push(o.badge.clone());
    }
    case.status = CaseStatus::Dispatched;
    case.officer = (group.is_none()).then(|| officers[0].badge.clone());
    case.group = group;
    case.ack_deadline_ms = Some(at_ms + policy.ack_timeout_ms);
    let by = if via == Via::Escalation { "system" } else { "rule" };
    let what = if via == Via::Escalation {
        "escalated"
    } else {
        "dispatched"
    };
    step(case, at_ms, what, by, via, names.join("、"));
    Ok(true)
}

/// The escalation timer of `id` ran out at `deadline_ms`.
pub(super) fn escalate(
    tx: &mut Tx<'_>,
    id: &str,
    deadline_ms: u64,
    at_ms: u64,
    policy: &Policy,
) -> Result<AlarmResponse, ApplyError> {
    let Some(before) = load(tx, id)? else {
        return Ok(AlarmResponse::Stale);
    };
    if before.status != CaseStatus::Dispatched || before.ack_deadline_ms != Some(deadline_ms) {
        return Ok(AlarmResponse::Stale);
    }
    let mut case = before.clone();
    case.escalations += 1;
    stats::escalated(tx, &case)?;
    if !dispatch(tx, &mut case, at_ms, policy, Via::Escalation)? {
        // Nobody left under the rule: the group leader, once.
        let leader = roster::leader_for(tx, case.tried.first().map(String::as_str), case.group.as_deref())?;
        match leader.filter(|l| !case.tried.contains(&l.badge)) {
            Some(l) => {
                owe(
                    tx,
                    &l.phone,
                    forward_text(&case),
                    OutKind::Forward,
                    Some(&case.id),
                    at_ms,
                )?;
                case.tried.push(l.badge.clone());
                case.officer = Some(l.badge.clone());
                case.group = None;
                case.ack_deadline_ms = Some(at_ms + policy.ack_timeout_ms);
                step(
                    &mut case,
                    at_ms,
                    "escalated",
                    "system",
                    Via::Escalation,
                    format!("组长{}{}", l.badge, l.name),
                );
            }
            None => {
                case.ack_deadline_ms = None;
                if !case.flags.iter().any(|f| f == "unanswered") {
                    case.flags.push("unanswered".into());
                }
                step(&mut case, at_ms, "flagged", "system", Via::Escalation, "无人接警");
            }
        }
    }
    save(tx, Some(&before), &case)?;
    Ok(AlarmResponse::Done(Some(Box::new(case))))
}

/// `id` has been open past its limit.
pub(super) fn overdue(
    tx: &mut Tx<'_>,
    id: &str,
    deadline_ms: u64,
    at_ms: u64,
) -> Result<AlarmResponse, ApplyError> {
    let Some(before) = load(tx, id)? else {
        return Ok(AlarmResponse::Stale);
    };
    if !before.status.is_open() || before.open_deadline_ms != Some(deadline_ms) {
        return Ok(AlarmResponse::Stale);
    }
    let mut case = before.clone();
    case.open_deadline_ms = None;
    if !case.flags.iter().any(|f| f == "overdue") {
        case.flags.push("overdue".into());
    }
    step(
        &mut case,
        at_ms,
        "flagged",
        "system",
        Via::Escalation,
        "超时未结案",
    );
    save(tx, Some(&before), &case)?;
    Ok(AlarmResponse::Done(Some(Box::new(case))))
}

fn refuse(code: &str, msg: String) -> Result<AlarmResponse, ApplyError> {
    Ok(AlarmResponse::refused(code, msg))
}

/// Applies `op` by `by` (a badge or [`DISPATCHER`]).
pub(super) fn act(
    tx: &mut Tx<'_>,
    by: &str,
    via: Via,
    op: &CaseOp,
    at_ms: u64,
    policy: &Policy,
) -> Result<AlarmResponse, ApplyError> {
    let id = op.case();
    let Some(before) = load(tx, id)? else {
        return refuse("not_found", format!("案件 {id} 不存在"));
    };
    let officer_acting = by != DISPATCHER;
    if officer_acting && before.officer.as_deref() != Some(by) && !before.tried.iter().any(|t| t == by) {
        return refuse("forbidden", format!("案件 {id} 未派给 {by}"));
    }
    let mut case = before.clone();
    if !case.status.is_open() && !matches!(op, CaseOp::Note { .. }) {
        return refuse("conflict", format!("案件 {id} 已是 {}", case.status.name()));
    }
    match op {
        CaseOp::Accept { badge, .. } => {
            if roster::officer(tx, badge)?.is_none() {
                return refuse("invalid", format!("警号 {badge} 不存在"));
            }
            if case.status == CaseStatus::Accepted {
                if case.officer.as_deref() == Some(badge.as_str()) {
                    return Ok(AlarmResponse::Done(Some(Box::new(case))));
                }
                let holder = case.officer.clone().unwrap_or_default();
                return refuse("conflict", format!("案件 {id} 已由 {holder} 接警"));
            }
            case.status = CaseStatus::Accepted;
            case.officer = Some(badge.clone());
            case.group = None;
            case.accepted_ms = Some(at_ms);
            case.ack_deadline_ms = None;
            step(&mut case, at_ms, "accepted", badge, via, "");
        }
        CaseOp::Close { note, .. } => {
            case.status = CaseStatus::Closed;
            case.closed_ms = Some(at_ms);
            case.ack_deadline_ms = None;
            case.open_deadline_ms = None;
            step(&mut case, at_ms, "closed", by, via, note.clone());
        }
        CaseOp::Transfer { badge, .. } => {
            let Some(to) = roster::officer(tx, badge)? else {
                return refuse("invalid", format!("警号 {badge} 不存在"));
            };
            case.status = CaseStatus::Dispatched;
            case.officer = Some(to.badge.clone());
            case.group = None;
            case.accepted_ms = None;
            case.ack_deadline_ms = Some(at_ms + policy.ack_timeout_ms);
            if !case.tried.contains(&to.badge) {
                case.tried.push(to.badge.clone());
            }
            owe(
                tx,
                &to.phone,
                forward_text(&case),
                OutKind::Forward,
                Some(&case.id),
                at_ms,
            )?;
            step(
                &mut case,
                at_ms,
                "transferred",
                by,
                via,
                format!("{}{}", to.badge, to.name),
            );
        }
        CaseOp::Note { note, .. } => step(&mut case, at_ms, "note", by, via, note.clone()),
        CaseOp::Mark { status, of, .. } => {
            if !matches!(status, CaseStatus::Duplicate | CaseStatus::Invalid) {
                return refuse("invalid", "only DUPLICATE or INVALID can be marked".into());
            }
            if let Some(o) = of {
                if o == id || load(tx, o)?.is_none() {
                    return refuse("invalid", format!("案件 {o} 不存在"));
                }
            }
            case.status = *status;
            case.duplicate_of = of.clone();
            case.closed_ms = Some(at_ms);
            case.ack_deadline_ms = None;
            case.open_deadline_ms = None;
            let what = if *status == CaseStatus::Duplicate {
                "duplicate"
            } else {
                "invalid"
            };
            step(&mut case, at_ms, what, by, via, of.clone().unwrap_or_default());
        }
        CaseOp::Rank { rank, .. } => {
            case.rank = *rank;
            step(&mut case, at_ms, "rank", by, via, rank.to_string());
        }
    }
    save(tx, Some(&before), &case)?;
    Ok(AlarmResponse::Done(Some(Box::new(case))))
}
