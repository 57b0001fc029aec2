//! Snapshots of the state-machine tree: captured consistently between two
//! applies, encoded with bincode, stored in the `snapshot` tree, installed by
//! replacing the tree's content in one atomic batch. It must never mix keys
//! of the old and the new state after an install.

use std::io::Cursor;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use openraft::{RaftSnapshotBuilder, StorageError};
use serde::{Deserialize, Serialize};

use super::keys;
use super::sm_err;
use crate::app::ApplyError;
use crate::codec;
use crate::types::{LogId, NodeId, SnapshotMeta, StoredMembership, TypeConfig};

const FORMAT: u32 = 1;
const KEY_CURRENT: &[u8] = b"current";

/// The encoded content of a snapshot.
#[derive(Serialize, Deserialize)]
struct Body {
    format: u32,
    kv: Vec<(Vec<u8>, Vec<u8>)>,
}

/// A snapshot as kept on disk: its meta and the encoded body.
#[derive(Serialize, Deserialize)]
struct Stored {
    meta: SnapshotMeta,
    data: Vec<u8>,
}

/// Builds a snapshot from a copy of the state taken between two applies.
pub struct SnapshotBuilder {
    kv: Vec<(Vec<u8>, Vec<u8>)>,
    capture_error: Option<String>,
    snapshots: sled::Tree,
    counter: Arc<AtomicU64>,
}

impl SnapshotBuilder {
    pub(crate) fn capture(tree: &sled::Tree, snapshots: &sled::Tree, counter: Arc<AtomicU64>) -> Self {
        let mut kv = Vec::new();
        let mut capture_error = None;
        for item in tree.iter() {
            match item {
                Ok((k, v)) => kv.push((k.to_vec(), v.to_vec())),
                Err(e) => {
                    capture_error = Some(e.to_string());
                    break;
                }
            }
        }
        Self {
            kv,
            capture_error,
            snapshots: snapshots.clone(),
            counter,
        }
    }

    fn value<T: serde::de::DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, ApplyError> {
        match self.kv.iter().find(|(k, _)| k.as_slice() == key) {
            None => Ok(None),
            Some((_, v)) => Ok(Some(codec::decode(v)?)),
        }
    }
}

impl RaftSnapshotBuilder<TypeConfig> for SnapshotBuilder {
    async fn build_snapshot(&mut self) -> Result<openraft::Snapshot<TypeConfig>, StorageError<NodeId>> {
        if let Some(e) = &self.capture_error {
            return Err(sm_err(
                openraft::ErrorVerb::Read,
                std::io::Error::other(e.clone()),
            ));
        }
        let last_applied: Option<LogId> = self
            .value::<Option<LogId>>(keys::APPLIED)
            .map_err(|e| sm_err(openraft::ErrorVerb::Read, e))?
            .flatten();
        let membership: StoredMembership = self
            .value(keys::MEMBERSHIP)
            .map_err(|e| sm_err(openraft::ErrorVerb::Read, e))?
            .unwrap_or_default();
        let n = self.counter.fetch_add(1, Ordering::Relaxed) + 1;
        let snapshot_id = match &last_applied {
            Some(l) => format!("{}-{}-{}", l.leader_id, l.index, n),
            None => format!("none-{n}"),
        };
        let meta = SnapshotMeta {
            last_log_id: last_applied,
            last_membership: membership,
            snapshot_id,
        };
        let body = Body {
            format: FORMAT,
            kv: std::mem::take(&mut self.kv),
        };
        let data = codec::encode(&body).map_err(|e| sm_err(openraft::ErrorVerb::Write, e))?;
        let stored = Stored {
            meta: meta.clone(),
            data,
        };
        let bytes = codec::encode(&stored).map_err(|e| sm_err(openraft::ErrorVerb::Write, e))?;
        self.snapshots
            .insert(KEY_CURRENT, bytes)
            .map_err(|e| sm_err(openraft::ErrorVerb::Write, e))?;
        metrics::counter!("smsgw_raft_snapshots_built_total").increment(1);
        Ok(openraft::Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(stored.data)),
        })
    }
}

/// Replaces the state with the snapshot `data` described by `meta`.
pub(crate) fn install(
    tree: &sled::Tree,
    snapshots: &sled::Tree,
    meta: &SnapshotMeta,
    data: Vec<u8>,
) -> Result<(), ApplyError> {
    let body: Body = codec::decode(&data)?;
    if body.format != FORMAT {
        return Err(ApplyError::Codec(codec::CodecError::Decode(
            bincode::error::DecodeError::Other("unknown snapshot format"),
        )));
    }
    let mut batch = sled::Batch::default();
    for item in tree.iter() {
        let (k, _) = item?;
        batch.remove(k);
    }
    for (k, v) in body.kv {
        batch.insert(k, v);
    }
    batch.insert(keys::APPLIED, codec::encode(&meta.last_log_id)?);
    batch.insert(keys::MEMBERSHIP, codec::encode(&meta.last_membership)?);
    tree.apply_batch(batch)?;
    let stored = Stored {
        meta: meta.clone(),
        data,
    };
    snapshots.insert(KEY_CURRENT, codec::encode(&stored)?)?;
    Ok(())
}

/// The last snapshot built or installed, if any.
pub(crate) fn load_current(
    snapshots: &sled::Tree,
) -> Result<Option<openraft::Snapshot<TypeConfig>>, ApplyError> {
    match snapshots.get(KEY_CURRENT)? {
        None => Ok(None),
        Some(bytes) => {
            let stored: Stored = codec::decode(&bytes)?;
            Ok(Some(openraft::Snapshot {
                meta: stored.meta,
                snapshot: Box::new(Cursor::new(stored.data)),
            }))
        }
    }
}
