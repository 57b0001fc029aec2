//! Deterministic application of commands to the domain tables (see
//! [`crate::keys`]) through raft's [`Tx`], so that a whole `apply` call lands
//! in sled as one atomic batch. Every index and counter is kept here, in the
//! same transaction as the row it describes, so no read ever needs a scan.
//! It must never read a clock, draw randomness or touch anything but the
//! transaction: every node must compute the same bytes from the same log.

use smsgw_raft::{ApplyError, Tx};

use crate::command::{Command, MoRecord, MtPart, PartRecord, PendingReport, Response};
use crate::keys::{self, counter};

fn bump(tx: &mut Tx<'_>, name: &str, by: i64) -> Result<u64, ApplyError> {
    tx.add(&keys::counter(name), by)
}

/// Applies one command written at log `index`.
pub(crate) fn apply_command(tx: &mut Tx<'_>, index: u64, cmd: &Command) -> Result<Response, ApplyError> {
    if let Some(rid) = cmd.request_id() {
        if let Some(first) = tx.get::<Response>(&keys::request(rid))? {
            return Ok(Response::Replayed(Box::new(first)));
        }
    }
    let response = match cmd {
        Command::PutConfig { key, value } => {
            let k = keys::config(key);
            if !tx.contains(&k)? {
                bump(tx, counter::CONFIGS, 1)?;
            }
            tx.put_raw(k, value.clone());
            Response::ConfigStored {
                key: key.clone(),
                version: index,
            }
        }
        Command::AcceptBatch { messages, .. } => accept_batch(tx, index, messages)?,
        Command::RecordSubmit {
            part_id,
            carrier,
            carrier_msg_id,
            status,
            at_ms,
        } => record_submit(tx, part_id, carrier, carrier_msg_id, status, *at_ms)?,
        Command::RecordReport {
            carrier,
            carrier_msg_id,
            state,
            at_ms,
        } => match tx.get::<String>(&keys::carrier_id(carrier, carrier_msg_id))? {
            // The first outcome of a part stands (as for RecordOutcome): a
            // report the reconciler already turned into an outcome, sent
            // again as RecordReport, changes nothing.
            Some(pid) if crate::parked::has_outcome(tx, &pid)? => Response::ReportRecorded { part_id: None },
            Some(pid) => {
                set_outcome(tx, &pid, state, *at_ms)?;
                Response::ReportRecorded { part_id: Some(pid) }
            }
            None => {
                let pending = PendingReport {
                    state: state.clone(),
                    at_ms: *at_ms,
                };
                tx.put(keys::pending_report(carrier, carrier_msg_id), &pending)?;
                crate::retention::report_parked(tx, carrier, carrier_msg_id, *at_ms)?;
                Response::ReportRecorded { part_id: None }
            }
        },
        Command::Batch(cmds) => {
            let mut out = Vec::with_capacity(cmds.len());
            for c in cmds {
                out.push(apply_command(tx, index, c)?);
            }
            Response::Batch(out)
        }
        Command::RecordOutcome {
            part_id,
            state,
            detail: _,
            at_ms,
        } => match crate::parts::get(tx, part_id)? {
            None => Response::Rejected {
                reason: format!("unknown part id {part_id}"),
            },
            Some(r) if r.report_state.is_some() => Response::ReportRecorded { part_id: None },
            Some(_) => {
                set_outcome(tx, part_id, state, *at_ms)?;
                Response::ReportRecorded {
                    part_id: Some(part_id.clone()),
                }
            }
        },
        Command::Book {
            account,
            at_ms,
            change,
        } => Response::Book(crate::book::apply_book(tx, account, *at_ms, change)?),
        Command::Job { account, change, .. } => {
            Response::Job(crate::jobs::apply_job(tx, index, account, change)?)
        }
        Command::Charged {
            account,
            parts,
            at_ms,
            remember_recipients,
            command,
        } => crate::accounts::apply_charged(
            tx,
            index,
            account,
            (*parts, *at_ms, *remember_recipients),
            command,
        )?,
        Command::MoIntake { after, through, mos } => mo_intake(tx, *after, *through, mos)?,
        Command::RecordMoSegments { request_ids, message } => {
            crate::mo_keys::apply_segments(tx, cmd, request_ids, message)?
        }
        Command::Account { account, change, .. } => {
            Response::Account(crate::accounts::apply_account(tx, account, change)?)
        }
        Command::Events(change) => Response::Events(crate::events::apply_events(tx, change)?),
        Command::Alarm { at_ms, change } => Response::Alarm(crate::alarm::apply_alarm(tx, *at_ms, change)?),
        Command::Users(change) => Response::Users(crate::users::apply_users(tx, change)?),
        Command::Purge {
            before_ms,
            keys_before_ms,
            limit,
        } => Response::Purged(crate::retention::apply_purge(
            tx,
            *before_ms,
            *keys_before_ms,
            *limit,
        )?),
        Command::Stage(change) => crate::staging::apply_stage(tx, index, change)?,
        Command::RecordMo { message, .. } => {
            let seq = bump(tx, counter::MOS, 1)?;
            tx.put(
                keys::mo(seq),
                &MoRecord {
                    seq,
                    message: message.clone(),
                },
            )?;
            Response::MoRecorded { seq }
        }
    };
    // A refusal is not remembered: the same request may pay after a top-up.
    if let (Some(rid), false) = (cmd.request_id(), matches!(response, Response::Refused(_))) {
        tx.put(keys::request(rid), &response)?;
        crate::retention::request_remembered(tx, cmd, rid)?;
    }
    Ok(response)
}

pub(crate) fn accept_batch(tx: &mut Tx<'_>, index: u64, messages: &[MtPart]) -> Result<Response, ApplyError> {
    if let Some(bad) = messages.iter().find(|p| !crate::parts::valid_id(&p.id)) {
        return Ok(Response::Rejected {
            reason: format!("part id {:?} is not a valid id", bad.id),
        });
    }
    let mut ids = Vec::with_capacity(messages.len());
    let mut already_known = Vec::new();
    for part in messages {
        if crate::parts::contains(tx, &part.id)? {
            already_known.push(part.id.clone());
            continue;
        }
        let mut record = PartRecord {
            part: part.clone(),
            accepted_index: index,
            carrier_msg_id: None,
            submit_status: None,
            submitted_at_ms: None,
            report_state: None,
            reported_at_ms: None,
            ready_seq: None,
        };
        if let Some(slot) = &part.queue {
            let dims = [ALL.to_string(), format!("carrier:{}", slot.route)];
            let (at, parts) = (part.accepted_at_ms, u64::from(part.parts));
            crate::stats::count(tx, &part.account, at, &dims, ACCEPTED, 1, parts)?;
            let mid = part.id.strip_suffix(".0").unwrap_or(&part.id);
            tx.put_raw(keys::record(&part.account, at, mid), Vec::new());
            let seq = bump(tx, counter::READY_SEQ, 1)?;
            let mid = part.id.strip_suffix(".0").unwrap_or(&part.id);
            tx.put_raw(
                keys::ready(&slot.route, slot.priority, seq),
                mid.as_bytes().to_vec(),
            );
            bump(tx, &counter::ready(slot.priority), 1)?;
            bump(tx, &counter::backlog(&part.account), 1)?;
            tx.put(
                keys::counter(&counter::ready_last(&slot.route, slot.priority)),
                &seq,
            )?;
            let route_key = keys::ready_route(&slot.route);
            if !tx.contains(&route_key)? {
                tx.put_raw(route_key, Vec::new());
            }
            record.ready_seq = Some(seq);
        }
        crate::parts::put(tx, &part.id, &record)?;
        bump(tx, counter::PARTS, 1)?;
        ids.push(part.id.clone());
    }
    Ok(Response::Accepted {
        ids,
        already_known,
        index,
    })
}

fn record_submit(
    tx: &mut Tx<'_>,
    part_id: &str,
    carrier: &str,
    carrier_msg_id: &str,
    status: &str,
    at_ms: u64,
) -> Result<Response, ApplyError> {
    let Some(mut record) = crate::parts::get(tx, part_id)? else {
        return Ok(Response::Rejected {
            reason: format!("unknown part id {part_id}"),
        });
    };
    let previous = record.carrier_msg_id.replace(carrier_msg_id.to_string());
    crate::retention::submitted(tx, &record, carrier, previous.as_deref())?;
    record.submit_status = Some(status.to_string());
    record.submitted_at_ms = Some(at_ms);
    crate::parts::put(tx, part_id, &record)?;
    tx.put(keys::carrier_id(carrier, carrier_msg_id), &part_id.to_string())?;
    let pending_key = keys::pending_report(carrier, carrier_msg_id);
    let mut report_applied = None;
    if let Some(pending) = tx.get::<PendingReport>(&pending_key)? {
        tx.remove(pending_key);
        set_outcome(tx, part_id, &pending.state, pending.at_ms)?;
        report_applied = Some(pending.state);
    }
    Ok(Response::SubmitRecorded {
        part_id: part_id.to_string(),
        report_applied,
    })
}

fn set_outcome(tx: &mut Tx<'_>, part_id: &str, state: &str, at_ms: u64) -> Result<(), ApplyError> {
    let Some(mut record) = crate::parts::get(tx, part_id)? else {
        return Ok(());
    };
    record.report_state = Some(state.to_string());
    record.reported_at_ms = Some(at_ms);
    let parts = record.part.parts;
    let Some((mid, seq)) = part_id.rsplit_once('.') else {
        return crate::parts::put(tx, part_id, &record);
    };
    if seq == "0" {
        leave_ready_queue(tx, &mut record)?;
        message_final(tx, &record, mid, state, at_ms)?;
        return crate::parts::put(tx, part_id, &record);
    }
    crate::parts::put(tx, part_id, &record)?;
    close_if_complete(tx, mid, parts, at_ms)
}

/// Counts the MOs of an intake step in their accounts' statistics and
/// moves the intake cursor, if it is still where the leader read from.
fn mo_intake(
    tx: &mut Tx<'_>,
    after: u64,
    through: u64,
    mos: &[(String, u64)],
) -> Result<Response, ApplyError> {
    let cursor = keys::counter(counter::MO_INTAKE);
    let last = tx.get::<u64>(&keys::counter(counter::MOS))?.unwrap_or(0);
    if tx.get::<u64>(&cursor)?.unwrap_or(0) != after || through <= after || through > last {
        return Ok(Response::None);
    }
    for (account, seq) in mos.iter().filter(|(_, s)| after < *s && *s <= through) {
        if let Some(mo) = tx.get::<MoRecord>(&keys::mo(*seq))? {
            let dims = [ALL.to_string(), format!("carrier:{}", mo.message.carrier)];
            crate::stats::count(tx, account, mo.message.received_at_ms, &dims, "mo", 1, 0)?;
        }
    }
    tx.put(cursor, &through)?;
    Ok(Response::MoRecorded { seq: through })
}

/// The statistics dimension every counter is kept on.
pub(crate) const ALL: &str = "all";
/// The statistics event of an accepted message.
pub(crate) const ACCEPTED: &str = "accepted";

/// Counts message `mid` (head `head`) ending in `state`: for its job, and in
/// the account's statistics by carrier and by the job's groups and template.
fn message_final(
    tx: &mut Tx<'_>,
    head: &PartRecord,
    mid: &str,
    state: &str,
    at_ms: u64,
) -> Result<(), ApplyError> {
    let mut dims = vec![ALL.to_string()];
    if let Some(slot) = &head.part.queue {
        dims.push(format!("carrier:{}", slot.route));
    }
    dims.extend(crate::jobs::job_progress(tx, &head.part.account, mid, state)?);
    let parts = u64::from(head.part.parts);
    if head.part.queue.is_some() {
        bump(tx, &counter::backlog(&head.part.account), -1)?;
    }
    crate::stats::count(tx, &head.part.account, at_ms, &dims, state, 1, parts)?;
    crate::events::message_final(tx, mid, head, state, at_ms)?;
    let seq = bump(tx, counter::FINALS, 1)?;
    crate::retention::message_closed(tx, head, mid, seq, at_ms)?;
    crate::accounts::settle(tx, head, mid, at_ms)
}

/// A finished message leaves its ready queue (and its class's count).
fn leave_ready_queue(tx: &mut Tx<'_>, head: &mut PartRecord) -> Result<(), ApplyError> {
    if let (Some(seq), Some(slot)) = (head.ready_seq.take(), head.part.queue.as_ref()) {
        tx.remove(keys::ready(&slot.route, slot.priority, seq));
        bump(tx, &counter::ready(slot.priority), -1)?;
    }
    Ok(())
}

/// Rank of a final state when deriving a message's from its parts: the
/// worst part decides.
fn severity(state: &str) -> u8 {
    match state {
        "DELIVRD" => 0,
        "ACCEPTED" => 1,
        "EXPIRED" => 3,
        "UNDELIV" => 4,
        "REJECTD" => 5,
        "FAILED" => 6,
        _ => 2,
    }
}

/// Gives head `mid.0` the message's final state once every part has one.
fn close_if_complete(tx: &mut Tx<'_>, mid: &str, parts: u16, at_ms: u64) -> Result<(), ApplyError> {
    let head_id = format!("{mid}.0");
    let Some(mut head) = crate::parts::get(tx, &head_id)? else {
        return Ok(());
    };
    if head.report_state.is_some() {
        return Ok(());
    }
    let mut worst: Option<String> = None;
    for seq in 1..=parts {
        let rec = crate::parts::get(tx, &format!("{mid}.{seq}"))?;
        match rec.and_then(|r| r.report_state) {
            None => return Ok(()),
            Some(s) => {
                let worse = match worst.as_deref() {
                    None => true,
                    Some(w) => severity(&s) > severity(w),
                };
                if worse {
                    worst = Some(s);
                }
            }
        }
    }
    if let Some(state) = &worst {
        message_final(tx, &head, mid, state, at_ms)?;
    }
    head.report_state = worst;
    head.reported_at_ms = Some(at_ms);
    leave_ready_queue(tx, &mut head)?;
    crate::parts::put(tx, &head_id, &head)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(rid: &str, ids: &[&str]) -> Command {
        Command::AcceptBatch {
            request_id: Some(rid.into()),
            messages: ids
                .iter()
                .map(|id| MtPart {
                    id: (*id).into(),
                    account: "a".into(),
                    to: "1".into(),
                    parts: 1,
                    payload: vec![7; 20],
                    accepted_at_ms: 0,
                    queue: id.ends_with(".0").then(|| crate::command::ReadySlot {
                        route: "cmcc".into(),
                        priority: 2,
                    }),
                })
                .collect(),
        }
    }

    #[test]
    fn batch_applies_in_order_with_a_response_and_idempotency_per_command() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let tree = db.open_tree("sm").unwrap();
        let mut ov = Tx::new(&tree);
        assert!(matches!(
            apply_command(&mut ov, 1, &accept("r0", &["p0"])).unwrap(),
            Response::Accepted { .. }
        ));
        let batch = Command::Batch(vec![
            accept("r1", &["p1", "p2"]),
            accept("r1", &["p1", "p2"]),
            accept("r0", &["p0"]),
            accept("r2", &["p2", "p3"]),
            Command::RecordSubmit {
                part_id: "p3".into(),
                carrier: "cmcc".into(),
                carrier_msg_id: "c3".into(),
                status: "0".into(),
                at_ms: 5,
            },
        ]);
        let Response::Batch(rs) = apply_command(&mut ov, 2, &batch).unwrap() else {
            panic!("a batch answers with Response::Batch")
        };
        let first = Response::Accepted {
            ids: vec!["p1".into(), "p2".into()],
            already_known: vec![],
            index: 2,
        };
        assert_eq!(rs.len(), 5);
        assert_eq!(rs[0], first);
        // The same request id later in the same batch replays the first response.
        assert_eq!(rs[1], Response::Replayed(Box::new(first)));
        // A request id applied by an earlier entry replays too.
        assert!(
            matches!(&rs[2], Response::Replayed(r) if matches!(**r, Response::Accepted { index: 1, .. }))
        );
        // Later commands see the effects of earlier ones in the batch.
        assert_eq!(
            rs[3],
            Response::Accepted {
                ids: vec!["p3".into()],
                already_known: vec!["p2".into()],
                index: 2,
            }
        );
        assert_eq!(
            rs[4],
            Response::SubmitRecorded {
                part_id: "p3".into(),
                report_applied: None,
            }
        );
        assert_eq!(ov.get::<u64>(&keys::counter(counter::PARTS)).unwrap(), Some(4));
        // Applying the same batch again (a retried proposal) changes nothing.
        let Response::Batch(again) = apply_command(&mut ov, 3, &batch).unwrap() else {
            panic!("a batch answers with Response::Batch")
        };
        assert!(matches!(again[0], Response::Replayed(_)));
        assert_eq!(ov.get::<u64>(&keys::counter(counter::PARTS)).unwrap(), Some(4));
    }

    fn outcome(part: &str, state: &str) -> Command {
        Command::RecordOutcome {
            part_id: part.into(),
            state: state.into(),
            detail: String::new(),
            at_ms: 9,
        }
    }

    #[test]
    fn outcomes_close_the_message_with_its_worst_part() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let tree = db.open_tree("sm").unwrap();
        let mut ov = Tx::new(&tree);
        let mut cmd = accept("r", &["7.0", "7.1", "7.2"]);
        if let Command::AcceptBatch { messages, .. } = &mut cmd {
            for m in messages.iter_mut() {
                m.parts = 2;
            }
        }
        apply_command(&mut ov, 1, &cmd).unwrap();
        assert!(ov.contains(&keys::ready("cmcc", 2, 1)).unwrap());
        assert_eq!(
            ov.get::<u64>(&keys::counter(&counter::ready(2))).unwrap(),
            Some(1)
        );
        apply_command(&mut ov, 2, &outcome("7.1", "DELIVRD")).unwrap();
        let head = |ov: &Tx<'_>| ov.get::<PartRecord>(&keys::part("7.0")).unwrap().unwrap();
        assert_eq!(head(&ov).report_state, None);
        apply_command(&mut ov, 3, &outcome("7.2", "UNDELIV")).unwrap();
        // The first outcome of a part stands.
        apply_command(&mut ov, 4, &outcome("7.2", "DELIVRD")).unwrap();
        assert_eq!(head(&ov).report_state.as_deref(), Some("UNDELIV"));
        assert!(!ov.contains(&keys::ready("cmcc", 2, 1)).unwrap());
        assert_eq!(
            ov.get::<u64>(&keys::counter(&counter::ready(2))).unwrap(),
            Some(0)
        );
        assert!(matches!(
            apply_command(&mut ov, 5, &outcome("8.1", "DELIVRD")).unwrap(),
            Response::Rejected { .. }
        ));
    }
}
