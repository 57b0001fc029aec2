//! The carrier acknowledgements the reconciler owes: a report is answered
//! only once the event derived from it is committed.
//!
//! A report matched at once (or a copy of one already decided) has its
//! [`Ack`] join the batch being built, and the flusher fires the batch's
//! acks after its `propose_batch` returned Ok (batches are proposed in
//! order, so an earlier copy's outcome is committed too). A report held
//! for its submit response keeps its ack here, by carrier id, until it is
//! finally matched, matched through the store, or declared unmatched; the
//! ack then joins the batch carrying that fact. Holding is not recorded
//! anywhere, so acking a held report earlier could lose it at a crash.
//! Copies the carrier re-delivers meanwhile (its response timeout passed)
//! are kept too, at most [`MAX_COPIES`] per report; the rest are dropped
//! unanswered and simply come again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::link::Ack;

/// Most acks kept for one held report.
pub const MAX_COPIES: usize = 8;

/// Acks of the batch being built, and of the held reports.
#[derive(Default)]
pub struct Acks {
    batch: Vec<Ack>,
    held: HashMap<(String, String), Vec<Ack>>,
    /// Acks handed to the flusher, not yet fired or dropped.
    flushing: Arc<AtomicUsize>,
}

impl Acks {
    /// Answered with the batch being built.
    pub fn with_batch(&mut self, ack: Ack) {
        self.batch.push(ack);
    }

    /// Kept until the held report `(carrier, id)` is decided.
    pub fn hold(&mut self, carrier: &str, id: &str, ack: Ack) {
        let v = self
            .held
            .entry((carrier.to_string(), id.to_string()))
            .or_default();
        if v.len() < MAX_COPIES {
            v.push(ack);
        }
    }

    /// The held report `(carrier, id)` is decided: its acks join the batch.
    pub fn release(&mut self, carrier: &str, id: &str) {
        if let Some(v) = self.held.remove(&(carrier.to_string(), id.to_string())) {
            self.batch.extend(v);
        }
    }

    /// The acks of the batch being built.
    pub fn take_batch(&mut self) -> Vec<Ack> {
        self.flushing.fetch_add(self.batch.len(), Ordering::Relaxed);
        std::mem::take(&mut self.batch)
    }

    /// The count the flusher lowers as it fires (or drops) acks.
    pub fn flushing(&self) -> Arc<AtomicUsize> {
        self.flushing.clone()
    }

    pub fn batch_is_empty(&self) -> bool {
        self.batch.is_empty()
    }

    /// Acks waiting: with the batch being built, held, and at the flusher.
    pub fn pending(&self) -> usize {
        self.batch.len()
            + self.held.values().map(Vec::len).sum::<usize>()
            + self.flushing.load(Ordering::Relaxed)
    }
}
