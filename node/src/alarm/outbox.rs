//! The leader's outbox drain: each SMS the desk owes becomes an ordinary
//! alarm-priority message of the desk's account, accepted in the same
//! entry that marks the row sent (the accept's request id is the row's),
//! so a row is sent once across leader kills. A row that cannot become a
//! message (no route for the number, say) is logged, counted and marked
//! sent: it must not hold up the alarms behind it.

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
fn sender(loaded: &Loaded, view: &smsgw_state::StateView, row: &Outgoing) -> Option<String> {
    let desk = &loaded.doc.alarm;
    let line = row
        .case
        .as_deref()
        .and_then(|id| view.alarm().case(id).ok().flatten())
        .map(|c| c.line);
    match row.kind {
        OutKind::Answer => desk
            .desk_number
            .clone()
            .or_else(|| desk.lines.first().map(|l| l.number.clone())),
        _ => line,
    }
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
    let mut cmds = Vec::with_capacity(rows.len() * 2);
    for row in &rows {
        if bytes > budget.saturating_sub(ROW_BYTES_MAX) {
            more = true;
            break;
        }
        let sender = sender(loaded, &view, row);
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
