//! The seam between replication and the replicated domain: raft carries
//! application commands, responses and queries as opaque bytes, and hands
//! each committed command to an [`App`] that applies it through a [`Tx`]
//! over the state-machine tree. New domains are added in the application
//! crate (`smsgw-state`) without touching this crate.
//!
//! Nothing here may know what a command means, and an [`App`] must never
//! write anything but its [`Tx`]: every node must compute the same bytes
//! from the same log.

use std::collections::BTreeMap;
use std::ops::Bound;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

use crate::codec::{self, CodecError};

/// What one raft entry carries: encoded application commands, applied in
/// order, each with its own response (several when the proposer batched
/// concurrent proposals into one entry).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal(#[serde(with = "crate::codec::bytes_list")] pub Vec<Vec<u8>>);

/// The responses of one entry's commands, one per command, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied(#[serde(with = "crate::codec::bytes_list")] pub Vec<Vec<u8>>);

/// Failure while applying or reading: storage or decoding, never a property
/// of the command (those are answered in the application's response).
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// sled failed.
    #[error("state machine storage: {0}")]
    Sled(#[from] sled::Error),
    /// Stored or proposed bytes did not decode.
    #[error("state machine data: {0}")]
    Codec(#[from] CodecError),
    /// The store is closed for a reopen after a storage error (raft is
    /// being rebuilt on this node): a read may succeed shortly.
    #[error("the state machine's store is being reopened after a storage error; retry shortly")]
    Reopening,
}

impl ApplyError {
    /// Whether the disk is at fault: sled's I/O error (sled fails every
    /// operation after its first one, until the store is reopened) or the
    /// store closed for that reopen. Callers answer "retry later", not "bug".
    pub fn is_disk_fault(&self) -> bool {
        matches!(self, ApplyError::Sled(sled::Error::Io(_)) | ApplyError::Reopening)
    }

    /// An I/O error of the state machine's store, as sled gives it.
    pub fn io(e: std::io::Error) -> Self {
        ApplyError::Sled(sled::Error::Io(e))
    }
}

/// The replicated application: what committed commands do to the state.
pub trait App: Send + Sync + 'static {
    /// Applies one command written at log `index`, returning its encoded
    /// response. Deterministic: no clock, no randomness, no I/O but `tx`.
    fn apply(&self, tx: &mut Tx<'_>, index: u64, command: &[u8]) -> Result<Vec<u8>, ApplyError>;

    /// Answers one encoded query from the applied state.
    fn query(&self, view: &View, query: &[u8]) -> Result<Vec<u8>, ApplyError>;
}

/// Pending writes over the tree; reads see them first. They land in sled
/// as one atomic batch: one per apply call, or per run of whole entries
/// when a call's writes grow past a bound (see the state machine).
pub struct Tx<'a> {
    tree: &'a sled::Tree,
    writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// Key and value bytes in `writes`.
    bytes: usize,
}

impl<'a> Tx<'a> {
    /// A transaction over `tree`. Only raft commits one (the batch is
    /// private); an application's own tests use this to exercise apply.
    pub fn new(tree: &'a sled::Tree) -> Self {
        Self {
            tree,
            writes: BTreeMap::new(),
            bytes: 0,
        }
    }

    /// The bytes under `key`, as this transaction sees them.
    pub fn get_raw(&self, key: &[u8]) -> Result<Option<Vec<u8>>, ApplyError> {
        if let Some(v) = self.writes.get(key) {
            return Ok(v.clone());
        }
        Ok(self.tree.get(key)?.map(|v| v.to_vec()))
    }

    /// Whether `key` holds a value.
    pub fn contains(&self, key: &[u8]) -> Result<bool, ApplyError> {
        if let Some(v) = self.writes.get(key) {
            return Ok(v.is_some());
        }
        Ok(self.tree.contains_key(key)?)
    }

    /// The value under `key`, decoded.
    pub fn get<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, ApplyError> {
        match self.get_raw(key)? {
            None => Ok(None),
            Some(bytes) => Ok(Some(codec::decode(&bytes)?)),
        }
    }

    /// Writes `value`, encoded, under `key`.
    pub fn put<T: Serialize>(&mut self, key: Vec<u8>, value: &T) -> Result<(), ApplyError> {
        self.write(key, Some(codec::encode(value)?));
        Ok(())
    }

    /// Writes raw bytes under `key`.
    pub fn put_raw(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.write(key, Some(value));
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: Vec<u8>) {
        self.write(key, None);
    }

    fn write(&mut self, key: Vec<u8>, value: Option<Vec<u8>>) {
        let key_len = key.len();
        let value_len = value.as_ref().map_or(0, Vec::len);
        match self.writes.insert(key, value) {
            // Written again: the new value's bytes replace the old one's.
            Some(old) => self.bytes = self.bytes + value_len - old.map_or(0, |v| v.len()),
            None => self.bytes += key_len + value_len,
        }
    }

    /// Adds `by` to the counter under `key` (absent is 0) and returns the new value.
    pub fn add(&mut self, key: &[u8], by: i64) -> Result<u64, ApplyError> {
        let now = self.get::<u64>(key)?.unwrap_or(0);
        let next = if by >= 0 {
            now.saturating_add(by as u64)
        } else {
            now.saturating_sub(by.unsigned_abs())
        };
        self.put(key.to_vec(), &next)?;
        Ok(next)
    }

    /// Up to `limit` committed keys in `[from, until)`, in order, WITHOUT
    /// this transaction's own writes: for pruning data no command of the
    /// same entry writes (old days, expired keys).
    pub fn committed_keys(
        &self,
        from: &[u8],
        until: &[u8],
        limit: usize,
    ) -> Result<Vec<Vec<u8>>, ApplyError> {
        let mut out = Vec::new();
        for item in self
            .tree
            .range::<&[u8], _>((Bound::Included(from), Bound::Excluded(until)))
            .take(limit)
        {
            out.push(item?.0.to_vec());
        }
        Ok(out)
    }

    /// How many keys this transaction writes or removes (the apply's write
    /// amplification, published as `smsgw_raft_apply_keys_total`).
    pub fn len(&self) -> usize {
        self.writes.len()
    }

    /// Key and value bytes this transaction writes (what its sled batch
    /// carries).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The keys this transaction writes or removes.
    pub fn keys(&self) -> impl Iterator<Item = &[u8]> {
        self.writes.keys().map(Vec::as_slice)
    }

    /// Whether this transaction writes nothing.
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }

    /// Everything this transaction wrote, as one sled batch: raft applies it
    /// atomically after `apply`; tests of an [`App`] may apply it themselves.
    pub fn into_batch(self) -> sled::Batch {
        let mut batch = sled::Batch::default();
        for (k, v) in self.writes {
            match v {
                Some(v) => batch.insert(k, v),
                None => batch.remove(k),
            }
        }
        batch
    }
}

/// Key and value of one stored row.
pub type Row = (Vec<u8>, Vec<u8>);

/// A read-only view over the applied state (local: possibly stale on a
/// follower). It must never write: the only writer is apply.
#[derive(Clone)]
pub struct View {
    /// `None`: detached while raft reopens its store after a storage error
    /// (sled locks its files: no handle on the old store may remain).
    /// Shared with the state machine, which points it at a new tree when it
    /// installs a snapshot: every view sees the switch at once.
    tree: Option<Arc<std::sync::RwLock<sled::Tree>>>,
}

impl View {
    /// A view over `tree` (raft hands out the state machine's; tests may
    /// build their own).
    pub fn new(tree: sled::Tree) -> Self {
        Self::shared(Arc::new(std::sync::RwLock::new(tree)))
    }

    /// A view over the state machine's current tree, whichever it is.
    pub(crate) fn shared(tree: Arc<std::sync::RwLock<sled::Tree>>) -> Self {
        Self { tree: Some(tree) }
    }

    /// A view that fails every read (the store is being reopened).
    pub(crate) fn detached() -> Self {
        Self { tree: None }
    }

    fn tree(&self) -> Result<sled::Tree, ApplyError> {
        match &self.tree {
            Some(t) => Ok(t.read().unwrap_or_else(|p| p.into_inner()).clone()),
            None => Err(ApplyError::Reopening),
        }
    }

    /// The bytes under `key`.
    pub fn get_raw(&self, key: &[u8]) -> Result<Option<Vec<u8>>, ApplyError> {
        Ok(self.tree()?.get(key)?.map(|v| v.to_vec()))
    }

    /// The value under `key`, decoded.
    pub fn get<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, ApplyError> {
        match self.tree()?.get(key)? {
            None => Ok(None),
            Some(bytes) => Ok(Some(codec::decode(&bytes)?)),
        }
    }

    /// Up to `limit` rows with keys from `from` to `until` (excluded), in key order.
    pub fn range(&self, from: Bound<&[u8]>, until: &[u8], limit: usize) -> Result<Vec<Row>, ApplyError> {
        let mut out = Vec::new();
        for item in self
            .tree()?
            .range::<&[u8], _>((from, Bound::Excluded(until)))
            .take(limit)
        {
            let (k, v) = item?;
            out.push((k.to_vec(), v.to_vec()));
        }
        Ok(out)
    }

    /// The last row with a key in `[from, until)`, if any (one step of a
    /// reverse range: "the latest entry before").
    pub fn last_before(&self, from: &[u8], until: &[u8]) -> Result<Option<Row>, ApplyError> {
        match self
            .tree()?
            .range::<&[u8], _>((Bound::Included(from), Bound::Excluded(until)))
            .next_back()
        {
            Some(item) => {
                let (k, v) = item?;
                Ok(Some((k.to_vec(), v.to_vec())))
            }
            None => Ok(None),
        }
    }

    /// Up to `limit` entries under `prefix`, in key order.
    pub fn scan_prefix(&self, prefix: &[u8], limit: usize) -> Result<Vec<Row>, ApplyError> {
        let mut out = Vec::new();
        for item in self.tree()?.scan_prefix(prefix).take(limit) {
            let (k, v) = item?;
            out.push((k.to_vec(), v.to_vec()));
        }
        Ok(out)
    }

    /// The log id of the last applied entry.
    pub fn applied(&self) -> Result<Option<crate::types::LogId>, ApplyError> {
        Ok(self
            .get::<Option<crate::types::LogId>>(crate::state_machine::keys::APPLIED)?
            .flatten())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transaction_counts_the_bytes_its_batch_carries_once_per_key() {
        let db = sled::Config::new().temporary(true).open().expect("sled");
        let tree = db.open_tree("t").expect("tree");
        let mut tx = Tx::new(&tree);
        tx.put_raw(b"ab".to_vec(), vec![0; 10]);
        assert_eq!(tx.bytes(), 12);
        // Written again: the new value replaces the old one's bytes.
        tx.put_raw(b"ab".to_vec(), vec![0; 4]);
        assert_eq!(tx.bytes(), 6);
        tx.remove(b"ab".to_vec());
        assert_eq!(tx.bytes(), 2);
        tx.put(b"c".to_vec(), &7u64).expect("encode");
        assert_eq!(tx.bytes(), 2 + 1 + codec::encode(&7u64).expect("encode").len());
        assert_eq!(tx.len(), 2);
    }
}
