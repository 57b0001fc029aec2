//! Apply of [`EventsCommand`] and the report hook: deterministic, through
//! the transaction only.

use smsgw_raft::{ApplyError, Tx};

use super::{AccountEvents, Event, EventKind, EventsCommand, EventsResponse, MAX_PENDING, MAX_TAKE};
use crate::command::{MoRecord, PartRecord};
use crate::keys;

fn meta(tx: &Tx<'_>, account: &str) -> Result<AccountEvents, ApplyError> {
    Ok(tx.get(&keys::events::account(account))?.unwrap_or_default())
}

/// Appends `kind` to `account`'s queue if it is subscribed, dropping the
/// oldest event when the queue is full.
fn append(tx: &mut Tx<'_>, account: &str, kind: EventKind) -> Result<bool, ApplyError> {
    append_capped(tx, account, kind, MAX_PENDING)
}

pub(super) fn append_capped(
    tx: &mut Tx<'_>,
    account: &str,
    kind: EventKind,
    cap: u64,
) -> Result<bool, ApplyError> {
    let mut m = meta(tx, account)?;
    if !m.subscribed {
        return Ok(false);
    }
    if m.pending() >= cap {
        m.acked += 1;
        m.dropped += 1;
        tx.remove(keys::events::event(account, m.acked));
    }
    m.last_seq += 1;
    tx.put(
        keys::events::event(account, m.last_seq),
        &Event {
            seq: m.last_seq,
            kind,
        },
    )?;
    tx.put(keys::events::account(account), &m)?;
    Ok(true)
}

/// Head `mid.0` (`head`, before or after its update) got its final `state`.
pub(crate) fn message_final(
    tx: &mut Tx<'_>,
    mid: &str,
    head: &PartRecord,
    state: &str,
    at_ms: u64,
) -> Result<(), ApplyError> {
    let kind = EventKind::Report {
        message: mid.to_string(),
        to: head.part.to.clone(),
        state: state.to_string(),
        parts: head.part.parts,
        accepted_at_ms: head.part.accepted_at_ms,
        final_at_ms: at_ms,
    };
    append(tx, &head.part.account, kind).map(|_| ())
}

/// Applies one change.
pub(crate) fn apply_events(tx: &mut Tx<'_>, cmd: &EventsCommand) -> Result<EventsResponse, ApplyError> {
    match cmd {
        EventsCommand::Subscribe { accounts } => {
            let before: Vec<String> = tx.get(&keys::events::subscriptions())?.unwrap_or_default();
            for a in before.iter().filter(|a| !accounts.contains(a)) {
                let mut m = meta(tx, a)?;
                m.subscribed = false;
                tx.put(keys::events::account(a), &m)?;
            }
            for a in accounts {
                let mut m = meta(tx, a)?;
                if !m.subscribed {
                    m.subscribed = true;
                    tx.put(keys::events::account(a), &m)?;
                }
            }
            // MOs are taken from the first subscription on, never from the
            // start of history.
            let cursor = keys::counter(keys::counter::EVENTS_MO_CURSOR);
            if !tx.contains(&cursor)? {
                let mos = tx.get::<u64>(&keys::counter(keys::counter::MOS))?.unwrap_or(0);
                tx.put(cursor, &mos)?;
            }
            tx.put(keys::events::subscriptions(), accounts)?;
            Ok(EventsResponse::Subscribed)
        }
        EventsCommand::TakeMos { after, through, mos } => {
            let cursor = keys::counter(keys::counter::EVENTS_MO_CURSOR);
            let last_mo = tx.get::<u64>(&keys::counter(keys::counter::MOS))?.unwrap_or(0);
            let valid = tx.get::<u64>(&cursor)? == Some(*after)
                && after < through
                && *through <= last_mo
                && through - after <= MAX_TAKE;
            if !valid {
                return Ok(EventsResponse::Stale);
            }
            let mut appended = 0;
            for (account, seq) in mos.iter().filter(|(_, s)| after < s && s <= through) {
                let Some(mo) = tx.get::<MoRecord>(&keys::mo(*seq))? else {
                    continue;
                };
                let kind = EventKind::Mo {
                    mo_seq: *seq,
                    message: mo.message,
                };
                if append(tx, account, kind)? {
                    appended += 1;
                }
            }
            tx.put(cursor, through)?;
            Ok(EventsResponse::MosTaken { appended })
        }
        EventsCommand::Ack { account, through } => {
            let mut m = meta(tx, account)?;
            let through = (*through).min(m.last_seq);
            if through <= m.acked {
                return Ok(EventsResponse::Stale);
            }
            for seq in m.acked + 1..=through {
                tx.remove(keys::events::event(account, seq));
            }
            let removed = through - m.acked;
            m.acked = through;
            tx.put(keys::events::account(account), &m)?;
            Ok(EventsResponse::Acked { removed })
        }
    }
}
