//! The leader's intake: reads the MOs after the desk's replicated cursor
//! and classifies each by the document in force: a text to a line is an
//! alarm (with its triage rank), a command word from a registered
//! officer's phone to the desk number is his command, anything else to
//! the desk number from an unknown phone is logged and counted. One
//! `Intake` names the cursor it read from, so no MO is taken twice.

use smsgw_config::normalize_number;
use smsgw_state::alarm::{is_command, parse_officer_sms, AlarmCommand, IntakeItem, LineRef};
use smsgw_state::Command;

use crate::api::state::{now_ms, AppState, Loaded};

/// MOs read per step.
const BATCH: u64 = 500;

/// One batch; whether MOs are left after it.
pub(super) async fn step(state: &AppState, loaded: &Loaded) -> Result<bool, String> {
    let view = smsgw_state::local_view(&state.cluster);
    let alarm = view.alarm();
    let desk = &loaded.doc.alarm;
    let cursor = alarm
        .counter(smsgw_state::alarm::keys::counter::CURSOR)
        .map_err(|e| e.to_string())?;
    let last = view
        .counter(smsgw_state::keys::counter::MOS)
        .map_err(|e| e.to_string())?;
    if last <= cursor {
        return Ok(false);
    }
    let through = last.min(cursor + BATCH);
    let mut items = Vec::new();
    for seq in cursor + 1..=through {
        let Some(mo) = view.mo(seq).map_err(|e| e.to_string())? else {
            continue;
        };
        let m = &mo.message;
        let sp = loaded
            .doc
            .carrier(&m.carrier)
            .and_then(|c| c.sp_number.as_deref());
        let from = normalize_number(&m.from);
        let text = String::from_utf8_lossy(&m.payload).trim().to_string();
        let line = desk.line_for(&m.to, sp);
        let at_desk = desk.is_desk_number(&m.to, sp);
        let officer = if at_desk {
            alarm.officer_by_phone(&from).map_err(|e| e.to_string())?
        } else {
            None
        };
        match (officer, line) {
            (Some(o), l) if l.is_none() || is_command(&text) => items.push(IntakeItem::Officer {
                mo_seq: seq,
                badge: o.badge,
                command: parse_officer_sms(&text),
            }),
            (_, Some(l)) => items.push(IntakeItem::Alarm {
                mo_seq: seq,
                line: LineRef {
                    number: l.number.clone(),
                    kind: l.kind.clone(),
                    priority: l.priority,
                    reply: l.reply.clone(),
                },
                rank: desk.rank(l, &text),
                citizen: from,
                text,
                at_ms: m.received_at_ms,
                carrier: m.carrier.clone(),
            }),
            (None, None) if at_desk => {
                // Logged without the text: it may be anyone's.
                tracing::info!(
                    mo_seq = seq,
                    "alarm desk: a text to the desk number from an unknown phone"
                );
                items.push(IntakeItem::Unknown { mo_seq: seq });
            }
            _ => {}
        }
    }
    let cmd = Command::Alarm {
        at_ms: now_ms(),
        change: AlarmCommand::Intake {
            after: cursor,
            through,
            policy: super::policy(desk),
            items,
        },
    };
    super::propose(state, cmd).await?;
    Ok(through < last)
}
