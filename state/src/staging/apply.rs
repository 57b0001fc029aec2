//! Apply of [`StageCommand`]s: park a chunk, commit a stage through the
//! ordinary accept, purge abandoned stages from the time index's cursor.

use smsgw_raft::{ApplyError, Tx};

use super::{keys as sk, StageCommand, StageHead, StageResponse};
use crate::command::{Command, MtPart, Response};
use crate::jobs::JobCommand;
use crate::keys;

/// Applies one staging command written at log `index`.
pub(crate) fn apply_stage(tx: &mut Tx<'_>, index: u64, cmd: &StageCommand) -> Result<Response, ApplyError> {
    match cmd {
        StageCommand::Put {
            stage,
            chunk,
            at_ms,
            messages,
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
            tx.put(sk::chunk(stage, *chunk), messages)?;
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

/// The parts of a command that can be staged: an `AcceptBatch`, one inside
/// `Charged`, or a job's `Advance`.
pub(crate) fn parts_mut(cmd: &mut Command) -> Option<&mut Vec<MtPart>> {
    match cmd {
        Command::AcceptBatch { messages, .. } => Some(messages),
        Command::Charged { command, .. } => match command.as_mut() {
            Command::AcceptBatch { messages, .. } => Some(messages),
            _ => None,
        },
        Command::Job {
            change: JobCommand::Advance { messages, .. },
            ..
        } => Some(messages),
        _ => None,
    }
}

/// The request id of an accept (plain or charged).
fn accept_request_id(cmd: &mut Command) -> Option<&mut Option<String>> {
    match cmd {
        Command::AcceptBatch { request_id, .. } => Some(request_id),
        Command::Charged { command, .. } => accept_request_id(command),
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
    if parts_mut(&mut cmd).is_none() {
        drop_stage(tx, stage)?;
        return Ok(Response::Rejected {
            reason: "a staged commit carries an accept or a job's advance".into(),
        });
    }
    // The client's key, else the stage's own: a commit applied twice
    // (a re-proposal) accepts once. A job's advance is once by its chunk.
    if let Some(rid) = accept_request_id(&mut cmd) {
        rid.get_or_insert_with(|| format!("stage/{stage}"));
    }
    if let Some(rid) = cmd.request_id() {
        if let Some(first) = tx.get::<Response>(&keys::request(rid))? {
            drop_stage(tx, stage)?;
            return Ok(Response::Replayed(Box::new(first)));
        }
    }
    let written = tx.get::<StageHead>(&sk::head(stage))?.map_or(0, |h| h.chunks);
    let mut staged = Vec::new();
    let mut complete = chunks > 0 && written == chunks;
    for n in 0..chunks {
        match tx.get::<Vec<MtPart>>(&sk::chunk(stage, n))? {
            Some(mut m) if complete => staged.append(&mut m),
            _ => {
                complete = false;
                break;
            }
        }
    }
    if !complete {
        // Never part of a request: a chunk lost (purged, never written)
        // or one too many refuses the whole commit.
        drop_stage(tx, stage)?;
        return Ok(Response::Rejected {
            reason: format!("stage {stage} does not hold chunks 0..{chunks} (it has {written})"),
        });
    }
    if let Some(parts) = parts_mut(&mut cmd) {
        parts.append(&mut staged);
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
