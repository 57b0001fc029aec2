//! Apply of [`StageCommand`]s: park a chunk, commit a stage through the
//! ordinary accept (or job creation), purge abandoned stages from the time
//! index's cursor.

use smsgw_raft::{ApplyError, Tx};

use super::{keys as sk, StageCommand, StageHead, StageResponse, StagedRows};
use crate::command::{Command, MtPart, Response};
use crate::jobs::{JobCommand, Recipient};
use crate::keys;

/// Applies one staging command written at log `index`.
pub(crate) fn apply_stage(tx: &mut Tx<'_>, index: u64, cmd: &StageCommand) -> Result<Response, ApplyError> {
    match cmd {
        StageCommand::Put {
            stage,
            chunk,
            at_ms,
            rows,
        } => {
            if let Some(r) = bad_stage(stage) {
                return Ok(r);
            }
            let hk = sk::head(stage);
            let mut head = match tx.get::<StageHead>(&hk)? {
                Some(h) => h,
                None => {
                    // Filed at the cursor if the purge already passed its
                    // time, so the next purge still finds it.
                    let at = (*at_ms).max(cursor(tx)?);
                    tx.put_raw(sk::index(at, stage), Vec::new());
                    StageHead {
                        indexed_at: at,
                        chunks: 0,
                    }
                }
            };
            head.chunks = head.chunks.max(chunk.saturating_add(1));
            tx.put(hk, &head)?;
            tx.put(sk::chunk(stage, *chunk), rows)?;
            Ok(Response::Staged(StageResponse::Put { chunk: *chunk }))
        }
        StageCommand::Commit {
            stage,
            chunks,
            command,
        } => commit(tx, index, stage, *chunks, command),
        StageCommand::Purge { before_ms, limit } => Ok(Response::Staged(purge(tx, *before_ms, *limit)?)),
    }
}

/// A stage id that could make one stage's keys another's (a NUL).
fn bad_stage(stage: &str) -> Option<Response> {
    (stage.is_empty() || stage.contains('\0')).then(|| Response::Rejected {
        reason: format!("bad stage id {stage:?}"),
    })
}

fn cursor(tx: &Tx<'_>) -> Result<u64, ApplyError> {
    Ok(tx.get::<u64>(&keys::counter(sk::CURSOR))?.unwrap_or(0))
}

/// Where a stageable command holds what can be staged.
pub(crate) enum Slot<'a> {
    /// An accept (plain or charged) or a job's advance.
    Parts(&'a mut Vec<MtPart>),
    /// A job's creation (plain or charged).
    Recipients(&'a mut Vec<Recipient>),
}

/// The stageable rows of `cmd`, if it has any.
pub(crate) fn slot(cmd: &mut Command) -> Option<Slot<'_>> {
    match cmd {
        Command::AcceptBatch { messages, .. } => Some(Slot::Parts(messages)),
        Command::Charged { command, .. } => match command.as_mut() {
            Command::AcceptBatch { .. }
            | Command::Job {
                change: JobCommand::Create { .. },
                ..
            } => slot(command),
            _ => None,
        },
        Command::Job { change, .. } => match change {
            JobCommand::Advance { messages, .. } => Some(Slot::Parts(messages)),
            JobCommand::Create { recipients, .. } => Some(Slot::Recipients(recipients)),
            _ => None,
        },
        _ => None,
    }
}

/// The request id of an accept or a job's creation (plain or charged):
/// what makes a commit once.
fn once_id(cmd: &mut Command) -> Option<&mut Option<String>> {
    match cmd {
        Command::AcceptBatch { request_id, .. } => Some(request_id),
        Command::Job {
            request_id,
            change: JobCommand::Create { .. },
            ..
        } => Some(request_id),
        Command::Charged { command, .. } => once_id(command),
        _ => None,
    }
}

fn commit(
    tx: &mut Tx<'_>,
    index: u64,
    stage: &str,
    chunks: u32,
    shell: &Command,
) -> Result<Response, ApplyError> {
    if let Some(r) = bad_stage(stage) {
        return Ok(r);
    }
    let mut cmd = shell.clone();
    if slot(&mut cmd).is_none() {
        drop_stage(tx, stage)?;
        return Ok(Response::Rejected {
            reason: "a staged commit carries an accept or a job's creation or advance".into(),
        });
    }
    // The client's key, else the stage's own: a commit applied twice
    // (a re-proposal) takes effect once. A job's advance is once by its chunk.
    if let Some(rid) = once_id(&mut cmd) {
        rid.get_or_insert_with(|| format!("stage/{stage}"));
    }
    if let Some(rid) = cmd.request_id() {
        if let Some(first) = tx.get::<Response>(&keys::request(rid))? {
            drop_stage(tx, stage)?;
            return Ok(Response::Replayed(Box::new(first)));
        }
    }
    let written = tx.get::<StageHead>(&sk::head(stage))?.map_or(0, |h| h.chunks);
    let mut complete = chunks > 0 && written == chunks;
    for n in 0..chunks {
        if !complete {
            break;
        }
        let row = tx.get::<StagedRows>(&sk::chunk(stage, n))?;
        complete = match (slot(&mut cmd), row) {
            (Some(Slot::Parts(to)), Some(StagedRows::Parts(mut p))) => {
                to.append(&mut p);
                true
            }
            (Some(Slot::Recipients(to)), Some(StagedRows::Recipients(mut r))) => {
                to.append(&mut r);
                true
            }
            _ => false,
        };
    }
    if !complete {
        // Never part of a request: a chunk lost (purged, never written),
        // one too many, or of the wrong kind refuses the whole commit.
        drop_stage(tx, stage)?;
        return Ok(Response::Rejected {
            reason: format!("stage {stage} does not hold chunks 0..{chunks} of its kind (it has {written})"),
        });
    }
    let r = crate::apply::apply_command(tx, index, &cmd)?;
    drop_stage(tx, stage)?;
    Ok(r)
}

/// Deletes a stage's rows and its index row, if it is there.
fn drop_stage(tx: &mut Tx<'_>, stage: &str) -> Result<bool, ApplyError> {
    let hk = sk::head(stage);
    let Some(head) = tx.get::<StageHead>(&hk)? else {
        return Ok(false);
    };
    for n in 0..head.chunks {
        tx.remove(sk::chunk(stage, n));
    }
    tx.remove(sk::index(head.indexed_at, stage));
    tx.remove(hk);
    Ok(true)
}

/// Drops stages filed before `before`, from the cursor, at most `limit`.
fn purge(tx: &mut Tx<'_>, before: u64, limit: u32) -> Result<StageResponse, ApplyError> {
    let from = cursor(tx)?;
    let limit = limit as usize;
    if before <= from || limit == 0 {
        return Ok(StageResponse::Purged {
            stages: 0,
            more: before > from,
        });
    }
    let start = [sk::INDEX, &from.to_be_bytes()].concat();
    let end = [sk::INDEX, &before.to_be_bytes()].concat();
    let rows = tx.committed_keys(&start, &end, limit)?;
    let more = rows.len() == limit;
    let mut reached = before;
    if more {
        // Rows of the last time may remain: the next purge starts there.
        reached = rows
            .last()
            .and_then(|k| sk::parse_index(k))
            .map_or(from, |(at, _)| at);
    }
    let mut stages = 0;
    for key in rows {
        if let Some((_, stage)) = sk::parse_index(&key) {
            if drop_stage(tx, &stage)? {
                stages += 1;
            }
        }
        tx.remove(key);
    }
    tx.put(keys::counter(sk::CURSOR), &reached.max(from))?;
    Ok(StageResponse::Purged { stages, more })
}
