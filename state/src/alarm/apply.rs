//! Apply of [`AlarmCommand`]: the intake (new cases, joined texts, flood
//! flags, officers' SMS commands and their answers), and the plain
//! changes (case operations, timers, outbox, roster).

use smsgw_raft::{ApplyError, Tx};

use super::cases;
use super::{keys, roster};
use super::{
    AlarmCommand, AlarmResponse, Case, CaseOp, CaseStatus, CaseText, IntakeItem, LineRef, OfficerSms,
    OutKind, Policy, Rule, Target, Via, MAX_INTAKE, MAX_TEXTS,
};

/// Applies one change at `at_ms` (the proposer's clock).
pub(crate) fn apply_alarm(
    tx: &mut Tx<'_>,
    at_ms: u64,
    cmd: &AlarmCommand,
) -> Result<AlarmResponse, ApplyError> {
    match cmd {
        AlarmCommand::Intake {
            after,
            through,
            policy,
            items,
        } => intake(tx, *after, *through, policy, items, at_ms),
        AlarmCommand::Act { by, via, op, policy } => cases::act(tx, by, *via, op, at_ms, policy),
        AlarmCommand::Escalate {
            case,
            deadline_ms,
            policy,
        } => cases::escalate(tx, case, *deadline_ms, at_ms, policy),
        AlarmCommand::Overdue { case, deadline_ms } => cases::overdue(tx, case, *deadline_ms, at_ms),
        AlarmCommand::Sent { seq } => cases::sent(tx, *seq),
        AlarmCommand::PutOfficer(o) => roster::put_officer(tx, o),
        AlarmCommand::RemoveOfficer { badge } => roster::remove_officer(tx, badge),
        AlarmCommand::Duty { badge, on, .. } => {
            let Some(mut o) = roster::officer(tx, badge)? else {
                return Ok(AlarmResponse::refused("not_found", format!("no officer {badge}")));
            };
            o.duty = *on;
            tx.put(keys::officer(badge), &o)?;
            Ok(AlarmResponse::Done(None))
        }
        AlarmCommand::PutGroup(g) => roster::put_group(tx, g),
        AlarmCommand::RemoveGroup { name } => {
            if roster::group(tx, name)?.is_none() {
                return Ok(AlarmResponse::refused("not_found", format!("no group {name}")));
            }
            tx.remove(keys::group(name));
            Ok(AlarmResponse::Done(None))
        }
        AlarmCommand::PutRule { rule, .. } => roster::put_rule(tx, rule),
        AlarmCommand::RemoveRule { key } => {
            if !tx.contains(&keys::rule(key))? {
                return Ok(AlarmResponse::refused("not_found", "no such rule"));
            }
            tx.remove(keys::rule(key));
            Ok(AlarmResponse::Done(None))
        }
    }
}

fn intake(
    tx: &mut Tx<'_>,
    after: u64,
    through: u64,
    policy: &Policy,
    items: &[IntakeItem],
    at_ms: u64,
) -> Result<AlarmResponse, ApplyError> {
    let cursor = keys::counter(keys::counter::CURSOR);
    let last_mo = tx
        .get::<u64>(&crate::keys::counter(crate::keys::counter::MOS))?
        .unwrap_or(0);
    let valid = tx.get::<u64>(&cursor)?.unwrap_or(0) == after
        && after < through
        && through <= last_mo
        && through - after <= MAX_INTAKE;
    if !valid {
        return Ok(AlarmResponse::Stale);
    }
    let (mut created, mut joined) = (Vec::new(), Vec::new());
    for item in items {
        match item {
            IntakeItem::Alarm {
                mo_seq,
                line,
                rank,
                citizen,
                text,
                at_ms: sent_ms,
                carrier,
            } if after < *mo_seq && *mo_seq <= through => {
                let t = CaseText {
                    mo_seq: *mo_seq,
                    text: text.clone(),
                    at_ms: *sent_ms,
                };
                let (id, new) = alarm_text(tx, line, *rank, citizen, carrier, t, policy, at_ms)?;
                if new {
                    created.push(id);
                } else {
                    joined.push(id);
                }
            }
            IntakeItem::Officer {
                mo_seq,
                badge,
                command,
            } if after < *mo_seq && *mo_seq <= through => {
                officer_sms(tx, badge, command, policy, at_ms)?;
            }
            IntakeItem::Unknown { mo_seq } if after < *mo_seq && *mo_seq <= through => {
                tx.add(&keys::counter(keys::counter::UNKNOWN), 1)?;
            }
            _ => {}
        }
    }
    tx.put(cursor, &through)?;
    Ok(AlarmResponse::Taken { created, joined })
}

/// Counts a text from `number` in its minute; whether the number floods.
fn floods(tx: &mut Tx<'_>, number: &str, sent_ms: u64, policy: &Policy) -> Result<bool, ApplyError> {
    let minute = sent_ms / 60_000;
    let (m, n) = tx.get::<(u64, u32)>(&keys::flood(number))?.unwrap_or((minute, 0));
    let n = if m == minute { n + 1 } else { 1 };
    tx.put(keys::flood(number), &(minute, n))?;
    Ok(n > policy.flood_per_minute)
}

#[allow(clippy::too_many_arguments)]
fn alarm_text(
    tx: &mut Tx<'_>,
    line: &LineRef,
    rank: u16,
    citizen: &str,
    carrier: &str,
    text: CaseText,
    policy: &Policy,
    at_ms: u64,
) -> Result<(String, bool), ApplyError> {
    let flooded = floods(tx, citizen, text.at_ms, policy)?;
    let open: Option<Case> = match tx.get::<String>(&keys::citizen(citizen))? {
        Some(id) => cases::load(tx, &id)?.filter(|c| c.status.is_open() && c.line == line.number),
        None => None,
    };
    if let Some(before) = open {
        let last = before.texts.last().map_or(before.created_ms, |t| t.at_ms);
        if flooded || text.at_ms <= last.saturating_add(policy.join_window_ms) {
            let mut case = before.clone();
            case.texts_total += 1;
            let note = text.text.clone();
            if case.texts.len() < MAX_TEXTS {
                case.texts.push(text);
            }
            cases::step(&mut case, at_ms, "text", "citizen", Via::Sms, note.clone());
            if flooded && !case.flags.iter().any(|f| f == "flood") {
                case.flags.push("flood".into());
                cases::step(
                    &mut case,
                    at_ms,
                    "flagged",
                    "system",
                    Via::Sms,
                    "短时间内大量短信",
                );
            }
            if !flooded {
                if let Some(o) = case
                    .officer
                    .as_deref()
                    .and_then(|b| roster::officer(tx, b).ok().flatten())
                {
                    let more = format!("【{}警情】{} 补充：{}", case.line, case.id, note);
                    cases::owe(tx, &o.phone, more, OutKind::Forward, Some(&case.id), at_ms)?;
                }
            }
            cases::save(tx, Some(&before), &case)?;
            return Ok((case.id, false));
        }
    }
    let day = crate::stats::ymd(crate::stats::day(text.at_ms));
    let n = tx.add(&keys::day_seq(day), 1)?;
    let id = format!("A{day}-{n:04}");
    let mut case = Case {
        id: id.clone(),
        line: line.number.clone(),
        kind: line.kind.clone(),
        rank,
        citizen: citizen.to_string(),
        carrier: carrier.to_string(),
        created_ms: text.at_ms.min(at_ms),
        texts: vec![text.clone()],
        texts_total: 1,
        status: CaseStatus::New,
        officer: None,
        group: None,
        tried: Vec::new(),
        updated_ms: at_ms,
        accepted_ms: None,
        closed_ms: None,
        ack_deadline_ms: None,
        open_deadline_ms: Some(at_ms + policy.open_limit_ms),
        flags: if flooded { vec!["flood".into()] } else { vec![] },
        duplicate_of: None,
        timeline: Vec::new(),
        escalations: 0,
    };
    cases::step(&mut case, at_ms, "created", "citizen", Via::Sms, text.text);
    if let (Some(reply), false) = (&line.reply, flooded) {
        let body = reply.replace("{case}", &id);
        cases::owe(tx, citizen, body, OutKind::Reply, Some(&id), at_ms)?;
    }
    cases::dispatch(tx, &mut case, at_ms, policy, Via::Rule)?;
    cases::save(tx, None, &case)?;
    tx.put(keys::citizen(citizen), &id)?;
    Ok((id, true))
}

/// Carries out an officer's SMS command and owes him the answer.
fn officer_sms(
    tx: &mut Tx<'_>,
    badge: &str,
    command: &Result<OfficerSms, String>,
    policy: &Policy,
    at_ms: u64,
) -> Result<(), ApplyError> {
    let Some(officer) = roster::officer(tx, badge)? else {
        return Ok(());
    };
    let answer = match command {
        Err(why) => format!("【110】指令失败：{why}"),
        Ok(cmd) => run(tx, badge, cmd, policy, at_ms)?,
    };
    cases::owe(tx, &officer.phone, answer, OutKind::Answer, None, at_ms)
}

fn run(
    tx: &mut Tx<'_>,
    badge: &str,
    cmd: &OfficerSms,
    policy: &Policy,
    at_ms: u64,
) -> Result<String, ApplyError> {
    let op = match cmd {
        OfficerSms::Accept(case) => CaseOp::Accept {
            case: case.clone(),
            badge: badge.into(),
        },
        OfficerSms::Close(case, note) => CaseOp::Close {
            case: case.clone(),
            note: note.clone(),
        },
        OfficerSms::Transfer(case, to) => CaseOp::Transfer {
            case: case.clone(),
            badge: to.clone(),
        },
        OfficerSms::Show(id) => {
            return Ok(match cases::load(tx, id)? {
                None => format!("【110】指令失败：案件 {id} 不存在"),
                Some(c) => format!(
                    "【110】{} {} 线路{} {} 报警人{}：{}",
                    c.id,
                    c.status.name(),
                    c.line,
                    cases::hhmm(c.created_ms),
                    c.citizen,
                    c.first_text()
                ),
            });
        }
        OfficerSms::Duty(on) => {
            if let Some(mut o) = roster::officer(tx, badge)? {
                o.duty = Some(*on);
                tx.put(keys::officer(badge), &o)?;
            }
            return Ok(if *on {
                "【110】已上班，开始接收警情。"
            } else {
                "【110】已下班，不再接收警情。"
            }
            .into());
        }
        OfficerSms::Forward(line, to) => {
            let target = if roster::officer(tx, to)?.is_some() {
                Target::Officer(to.clone())
            } else if roster::group(tx, to)?.is_some() {
                Target::WholeGroup(to.clone())
            } else {
                return Ok(format!("【110】指令失败：{to} 既不是警号也不是值班组"));
            };
            let rule = Rule {
                line: Some(line.clone()),
                keyword: None,
                target,
                turn: 0,
            };
            return Ok(match roster::put_rule(tx, &rule)? {
                AlarmResponse::Refused { message, .. } => format!("【110】指令失败：{message}"),
                _ => format!("【110】线路{line}的警情今后转发给{to}。"),
            });
        }
    };
    Ok(match cases::act(tx, badge, Via::Sms, &op, at_ms, policy)? {
        AlarmResponse::Refused { message, .. } => format!("【110】指令失败：{message}"),
        AlarmResponse::Done(Some(c)) => match cmd {
            OfficerSms::Accept(_) => {
                format!("【110】已接警 {}：报警人{} {}", c.id, c.citizen, c.first_text())
            }
            OfficerSms::Close(..) => format!("【110】已结案 {}。", c.id),
            _ => format!(
                "【110】{} 已转交 {}。",
                c.id,
                c.officer.clone().unwrap_or_default()
            ),
        },
        _ => "【110】已处理。".into(),
    })
}
