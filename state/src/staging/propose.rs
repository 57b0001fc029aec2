//! The proposing side: a command whose parts (or a job's recipients) would
//! encode past [`MAX_COMMAND_BYTES`] goes as stage puts and one commit;
//! any other goes as it is, with nothing but a sum of lengths added.

use futures::StreamExt;
use smsgw_raft::{Cluster, ProposeError};

use super::apply::{slot, Slot};
use super::{StageCommand, StageResponse, StagedRows, CHUNK_BYTES, MAX_COMMAND_BYTES};
use crate::command::{Command, MtPart, Response};
use crate::jobs::Recipient;

/// Room for what a command holds besides its parts (account, request id,
/// a job's spec, the enum tags and counts around them).
pub const SHELL_BYTES: usize = 4 * 1024;

/// Stage entries of one request proposed at once (the proposer's own
/// entries in flight).
const PUTS_IN_FLIGHT: usize = 2;

/// An upper bound of the bytes `part` takes in the log's encoding
/// (bincode varints: at most 9 bytes per length or integer).
pub fn part_bytes(p: &MtPart) -> usize {
    let route = p.queue.as_ref().map_or(0, |q| q.route.len());
    p.id.len() + p.account.len() + p.to.len() + p.payload.len() + route + 64
}

/// An upper bound of the bytes a job's recipient takes in the log.
pub fn recipient_bytes(r: &Recipient) -> usize {
    r.to.len() + r.text.len() + 40
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

fn runs<T>(rows: Vec<T>, max_bytes: usize, size: impl Fn(&T) -> usize) -> Vec<Vec<T>> {
    let mut out: Vec<Vec<T>> = Vec::new();
    let mut total = 0;
    for r in rows {
        let b = size(&r);
        match out.last_mut() {
            Some(run) if total + b <= max_bytes => run.push(r),
            _ => {
                out.push(vec![r]);
                total = 0;
            }
        }
        total += b;
    }
    out
}

/// `parts` in order, cut into runs of at most `max_bytes` (by
/// [`part_bytes`]; a run holds at least one part).
pub fn chunks(parts: Vec<MtPart>, max_bytes: usize) -> Vec<Vec<MtPart>> {
    runs(parts, max_bytes, part_bytes)
}

/// Proposes `cmd` (proposer's clock `at_ms`) and answers what its apply
/// answered. An accept (plain or charged) or a job's advance whose parts
/// do not [`fit`](fits) is staged under its first part's id; see
/// [`propose_bounded_as`].
pub async fn propose_bounded(cluster: &Cluster, cmd: Command, at_ms: u64) -> Result<Response, ProposeError> {
    propose_bounded_as(cluster, cmd, at_ms, None).await
}

/// As [`propose_bounded`], and a job's creation whose recipients do not
/// fit is staged too, under `stage` (an id drawn for it, never reused; a
/// creation that needs staging without one is proposed whole). Staged: the
/// rows in entries of at most [`CHUNK_BYTES`], then one commit that takes
/// them all or none. A stage entry that answers anything but "parked"
/// ends it there with that answer (nothing was accepted; the purge drops
/// what was parked).
pub async fn propose_bounded_as(
    cluster: &Cluster,
    mut cmd: Command,
    at_ms: u64,
    stage: Option<String>,
) -> Result<Response, ProposeError> {
    let (stage, rows) = match slot(&mut cmd) {
        Some(Slot::Parts(p)) if !fits(p) => {
            let stage = stage.or_else(|| p.first().map(|m| m.id.clone()));
            let rows = runs(std::mem::take(p), CHUNK_BYTES, part_bytes);
            (stage, rows.into_iter().map(StagedRows::Parts).collect::<Vec<_>>())
        }
        Some(Slot::Recipients(r)) if stage.is_some() => {
            let recipients = std::mem::take(r);
            // A job's spec (its group names) is measured, not assumed: off
            // the hot path, and as long as the request's body allows.
            let shell = smsgw_raft::codec::encode(&cmd).map_or(usize::MAX, |b| b.len());
            let rows: usize = recipients.iter().map(recipient_bytes).sum();
            if shell.saturating_add(rows) <= MAX_COMMAND_BYTES {
                if let Some(Slot::Recipients(r)) = slot(&mut cmd) {
                    *r = recipients;
                }
                (None, Vec::new())
            } else {
                let rows = runs(recipients, CHUNK_BYTES, recipient_bytes);
                (stage, rows.into_iter().map(StagedRows::Recipients).collect())
            }
        }
        _ => (None, Vec::new()),
    };
    let Some(stage) = stage.filter(|_| !rows.is_empty()) else {
        return crate::propose(cluster, &cmd).await;
    };
    // A retry of a request this node already knows committed (its
    // `client_ref`): no need to stage it again, a commit of nothing
    // answers the first response (or, were the key gone since, refuses).
    let known = cmd.request_id().is_some_and(|rid| {
        let view = cluster.read_local_possibly_stale();
        matches!(view.get_raw(&crate::keys::request(rid)), Ok(Some(_)))
    });
    if known {
        let commit = Command::Stage(StageCommand::Commit {
            stage,
            chunks: 0,
            command: Box::new(cmd),
        });
        return crate::propose(cluster, &commit).await;
    }
    let n = rows.len() as u32;
    metrics::counter!("smsgw_staged_accepts_total").increment(1);
    metrics::counter!("smsgw_staged_chunks_total").increment(u64::from(n));
    let puts = rows.into_iter().enumerate().map(|(i, rows)| {
        let put = Command::Stage(StageCommand::Put {
            stage: stage.clone(),
            chunk: i as u32,
            at_ms,
            rows,
        });
        async move { crate::propose(cluster, &put).await }
    });
    // A few at a time: each proposal's timeout runs from its enqueueing,
    // so a dozen queued at once would spend the last ones' time waiting.
    let mut answers = futures::stream::iter(puts).buffered(PUTS_IN_FLIGHT);
    while let Some(answer) = answers.next().await {
        let answer = answer?;
        if !matches!(answer, Response::Staged(StageResponse::Put { .. })) {
            return Ok(answer);
        }
    }
    drop(answers);
    let commit = Command::Stage(StageCommand::Commit {
        stage,
        chunks: n,
        command: Box::new(cmd),
    });
    crate::propose(cluster, &commit).await
}
