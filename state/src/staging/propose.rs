//! The proposing side: a command whose parts would encode past
//! [`MAX_COMMAND_BYTES`] goes as stage puts and one commit; any other
//! goes as it is, with nothing but a sum of lengths added.

use smsgw_raft::{Cluster, ProposeError};

use super::{apply::parts_mut, StageCommand, StageResponse, CHUNK_BYTES, MAX_COMMAND_BYTES};
use crate::command::{Command, MtPart, Response};

/// Room for what a command holds besides its parts (account, request id,
/// the enum tags and counts around them).
pub const SHELL_BYTES: usize = 4 * 1024;

/// An upper bound of the bytes `part` takes in the log's encoding
/// (bincode varints: at most 9 bytes per length or integer).
pub fn part_bytes(p: &MtPart) -> usize {
    let route = p.queue.as_ref().map_or(0, |q| q.route.len());
    p.id.len() + p.account.len() + p.to.len() + p.payload.len() + route + 64
}

/// Whether a command holding `parts` fits in one entry.
pub fn fits(parts: &[MtPart]) -> bool {
    let mut total = SHELL_BYTES;
    for p in parts {
        total += part_bytes(p);
        if total > MAX_COMMAND_BYTES {
            return false;
        }
    }
    true
}

/// `parts` in order, cut into runs of at most `max_bytes` (by
/// [`part_bytes`]; a run holds at least one part).
pub fn chunks(parts: Vec<MtPart>, max_bytes: usize) -> Vec<Vec<MtPart>> {
    let mut out: Vec<Vec<MtPart>> = Vec::new();
    let mut size = 0;
    for p in parts {
        let b = part_bytes(&p);
        match out.last_mut() {
            Some(run) if size + b <= max_bytes => run.push(p),
            _ => {
                out.push(vec![p]);
                size = 0;
            }
        }
        size += b;
    }
    out
}

/// Proposes `cmd` (proposer's clock `at_ms`) and answers what its apply
/// answered. An accept (plain or charged) or a job's advance whose parts
/// do not [`fit`](fits) is staged: its parts in entries of at most
/// [`CHUNK_BYTES`], then one commit that accepts them all or none. A stage
/// entry that answers anything but "parked" ends it there with that
/// answer (nothing was accepted; the purge drops what was parked).
pub async fn propose_bounded(
    cluster: &Cluster,
    mut cmd: Command,
    at_ms: u64,
) -> Result<Response, ProposeError> {
    let Some(parts) = parts_mut(&mut cmd).filter(|p| !fits(p)) else {
        return crate::propose(cluster, &cmd).await;
    };
    let parts = std::mem::take(parts);
    let Some(stage) = parts.first().map(|p| p.id.clone()) else {
        return crate::propose(cluster, &cmd).await;
    };
    let runs = chunks(parts, CHUNK_BYTES);
    let n = runs.len() as u32;
    metrics::counter!("smsgw_staged_accepts_total").increment(1);
    metrics::counter!("smsgw_staged_chunks_total").increment(u64::from(n));
    let puts = runs.into_iter().enumerate().map(|(i, messages)| {
        let put = Command::Stage(StageCommand::Put {
            stage: stage.clone(),
            chunk: i as u32,
            at_ms,
            messages,
        });
        async move { crate::propose(cluster, &put).await }
    });
    let answers = futures::future::try_join_all(puts).await?;
    if let Some(other) = answers
        .into_iter()
        .find(|r| !matches!(r, Response::Staged(StageResponse::Put { .. })))
    {
        return Ok(other);
    }
    let commit = Command::Stage(StageCommand::Commit {
        stage,
        chunks: n,
        command: Box::new(cmd),
    });
    crate::propose(cluster, &commit).await
}
