//! Typed reads of the domain tables as this node has applied them. Every
//! read here is a point lookup or a bounded range of an index: none scans a
//! table, so its cost never grows with the backlog or the history. It must
//! never write: the only writer is apply.

use std::ops::Bound;

use smsgw_raft::{ApplyError, View};

use crate::command::{MoRecord, PartRecord, Query, QueryResult};
use crate::keys::{self, counter};
use smsgw_raft::types::LogId;

/// The parts of a message whose head was read (see [`StateView::message`]).
pub struct MessageParts<'v> {
    view: &'v View,
    mid: String,
    solo: Option<PartRecord>,
}

impl MessageParts<'_> {
    /// Part `k` (from 1), if stored.
    pub fn get(&self, k: u16) -> Result<Option<PartRecord>, ApplyError> {
        crate::parts::part_after_head(self.view, &self.mid, self.solo.as_ref(), k)
    }
}

/// One message waiting in a ready queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadyEntry {
    /// Its sequence in the queue (acceptance order).
    pub seq: u64,
    /// The message id (`M` of `M.0`).
    pub message: String,
}

/// A read-only view over the local state (possibly stale on a follower;
/// use a linearizable read when freshness matters).
#[derive(Clone)]
pub struct StateView {
    view: View,
}

impl StateView {
    /// Typed reads over raft's raw view.
    pub fn new(view: View) -> Self {
        Self { view }
    }

    /// Reads of the address books.
    pub fn book(&self) -> crate::book::BookView {
        crate::book::BookView::new(self.view.clone())
    }

    /// Statistics counters of `account` for Beijing days `from..=until`.
    pub fn stats(&self, account: &str, from: u32, until: u32) -> Result<Vec<crate::stats::Stat>, ApplyError> {
        crate::stats::read(&self.view, account, from, until)
    }

    /// Up to `limit` of `account`'s message ids accepted in
    /// `[from_ms, until_ms)`, after the cursor `after` (an `(at, id)` returned
    /// before), oldest first.
    pub fn records(
        &self,
        account: &str,
        after: Option<(u64, &str)>,
        from_ms: u64,
        until_ms: u64,
        limit: usize,
    ) -> Result<Vec<(u64, String)>, ApplyError> {
        let start = match after {
            Some((at, id)) => keys::record(account, at, id),
            None => keys::record(account, from_ms, ""),
        };
        let bound = if after.is_some() {
            Bound::Excluded(start.as_slice())
        } else {
            Bound::Included(start.as_slice())
        };
        let end = keys::record(account, until_ms, "");
        let prefix = keys::records(account).len();
        let mut out = Vec::new();
        for (k, _) in self.view.range(bound, &end, limit)? {
            let Some(at) = k.get(prefix..prefix + 8) else {
                continue;
            };
            let at = u64::from_be_bytes(at.try_into().unwrap_or([0; 8]));
            out.push((at, String::from_utf8_lossy(&k[prefix + 8..]).into_owned()));
        }
        Ok(out)
    }

    /// Up to `limit` closed messages after sequence `after`: (seq, message id).
    pub fn finals(&self, after: u64, limit: usize) -> Result<Vec<(u64, String)>, ApplyError> {
        let from = keys::finals(after);
        let rows = self.view.range(
            Bound::Excluded(from.as_slice()),
            &keys::prefix_end(keys::FINALS),
            limit,
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for (k, v) in rows {
            let Some(seq) = keys::book::trailing_id(&k) else {
                continue;
            };
            out.push((seq, crate::retention::final_mid(&v)?));
        }
        Ok(out)
    }

    /// Reads of prepaid accounts.
    pub fn accounts(&self) -> crate::accounts::AccountView {
        crate::accounts::AccountView::new(self.view.clone())
    }

    /// Reads of console users.
    pub fn users(&self) -> crate::users::UserView {
        crate::users::UserView::new(self.view.clone())
    }

    /// Reads of send jobs.
    pub fn jobs(&self) -> crate::jobs::JobView {
        crate::jobs::JobView::new(self.view.clone())
    }

    /// Reads of the 110 alarm desk.
    pub fn alarm(&self) -> crate::alarm::AlarmView {
        crate::alarm::AlarmView::new(self.view.clone())
    }

    /// Reads of the callback event queues.
    pub fn events(&self) -> crate::events::EventsView {
        crate::events::EventsView::new(self.view.clone())
    }

    /// The log id of the last applied entry.
    pub fn applied(&self) -> Result<Option<LogId>, ApplyError> {
        self.view.applied()
    }

    /// A config document's JSON text.
    pub fn config(&self, key: &str) -> Result<Option<Vec<u8>>, ApplyError> {
        self.view.get_raw(&keys::config(key))
    }

    /// A part by id.
    pub fn part(&self, id: &str) -> Result<Option<PartRecord>, ApplyError> {
        crate::parts::get(&self.view, id)
    }

    /// Message `mid`: its head, and a reader of its parts that does not
    /// read the head's row again (a one-part message's part lives there).
    pub fn message(&self, mid: &str) -> Result<Option<(PartRecord, MessageParts<'_>)>, ApplyError> {
        Ok(crate::parts::head_and_solo(&self.view, mid)?.map(|(head, solo)| {
            let parts = MessageParts {
                view: &self.view,
                mid: mid.to_string(),
                solo,
            };
            (head, parts)
        }))
    }

    /// The part a carrier's message id belongs to.
    pub fn part_by_carrier_id(
        &self,
        carrier: &str,
        carrier_msg_id: &str,
    ) -> Result<Option<PartRecord>, ApplyError> {
        match self
            .view
            .get::<String>(&keys::carrier_id(carrier, carrier_msg_id))?
        {
            None => Ok(None),
            Some(pid) => self.part(&pid),
        }
    }

    /// An MO by sequence number.
    pub fn mo(&self, seq: u64) -> Result<Option<MoRecord>, ApplyError> {
        self.view.get(&keys::mo(seq))
    }

    /// The sequence of the MO recorded under carrier `carrier`'s segment
    /// id `id` (its dedupe key, [`crate::mo_keys`]), if one is.
    pub fn mo_by_key(&self, carrier: &str, id: &str) -> Result<Option<u64>, ApplyError> {
        let rid = crate::mo_keys::request_id(carrier, id);
        let r: Option<crate::command::Response> = self.view.get(&keys::request(&rid))?;
        Ok(r.as_ref().and_then(crate::mo_keys::recorded_seq))
    }

    /// A counter kept by apply.
    pub fn counter(&self, name: &str) -> Result<u64, ApplyError> {
        Ok(self.view.get(&keys::counter(name))?.unwrap_or(0))
    }

    /// Unfinished messages by priority class (alarm, high, normal, bulk).
    pub fn ready_counts(&self) -> Result<[u64; 4], ApplyError> {
        let mut out = [0; 4];
        for (p, slot) in out.iter_mut().enumerate() {
            *slot = self.counter(&counter::ready(p as u8))?;
        }
        Ok(out)
    }

    /// Up to `limit` messages of one ready queue after sequence `after`
    /// (from its start when `None`), oldest first.
    pub fn ready(
        &self,
        route: &str,
        priority: u8,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<ReadyEntry>, ApplyError> {
        let start = match after {
            Some(seq) => Bound::Excluded(keys::ready(route, priority, seq)),
            None => Bound::Included(keys::ready_queue(route, priority)),
        };
        let end = keys::prefix_end(&keys::ready_queue(route, priority));
        let rows = self.view.range(
            match &start {
                Bound::Included(k) => Bound::Included(k.as_slice()),
                Bound::Excluded(k) => Bound::Excluded(k.as_slice()),
                Bound::Unbounded => Bound::Unbounded,
            },
            &end,
            limit,
        )?;
        Ok(rows
            .into_iter()
            .filter_map(|(k, v)| {
                let (_, _, seq) = keys::parse_ready(&k)?;
                Some(ReadyEntry {
                    seq,
                    message: String::from_utf8(v).ok()?,
                })
            })
            .collect())
    }

    /// The routes that have ready queues (a small table never deleted
    /// from, so reading it never walks emptied nodes).
    pub fn ready_routes(&self) -> Result<Vec<String>, ApplyError> {
        let rows = self.view.scan_prefix(keys::READY_ROUTE, usize::MAX)?;
        Ok(rows
            .into_iter()
            .filter_map(|(k, _)| String::from_utf8(k[keys::READY_ROUTE.len()..].to_vec()).ok())
            .collect())
    }

    /// The last sequence ever put in one ready queue (0: none): a reader
    /// whose cursor is there has nothing new to read.
    pub fn ready_last(&self, route: &str, priority: u8) -> Result<u64, ApplyError> {
        self.counter(&counter::ready_last(route, priority))
    }

    /// Part ids starting with `prefix`, sorted, at most `limit`.
    pub fn part_ids(&self, prefix: &str, limit: usize) -> Result<Vec<String>, ApplyError> {
        let rows = self.view.scan_prefix(&keys::part(prefix), limit)?;
        let mut ids = crate::parts::ids_of(rows);
        ids.retain(|id| id.starts_with(prefix));
        ids.truncate(limit);
        Ok(ids)
    }

    /// Runs a wire query.
    pub fn query(&self, q: &Query) -> Result<QueryResult, ApplyError> {
        Ok(match q {
            Query::GetConfig { key } => QueryResult::Config(self.config(key)?),
            Query::GetPart { id } => QueryResult::Part(self.part(id)?.map(Box::new)),
            Query::PartIds { prefix, limit } => QueryResult::PartIds(self.part_ids(prefix, *limit)?),
            Query::Counts => QueryResult::Counts {
                parts: self.counter(counter::PARTS)?,
                mos: self.counter(counter::MOS)?,
                configs: self.counter(counter::CONFIGS)?,
                applied_index: self.applied()?.map(|l| l.index).unwrap_or(0),
            },
            Query::ReadyCounts => QueryResult::ReadyCounts(self.ready_counts()?),
        })
    }
}
