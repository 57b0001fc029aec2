//! The leader's outbox drain: each SMS the desk owes becomes an ordinary
//! alarm-priority message of the desk's account, accepted in the same
//! entry that marks the row sent (the accept's request id is the row's),
//! so a row is sent once across leader kills. A row that cannot become a
//! message (no route for the number, say) is logged, counted and marked
//! sent: it must not hold up the alarms behind it.

use smsgw_config::cluster::AlarmDesk;
use smsgw_config::Priority;
use smsgw_state::alarm::{AlarmCommand, OutKind, Outgoing};
use smsgw_state::Command;

use crate::api::state::{now_ms, AppState, Loaded};
use crate::api::submit::{self, Validated};

/// Rows per proposal.
const BATCH: usize = 500;
/// Most log bytes one row takes: a message of at most 10 parts
/// (`submit::MAX_PARTS`) of 140 octets, its envelope quoting a text of at
/// most 1,530 characters (10 GSM 7-bit parts) written twice over by JSON
/// escapes, 4 bytes each in UTF-8, ids and the row's `Sent`.
const ROW_BYTES_MAX: usize = 16 * 1024;

/// The source extension of a row: the case's line for citizens and
/// forwards (a reply comes back to the line), the desk number for answers.
/// `case_line` reads a case's line; a failed read is returned, never taken
/// for "no line": the SMS would leave without the extension replies need.
fn sender<E>(
    desk: &AlarmDesk,
    row: &Outgoing,
    case_line: impl FnOnce(&str) -> Result<Option<String>, E>,
) -> Result<Option<String>, E> {
    match row.kind {
        OutKind::Answer => Ok(desk
            .desk_number
            .clone()
            .or_else(|| desk.lines.first().map(|l| l.number.clone()))),
        _ => match row.case.as_deref() {
            Some(id) => case_line(id),
            None => Ok(None),
        },
    }
}

/// The rows one step takes, each with its sender, in order, up to the
/// first row whose sender cannot be read (returned with them): that row
/// and those after it stay in the outbox for the next step, so none is
/// marked sent before it could be built as it should.
fn with_senders<'a, E>(
    desk: &AlarmDesk,
    rows: &'a [Outgoing],
    mut case_line: impl FnMut(&str) -> Result<Option<String>, E>,
) -> (Vec<(&'a Outgoing, Option<String>)>, Option<E>) {
    let mut taken = Vec::with_capacity(rows.len());
    for row in rows {
        match sender(desk, row, &mut case_line) {
            Ok(s) => taken.push((row, s)),
            Err(e) => return (taken, Some(e)),
        }
    }
    (taken, None)
}

/// One batch; whether rows are left after it.
pub(super) async fn step(state: &AppState, loaded: &Loaded) -> Result<bool, String> {
    let view = smsgw_state::local_view(&state.cluster);
    let rows = view.alarm().outbox(BATCH).map_err(|e| e.to_string())?;
    if rows.is_empty() {
        return Ok(false);
    }
    let Some(account) = loaded.doc.alarm.account.clone() else {
        return Ok(false);
    };
    let mut more = rows.len() == BATCH;
    let now = now_ms();
    // Long texts (a forward quotes the citizen's, up to 10 parts) could
    // take 500 rows past the entry bound: the rows past it wait for the
    // next step.
    let budget = smsgw_state::staging::MAX_COMMAND_BYTES - smsgw_state::staging::SHELL_BYTES;
    let mut bytes = 0;
    let v = Validated {
        priority: Priority::Alarm,
        report: loaded.doc.defaults.report,
        request_id: None,
    };
    let (taken, failed) = with_senders(&loaded.doc.alarm, &rows, |id| {
        view.alarm().case(id).map(|c| c.map(|c| c.line))
    });
    if let Some(e) = failed {
        if taken.is_empty() {
            return Err(format!("reading the case of an owed SMS: {e}"));
        }
        more = true;
    }
    let mut cmds = Vec::with_capacity(taken.len() * 2);
    for (row, sender) in taken {
        if bytes > budget.saturating_sub(ROW_BYTES_MAX) {
            more = true;
            break;
        }
        let build = |ext: Option<&str>| {
            let (doc, router) = (&loaded.doc, &loaded.router);
            submit::build_one(
                &row.to,
                &row.text,
                ext,
                &v,
                &account,
                doc,
                router,
                state.next_id(),
                now,
            )
        };
        // A sender extension too long for the carrier must not stop an alarm.
        let built = build(sender.as_deref()).or_else(|_| build(None));
        match built {
            Ok((messages, _)) => {
                bytes += messages
                    .iter()
                    .map(smsgw_state::staging::part_bytes)
                    .sum::<usize>();
                cmds.push(Command::AcceptBatch {
                    request_id: Some(format!("alarm-out/{}", row.seq)),
                    messages,
                })
            }
            Err(e) => {
                tracing::warn!(seq = row.seq, case = ?row.case, error = %e.message(), "alarm desk: an owed SMS cannot be sent");
                metrics::counter!("smsgw_alarm_sms_failed_total").increment(1);
            }
        }
        let kind = match row.kind {
            OutKind::Reply => "reply",
            OutKind::Forward => "forward",
            OutKind::Answer => "answer",
        };
        metrics::counter!("smsgw_alarm_sms_total", "kind" => kind).increment(1);
        if row.kind == OutKind::Forward {
            let waited = now.saturating_sub(row.at_ms) as f64 / 1000.0;
            metrics::histogram!("smsgw_alarm_forward_delay_seconds").record(waited);
        }
        cmds.push(Command::Alarm {
            at_ms: now,
            change: AlarmCommand::Sent { seq: row.seq },
        });
    }
    super::propose(state, Command::Batch(cmds)).await?;
    if let Some(rt) = &state.runtime {
        rt.nudge();
    }
    Ok(more)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(seq: u64, kind: OutKind, case: Option<&str>) -> Outgoing {
        Outgoing {
            seq,
            to: "13800138000".into(),
            text: "收到".into(),
            kind,
            case: case.map(str::to_string),
            at_ms: 0,
        }
    }

    fn desk() -> AlarmDesk {
        AlarmDesk {
            desk_number: Some("110".into()),
            ..AlarmDesk::default()
        }
    }

    #[test]
    fn a_reply_leaves_from_its_cases_line_and_an_answer_from_the_desk_number() {
        let rows = [
            row(1, OutKind::Reply, Some("A1")),
            row(2, OutKind::Answer, None),
            row(3, OutKind::Forward, None),
        ];
        let (taken, failed) = with_senders(&desk(), &rows, |_| Ok::<_, ()>(Some("1101".into())));
        let senders: Vec<_> = taken.iter().map(|(r, s)| (r.seq, s.as_deref())).collect();
        assert_eq!(senders, vec![(1, Some("1101")), (2, Some("110")), (3, None)]);
        assert!(failed.is_none());
    }

    #[test]
    fn an_sms_whose_case_cannot_be_read_waits_with_the_rows_after_it() {
        let rows = [
            row(1, OutKind::Reply, Some("A1")),
            row(2, OutKind::Forward, Some("A2")),
            row(3, OutKind::Answer, None),
        ];
        let (taken, failed) = with_senders(&desk(), &rows, |id| {
            if id == "A2" {
                Err("io error")
            } else {
                Ok(Some("110".into()))
            }
        });
        let seqs: Vec<u64> = taken.iter().map(|(r, _)| r.seq).collect();
        assert_eq!(seqs, vec![1], "row 2 and the answer after it stay in the outbox");
        assert_eq!(failed, Some("io error"));
        let (first, failed) = with_senders(&desk(), &rows[1..], |_| Err::<Option<String>, _>("io error"));
        assert!(
            first.is_empty() && failed.is_some(),
            "nothing to propose: the step fails"
        );
    }
}
