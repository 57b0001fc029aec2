//! Checking an opened database before raft runs on it: every log entry and
//! every raft record decodes, and the log has no hole (purges remove a
//! prefix, truncations a suffix: a hole is damage). sled recovers a damaged file by
//! dropping what it cannot read, so a truncated or corrupted store can open
//! "fine" with part of its log gone; starting raft on it would be a silent
//! partial start: the durable mark (the committed index a flush made
//! durable, written next to the database) tells, since no committed entry
//! is ever removed but by a purge into a snapshot. This must never write to
//! the database.

use std::path::Path;

use super::storage::StorageOpenError;
use crate::codec;
use crate::state_machine::keys;
use crate::types::{Entry, LogId};

/// What a sound database holds (for `smsgw node check`).
#[derive(Debug, Clone, Default)]
pub struct Inspection {
    /// Entries held in the log.
    pub entries: u64,
    /// Index of the first and last entry held.
    pub log_range: Option<(u64, u64)>,
    /// Last index purged into a snapshot.
    pub purged: Option<u64>,
    /// Last index known committed.
    pub committed: Option<u64>,
    /// Last index applied to the state.
    pub applied: Option<u64>,
    /// Committed index last recorded as flushed (the durable mark).
    pub durable: Option<u64>,
}

fn corrupt(path: &Path, what: &str, reason: impl std::fmt::Display) -> StorageOpenError {
    StorageOpenError::Corrupt {
        path: path.to_path_buf(),
        reason: format!("{what}: {reason}"),
    }
}

/// Reads everything raft will read at start; `path` names the database in errors.
pub fn verify(db: &sled::Db, path: &Path, mark: &Path) -> Result<Inspection, StorageOpenError> {
    let tree = |name: &str| {
        db.open_tree(name)
            .map_err(|e| corrupt(path, &format!("tree `{name}`"), e))
    };
    let log = tree("log")?;
    let meta = tree("raft_meta")?;
    let sm = crate::state_machine::state_tree(db).map_err(|e| corrupt(path, "the state tree", e))?;
    let meta = |key: &[u8], what: &str| -> Result<Option<sled::IVec>, StorageOpenError> {
        meta.get(key).map_err(|e| corrupt(path, what, e))
    };
    let purged = match meta(b"last_purged", "raft record `last_purged`")? {
        None => None,
        Some(b) => Some(
            codec::decode::<LogId>(&b)
                .map_err(|e| corrupt(path, "raft record `last_purged`", e))?
                .index,
        ),
    };
    let committed = match meta(b"committed", "raft record `committed`")? {
        None => None,
        Some(b) => codec::decode::<Option<LogId>>(&b)
            .map_err(|e| corrupt(path, "raft record `committed`", e))?
            .map(|l| l.index),
    };
    let applied = match sm
        .get(keys::APPLIED)
        .map_err(|e| corrupt(path, "applied index", e))?
    {
        None => None,
        Some(b) => codec::decode::<Option<LogId>>(&b)
            .map_err(|e| corrupt(path, "applied index", e))?
            .map(|l| l.index),
    };
    let mut out = Inspection {
        purged,
        committed,
        applied,
        ..Inspection::default()
    };
    let mut prev: Option<u64> = None;
    for item in log.iter() {
        let (k, v) = item.map_err(|e| corrupt(path, "raft log", e))?;
        let key: [u8; 8] = k
            .as_ref()
            .try_into()
            .map_err(|_| corrupt(path, "raft log", format!("a key of {} bytes", k.len())))?;
        let index = u64::from_be_bytes(key);
        let entry: Entry =
            codec::decode(&v).map_err(|e| corrupt(path, &format!("raft log entry {index}"), e))?;
        if entry.log_id.index != index {
            let m = format!("stored under {index} but holds entry {}", entry.log_id.index);
            return Err(corrupt(path, "raft log", m));
        }
        if let Some(p) = prev {
            if index != p + 1 {
                let m = format!("entries {} to {} are missing", p + 1, index - 1);
                return Err(corrupt(path, "raft log", m));
            }
        }
        prev = Some(index);
        out.entries += 1;
        out.log_range = Some((out.log_range.map_or(index, |r| r.0), index));
    }
    let durable = crate::log_store::read_mark(mark).map_err(|e| corrupt(mark, "durable mark", e))?;
    if let Some(d) = durable {
        let known = out.log_range.map(|r| r.1).max(purged);
        if !matches!(known, Some(k) if k >= d) {
            let m = format!(
                "the raft log ends at {} but entry {d} was committed and flushed before (per {}): \
                 sled dropped a damaged part of {}",
                known.map_or("nothing".to_string(), |k| k.to_string()),
                mark.display(),
                path.join("db").display()
            );
            return Err(corrupt(path, "lost data", m));
        }
    }
    out.durable = durable;
    if let (Some((first, _)), Some(p)) = (out.log_range, purged) {
        if first > p + 1 {
            let m = format!(
                "entries {} to {} are missing after the snapshot",
                p + 1,
                first - 1
            );
            return Err(corrupt(path, "raft log", m));
        }
    }
    Ok(out)
}
