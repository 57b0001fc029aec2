//! Read-only access to the replicated state as this node has applied it. It
//! must never write: the only writer is the state machine's apply.

use super::apply::{keys, ApplyError, Overlay};
use crate::command::{MoRecord, PartRecord, Query, QueryResult};
use crate::types::LogId;

/// A read-only view over the local state-machine tree (possibly stale on a
/// follower; use the cluster's linearizable read when freshness matters).
#[derive(Clone)]
pub struct StateView {
    tree: sled::Tree,
}

impl StateView {
    pub(crate) fn new(tree: sled::Tree) -> Self {
        Self { tree }
    }

    fn get<T: serde::de::DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, ApplyError> {
        Overlay::new(&self.tree).get(key)
    }

    /// The log id of the last applied entry.
    pub fn applied(&self) -> Result<Option<LogId>, ApplyError> {
        Ok(self.get::<Option<LogId>>(keys::APPLIED)?.flatten())
    }

    /// A config document's JSON text.
    pub fn config(&self, key: &str) -> Result<Option<Vec<u8>>, ApplyError> {
        Ok(self.tree.get(keys::with(keys::CONFIG, key))?.map(|v| v.to_vec()))
    }

    /// A part by id.
    pub fn part(&self, id: &str) -> Result<Option<PartRecord>, ApplyError> {
        self.get(&keys::with(keys::PART, id))
    }

    /// The part a carrier message id belongs to.
    pub fn part_by_carrier_id(&self, carrier_msg_id: &str) -> Result<Option<PartRecord>, ApplyError> {
        match self.get::<String>(&keys::with(keys::CARRIER_ID, carrier_msg_id))? {
            None => Ok(None),
            Some(pid) => self.part(&pid),
        }
    }

    /// An MO by sequence number.
    pub fn mo(&self, seq: u64) -> Result<Option<MoRecord>, ApplyError> {
        self.get(&keys::mo(seq))
    }

    /// Part ids starting with `prefix`, sorted, at most `limit`.
    pub fn part_ids(&self, prefix: &str, limit: usize) -> Result<Vec<String>, ApplyError> {
        let p = keys::with(keys::PART, prefix);
        let mut out = Vec::new();
        for item in self.tree.scan_prefix(&p).take(limit) {
            let (k, _) = item?;
            out.push(String::from_utf8_lossy(&k[keys::PART.len()..]).into_owned());
        }
        Ok(out)
    }

    /// Ids of messages (head part `M.0` accepted) with no final state yet,
    /// sorted, at most `limit`.
    pub fn unfinished_messages(&self, limit: usize) -> Result<Vec<String>, ApplyError> {
        let p = keys::UNFINISHED.as_bytes();
        let mut out = Vec::new();
        for item in self.tree.scan_prefix(p).take(limit) {
            let (k, _) = item?;
            out.push(String::from_utf8_lossy(&k[p.len()..]).into_owned());
        }
        Ok(out)
    }

    /// Runs a wire query.
    pub fn query(&self, q: &Query) -> Result<QueryResult, ApplyError> {
        Ok(match q {
            Query::GetConfig { key } => QueryResult::Config(self.config(key)?),
            Query::GetPart { id } => QueryResult::Part(self.part(id)?),
            Query::PartIds { prefix, limit } => QueryResult::PartIds(self.part_ids(prefix, *limit)?),
            Query::Counts => QueryResult::Counts {
                parts: self.get(keys::PART_COUNT)?.unwrap_or(0),
                mos: self.get(keys::MO_SEQ)?.unwrap_or(0),
                configs: self.get(keys::CONFIG_COUNT)?.unwrap_or(0),
                applied_index: self.applied()?.map(|l| l.index).unwrap_or(0),
            },
        })
    }
}
