//! The submits of one session slot that wait for their response, keyed by
//! request key. It lives outside the session actor's state (the supervisor
//! holds it too) so that when a session crashes, its in-flight parts are
//! handed back to the queue instead of dying with it.
//!
//! A plain locked map: it never sends or decides anything.

use std::collections::HashMap;
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
}

impl Inflight {
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

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Everything in flight, emptied (link lost, session crashed).
    pub fn drain(&self) -> Vec<crate::model::Part> {
        self.lock().drain().map(|(_, f)| f.part).collect()
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
