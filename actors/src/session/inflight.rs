//! The work of one session slot that must survive the session actor: parts
//! handed to it and not yet taken (its outbox), submits waiting for their
//! response (keyed by request key), and how many answered submits still
//! wait for their result's commit (each holds a window slot, see
//! [`super::commit_slot`]). The dispatcher, the session and the supervisor
//! all hold it, so when a session crashes nothing it was given dies with
//! its mailbox: the supervisor hands all of it back.
//!
//! Plain locked collections: it never decides anything; the only thing it
//! sends is what a caller does inside [`Inflight::with_uncommitted`] or
//! [`Inflight::release_committed`], under the count's lock.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::model::Part;

#[derive(Debug, Clone)]
pub struct InFlight {
    pub part: Part,
    pub sent_at: Instant,
    /// When the part was first sent on this link (latency is measured from
    /// here, across resends).
    pub first_sent: Instant,
}

#[derive(Debug, Default)]
pub struct Inflight {
    map: Mutex<HashMap<u32, InFlight>>,
    outbox: Mutex<VecDeque<crate::model::Part>>,
    /// Answered submits whose result is not yet committed.
    uncommitted: Mutex<usize>,
}

impl Inflight {
    /// Hands parts to the session (the dispatcher, before nudging it).
    pub fn give(&self, parts: impl IntoIterator<Item = crate::model::Part>) {
        self.outbox
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(parts);
    }

    /// Parts handed over and not yet taken.
    pub fn given_len(&self) -> usize {
        self.outbox.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Takes everything handed over and not yet taken.
    pub fn take_given(&self) -> Vec<crate::model::Part> {
        self.outbox
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u32, InFlight>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn insert(&self, seq: u32, f: InFlight) {
        self.lock().insert(seq, f);
    }

    pub fn remove(&self, seq: u32) -> Option<InFlight> {
        self.lock().remove(&seq)
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Window slots taken: submits unanswered, plus answered submits whose
    /// result is not yet committed.
    pub fn in_use(&self) -> usize {
        self.len() + self.uncommitted()
    }

    /// Answered submits whose result is not yet committed.
    pub fn uncommitted(&self) -> usize {
        *self.uncommitted.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// An answered submit keeps its slot until its result commits.
    pub fn hold_for_commit(&self) {
        *self.uncommitted.lock().unwrap_or_else(|p| p.into_inner()) += 1;
    }

    /// Runs `f` with the count of uncommitted results, holding its lock: a
    /// session announcing its credits does it here, so that a commit
    /// landing meanwhile is either counted in them or credited after them,
    /// never lost between the two.
    pub fn with_uncommitted<R>(&self, f: impl FnOnce(usize) -> R) -> R {
        let g = self.uncommitted.lock().unwrap_or_else(|p| p.into_inner());
        f(*g)
    }

    /// A result committed (or was dropped): one slot less, and `credit`
    /// (the slot's credit to the dispatcher) sent under the same lock.
    pub fn release_committed(&self, credit: impl FnOnce()) {
        let mut g = self.uncommitted.lock().unwrap_or_else(|p| p.into_inner());
        *g = g.saturating_sub(1);
        credit();
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Everything in flight, emptied (link lost).
    pub fn drain(&self) -> Vec<crate::model::Part> {
        self.lock().drain().map(|(_, f)| f.part).collect()
    }

    /// Everything in flight and everything handed over (session gone).
    pub fn drain_all(&self) -> Vec<crate::model::Part> {
        let mut parts = self.take_given();
        parts.extend(self.drain());
        parts
    }

    /// Entries waiting longer than `timeout`, taken out.
    pub fn take_expired(&self, now: Instant, timeout: Duration) -> Vec<InFlight> {
        let mut g = self.lock();
        let keys: Vec<u32> = g
            .iter()
            .filter(|(_, f)| now.saturating_duration_since(f.sent_at) >= timeout)
            .map(|(k, _)| *k)
            .collect();
        keys.into_iter().filter_map(|k| g.remove(&k)).collect()
    }
}
