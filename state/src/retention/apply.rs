//! The retention rows apply writes as messages close and request ids are
//! remembered, and the purge that reads them back from its cursors.

use smsgw_raft::{ApplyError, Tx};

use super::{Closed, Final, PurgeReport};
use crate::command::{Command, MoRecord, PartRecord, PendingReport};
use crate::jobs::JobCommand;
use crate::keys::{self, counter, retention as rk};

fn cursor(tx: &Tx<'_>, name: &str) -> Result<u64, ApplyError> {
    Ok(tx.get::<u64>(&keys::counter(name))?.unwrap_or(0))
}

/// Part `part` was just given its carrier id (`part.carrier_msg_id`) by
/// `carrier`, replacing `previous`. The purge finds a part's `k/` row from
/// its head's route and its last id; only what that does not name gets an
/// `E/s` row: an id from another carrier (a backup route), and the id a
/// resubmission replaces.
pub(crate) fn submitted(
    tx: &mut Tx<'_>,
    part: &PartRecord,
    carrier: &str,
    previous: Option<&str>,
) -> Result<(), ApplyError> {
    let pid = part.part.id.as_str();
    let route = route_of(tx, pid)?;
    if let (Some(route), Some(old)) = (&route, previous) {
        tx.put_raw(rk::submitted(pid, route, old), Vec::new());
    }
    if let (Some(id), false) = (&part.carrier_msg_id, route.as_deref() == Some(carrier)) {
        tx.put_raw(rk::submitted(pid, carrier, id), Vec::new());
    }
    Ok(())
}

/// The route of the message part `pid` belongs to (its head's queue).
fn route_of(tx: &Tx<'_>, pid: &str) -> Result<Option<String>, ApplyError> {
    let Some((mid, _)) = pid.rsplit_once('.') else {
        return Ok(None);
    };
    let head = crate::parts::get(tx, &format!("{mid}.0"))?;
    Ok(head.and_then(|h| h.part.queue).map(|q| q.route))
}

/// Message `mid` (head `head`) closed at `closed_at_ms` as `f/finals_seq`:
/// the close order's row carries what its purge needs, so the purge walks
/// the close order itself and no index row is written beside it.
pub(crate) fn message_closed(
    tx: &mut Tx<'_>,
    head: &PartRecord,
    mid: &str,
    finals_seq: u64,
    closed_at_ms: u64,
) -> Result<(), ApplyError> {
    let row = Final {
        mid: mid.to_string(),
        account: head.part.account.clone(),
        accepted_at_ms: head.part.accepted_at_ms,
        closed_at_ms,
        parts: head.part.parts,
    };
    tx.put_raw(keys::finals(finals_seq), row.encode()?);
    Ok(())
}

/// The time a request id of `cmd` expires from, for those that expire
/// (accepts, job creations, MOs); `None` keeps it for good (top-up
/// references are money).
fn expiring_at(cmd: &Command) -> Option<u64> {
    match cmd {
        Command::AcceptBatch { messages, .. } => messages.first().map(|m| m.accepted_at_ms),
        Command::Charged { at_ms, command, .. } => expiring_at(command).map(|_| *at_ms),
        Command::RecordMo { message, .. } => Some(message.received_at_ms),
        Command::RecordMoSegments { message, .. } => Some(message.received_at_ms),
        Command::Job {
            change: JobCommand::Create { spec, .. },
            ..
        } => Some(spec.created_ms),
        _ => None,
    }
}

/// A report for (`carrier`, `id`) arrived at `at_ms` before its submit
/// result and was parked in `w/`: filed so that the purge drops it if
/// the result never comes (at the cursor if the purge already passed
/// its time).
pub(crate) fn report_parked(tx: &mut Tx<'_>, carrier: &str, id: &str, at_ms: u64) -> Result<(), ApplyError> {
    let at = at_ms.max(cursor(tx, rk::counter::PARKED)?);
    tx.put_raw(rk::parked(at, carrier, id), Vec::new());
    Ok(())
}

/// Request id `rid` of `cmd` was just remembered under `r/`.
pub(crate) fn request_remembered(tx: &mut Tx<'_>, cmd: &Command, rid: &str) -> Result<(), ApplyError> {
    if let Some(at) = expiring_at(cmd) {
        let at = at.max(cursor(tx, rk::counter::REQUESTS)?);
        tx.put_raw(rk::request(at, rid), Vec::new());
    }
    Ok(())
}

/// Deletes, through the indexes, closed messages accepted before
/// `before_ms`, MOs received before it and request ids remembered before
/// `keys_before_ms`: at most `limit` rows in all.
pub(crate) fn apply_purge(
    tx: &mut Tx<'_>,
    before_ms: u64,
    keys_before_ms: u64,
    limit: u32,
) -> Result<PurgeReport, ApplyError> {
    let mut report = PurgeReport::default();
    let mut budget = limit as usize;
    budget -= purge_finals(tx, before_ms, budget, &mut report)?;
    budget -= purge_table(
        tx,
        rk::MESSAGES,
        rk::counter::MESSAGES,
        before_ms,
        budget,
        &mut report,
    )?;
    budget -= purge_table(
        tx,
        rk::REQUESTS,
        rk::counter::REQUESTS,
        keys_before_ms,
        budget,
        &mut report,
    )?;
    budget -= purge_table(
        tx,
        rk::PARKED,
        rk::counter::PARKED,
        keys_before_ms,
        budget,
        &mut report,
    )?;
    purge_mos(tx, before_ms, budget, &mut report)?;
    Ok(report)
}

/// Purges the rows of one time index from its cursor to `before`; the
/// number of rows read.
fn purge_table(
    tx: &mut Tx<'_>,
    table: &[u8],
    cursor_name: &str,
    before: u64,
    budget: usize,
    report: &mut PurgeReport,
) -> Result<usize, ApplyError> {
    let from = cursor(tx, cursor_name)?;
    if before <= from || budget == 0 {
        report.more |= before > from;
        return Ok(0);
    }
    let start = [table, &from.to_be_bytes()].concat();
    let end = [table, &before.to_be_bytes()].concat();
    let rows = tx.committed_keys(&start, &end, budget)?;
    let mut reached = before;
    if rows.len() == budget {
        // Rows of the last time may remain: the next purge starts there.
        report.more = true;
        reached = rows
            .last()
            .and_then(|k| rk::parse(table, k))
            .map_or(from, |(at, _)| at);
    }
    for key in &rows {
        let Some((_, name)) = rk::parse(table, key) else {
            tx.remove(key.clone());
            continue;
        };
        if table == rk::MESSAGES {
            if let Some(closed) = tx.get::<Closed>(key)? {
                purge_message(tx, &name, &closed, report)?;
            }
        } else if table == rk::PARKED {
            purge_parked(tx, &name, before, report)?;
        } else {
            tx.remove(keys::request(&name));
            report.requests += 1;
        }
        tx.remove(key.clone());
    }
    tx.put(keys::counter(cursor_name), &reached.max(from))?;
    Ok(rows.len())
}

/// Purges closed messages in their close order from the finals cursor
/// while they closed before `before`; the number of rows read. The close
/// times follow the order (each is the committing leader's clock), so the
/// first one still kept ends the purge. Legacy rows (a bare message id)
/// are left to their `E/m` row and passed.
fn purge_finals(
    tx: &mut Tx<'_>,
    before: u64,
    budget: usize,
    report: &mut PurgeReport,
) -> Result<usize, ApplyError> {
    let last = cursor(tx, counter::FINALS)?;
    walk_dense(
        tx,
        rk::counter::FINALS,
        last,
        budget,
        report,
        |tx, seq, report| {
            let Some(value) = tx.get_raw(&keys::finals(seq))? else {
                return Ok(true);
            };
            let Some(row) = Final::decode(&value)? else {
                return Ok(true);
            };
            if row.closed_at_ms >= before {
                return Ok(false);
            }
            let closed = Closed {
                account: row.account,
                accepted_at_ms: row.accepted_at_ms,
                parts: row.parts,
                finals_seq: seq,
            };
            purge_message(tx, &row.mid, &closed, report)?;
            Ok(true)
        },
    )
}

/// Walks a dense sequence from its purge cursor `cursor_name` up to
/// `bound`, at most `budget` numbers: `step` purges one and says whether
/// the walk goes on (the first one kept ends it). Moves the cursor past
/// what was walked; returns how many numbers were.
fn walk_dense<'t>(
    tx: &mut Tx<'t>,
    cursor_name: &str,
    bound: u64,
    budget: usize,
    report: &mut PurgeReport,
    mut step: impl FnMut(&mut Tx<'t>, u64, &mut PurgeReport) -> Result<bool, ApplyError>,
) -> Result<usize, ApplyError> {
    let from = cursor(tx, cursor_name)?;
    let mut seq = from;
    while seq < bound {
        if (seq - from) as usize >= budget {
            report.more = true;
            break;
        }
        if !step(tx, seq + 1, report)? {
            break;
        }
        seq += 1;
    }
    if seq != from {
        tx.put(keys::counter(cursor_name), &seq)?;
    }
    Ok((seq - from) as usize)
}

/// Drops the report parked under `name` (`CARRIER \0 ID`) if it is still
/// there and older than `before`: a newer report parked since under the
/// same id (a carrier's re-delivery) has its own `E/w` row and stays.
fn purge_parked(
    tx: &mut Tx<'_>,
    name: &str,
    before: u64,
    report: &mut PurgeReport,
) -> Result<(), ApplyError> {
    let Some((carrier, id)) = name.split_once('\0') else {
        return Ok(());
    };
    let k = keys::pending_report(carrier, id);
    if let Some(p) = tx.get::<PendingReport>(&k)? {
        if p.at_ms < before {
            tx.remove(k);
            report.parked_reports += 1;
        }
    }
    Ok(())
}

/// Deletes message `mid`: its parts, their carrier ids, its account
/// record row, job link, charge and closing sequence.
fn purge_message(
    tx: &mut Tx<'_>,
    mid: &str,
    closed: &Closed,
    report: &mut PurgeReport,
) -> Result<(), ApplyError> {
    let removed = crate::parts::remove_message(tx, mid, closed.parts)?;
    let parts = removed.len() as u64;
    let route = removed
        .first()
        .and_then(|(_, head)| head.part.queue.as_ref())
        .map(|q| q.route.clone());
    for (pid, rec) in &removed {
        if let (Some(route), Some(id)) = (&route, &rec.carrier_msg_id) {
            forget_carrier_id(tx, pid, route, id)?;
        }
    }
    for k in 0..=closed.parts {
        let pid = format!("{mid}.{k}");
        let submits = rk::submits(&pid);
        for row in tx.committed_keys(&submits, &keys::prefix_end(&submits), 64)? {
            if let Some((carrier, id)) = rk::parse_submitted(&pid, &row) {
                forget_carrier_id(tx, &pid, &carrier, &id)?;
            }
            tx.remove(row);
        }
    }
    tx.remove(keys::record(&closed.account, closed.accepted_at_ms, mid));
    tx.remove(keys::message_job(mid));
    tx.remove(keys::charge(mid));
    tx.remove(keys::finals(closed.finals_seq));
    tx.add(&keys::counter(counter::PARTS), -(parts as i64))?;
    report.parts += parts;
    report.messages += 1;
    Ok(())
}

/// Removes the `k/` row (`carrier`, `id`) if it still names part `pid`:
/// carriers recycle ids, and a newer part may own this one now.
fn forget_carrier_id(tx: &mut Tx<'_>, pid: &str, carrier: &str, id: &str) -> Result<(), ApplyError> {
    let ck = keys::carrier_id(carrier, id);
    if tx.get::<String>(&ck)?.as_deref() == Some(pid) {
        tx.remove(ck);
    }
    Ok(())
}

/// Purges MOs received before `before` from the MO cursor, never past
/// what the MO intake (statistics, opt-outs) and the callback tailer read.
fn purge_mos(
    tx: &mut Tx<'_>,
    before: u64,
    budget: usize,
    report: &mut PurgeReport,
) -> Result<(), ApplyError> {
    let mut bound = cursor(tx, counter::MOS)?.min(cursor(tx, counter::MO_INTAKE)?);
    if let Some(tailer) = tx.get::<u64>(&keys::counter(counter::EVENTS_MO_CURSOR))? {
        bound = bound.min(tailer);
    }
    walk_dense(tx, rk::counter::MOS, bound, budget, report, |tx, seq, report| {
        let k = keys::mo(seq);
        match tx.get::<MoRecord>(&k)? {
            // MOs arrive in time order (within a session's clock): the
            // first one still kept ends the purge.
            Some(mo) if mo.message.received_at_ms >= before => return Ok(false),
            Some(_) => {
                tx.remove(k);
                report.mos += 1;
            }
            None => {}
        }
        Ok(true)
    })?;
    Ok(())
}
