//! The report reconciler actor: keeps the [`tracker::Tracker`], turns what
//! sessions and links tell it into [`Event`]s, and hands them to a flusher
//! task that proposes them to the [`Store`] in order, in batches (every
//! `flush_every` or `batch_max` events, whichever first), retrying while
//! the store is unavailable.
//!
//! It never talks to carriers and never blocks on the store: proposing
//! happens in the flusher, so reports keep being matched during a slow
//! commit. A report's [`Ack`] (its answer to the carrier) is fired by the
//! flusher once the batch with the report's fact committed (see [`acks`]);
//! a batch dropped as "not leader" fires none, so the carrier re-delivers.
//! A submit result's window slot ([`CommitSlot`]) travels the same way and
//! is given back once the batch carrying the result is committed (or
//! dropped), so a session never has more than one window sent and not yet
//! committed.

pub mod acks;
pub mod tracker;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use smsgw_protocols::report::DeliveryReport;
use tokio::sync::mpsc;

use crate::link::Ack;
use crate::model::{KnownPart, MessageId, PartId};
use crate::session::CommitSlot;
use crate::store::{Event, Store, StoreError};
pub use tracker::{ReconcileStats, Tracker, Unmatched};

/// Reconciler settings.
#[derive(Debug, Clone, Copy)]
pub struct ReconcilerConfig {
    pub flush_every: Duration,
    pub batch_max: usize,
    /// How long a report waits for its submit response before it is looked
    /// up in the store and then declared unmatched.
    pub hold: Duration,
    /// How often deadlines and held reports are checked.
    pub sweep_every: Duration,
}

impl Default for ReconcilerConfig {
    fn default() -> Self {
        ReconcilerConfig {
            flush_every: Duration::from_millis(5),
            batch_max: 512,
            hold: Duration::from_secs(60),
            sweep_every: Duration::from_millis(200),
        }
    }
}

pub enum ReconcilerMsg {
    /// A message was split into `total` parts and is being sent.
    Track {
        message: MessageId,
        total: u8,
        report: bool,
        valid_until: Instant,
    },
    /// A new leader takes over a message another leader started: parts in
    /// `known` already have a committed carrier id or outcome.
    Resume {
        message: MessageId,
        total: u8,
        report: bool,
        valid_until: Instant,
        known: Vec<KnownPart>,
    },
    /// The carrier accepted a part; `slot` is its session's window slot,
    /// given back when this result is committed.
    Submitted {
        part: PartId,
        carrier: String,
        carrier_msg_id: String,
        slot: Option<CommitSlot>,
    },
    SubmitFailed {
        part: PartId,
        reason: String,
        slot: Option<CommitSlot>,
    },
    /// A report, with its answer to fire once its fact is committed.
    Report {
        carrier: String,
        report: DeliveryReport,
        ack: Ack,
    },
    Tick,
    Stats(RpcReplyPort<ReconcileStats>),
    Unmatched(RpcReplyPort<Vec<Unmatched>>),
}

pub struct Reconciler;

pub struct ReconcilerState {
    cfg: ReconcilerConfig,
    store: Arc<dyn Store>,
    tracker: Tracker,
    batch: Vec<Event>,
    acks: acks::Acks,
    /// The window slots of the submit results in `batch`.
    slots: Vec<CommitSlot>,
    /// Bounded ([`FLUSH_QUEUE`] batches): when the store is slow or failing
    /// the reconciler waits here instead of growing memory.
    flusher: mpsc::Sender<Flush>,
    /// Events handed to the flusher and not yet committed (or dropped).
    unflushed: Arc<AtomicUsize>,
    last_sweep: Instant,
    ticker: Option<tokio::task::JoinHandle<()>>,
    flush_task: tokio::task::JoinHandle<()>,
}

impl ReconcilerState {
    /// A held report's acks join the batch once it is no longer held.
    fn release_if_decided(&mut self, carrier: &str, id: &str) {
        if !self.tracker.is_held(carrier, id) {
            self.acks.release(carrier, id);
        }
    }

    async fn flush(&mut self) {
        if !self.batch.is_empty() || !self.acks.batch_is_empty() || !self.slots.is_empty() {
            let events = std::mem::take(&mut self.batch);
            self.unflushed.fetch_add(events.len(), Ordering::Relaxed);
            let f = Flush {
                events,
                acks: self.acks.take_batch(),
                slots: std::mem::take(&mut self.slots),
            };
            let _ = self.flusher.send(f).await;
        }
    }
}

impl Actor for Reconciler {
    type Msg = ReconcilerMsg;
    type State = ReconcilerState;
    type Arguments = (ReconcilerConfig, Arc<dyn Store>);

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        (cfg, store): Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        let (tx, rx) = mpsc::channel(FLUSH_QUEUE);
        let acks = acks::Acks::default();
        let unflushed = Arc::new(AtomicUsize::new(0));
        let flush_task = tokio::spawn(flush_loop(store.clone(), rx, acks.flushing(), unflushed.clone()));
        let ticker = Some(myself.send_interval(cfg.flush_every, || ReconcilerMsg::Tick));
        Ok(ReconcilerState {
            cfg,
            store,
            tracker: Tracker::new(),
            batch: Vec::new(),
            acks,
            slots: Vec::new(),
            flusher: tx,
            unflushed,
            last_sweep: Instant::now(),
            ticker,
            flush_task,
        })
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        if let Some(t) = state.ticker.take() {
            t.abort();
        }
        state.flush().await;
        // The flusher ends when its queue is drained and the sender gone.
        let (tx, _) = mpsc::channel(1);
        drop(std::mem::replace(&mut state.flusher, tx));
        let _ = tokio::time::timeout(Duration::from_secs(2), &mut state.flush_task).await;
        Ok(())
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let now = Instant::now();
        match msg {
            ReconcilerMsg::Track {
                message,
                total,
                report,
                valid_until,
            } => state.tracker.track(message, total, report, valid_until),
            ReconcilerMsg::Resume {
                message,
                total,
                report,
                valid_until,
                known,
            } => {
                state.tracker.track(message, total, report, valid_until);
                state.tracker.resume(message, &known, now, &mut state.batch);
                for (carrier, id) in known.iter().filter_map(|k| k.submitted.as_ref()) {
                    state.release_if_decided(carrier, id);
                }
            }
            ReconcilerMsg::Submitted {
                part,
                carrier,
                carrier_msg_id,
                slot,
            } => {
                state
                    .tracker
                    .submitted(part, &carrier, &carrier_msg_id, now, &mut state.batch);
                state.release_if_decided(&carrier, &carrier_msg_id);
                state.slots.extend(slot);
            }
            ReconcilerMsg::SubmitFailed { part, reason, slot } => {
                state.tracker.submit_failed(part, reason, &mut state.batch);
                state.slots.extend(slot);
            }
            ReconcilerMsg::Report { carrier, report, ack } => {
                let id = report.carrier_msg_id.clone();
                state.tracker.report(&carrier, report, now, &mut state.batch);
                if state.tracker.is_held(&carrier, &id) {
                    state.acks.hold(&carrier, &id, ack);
                } else {
                    state.acks.with_batch(ack);
                }
            }
            ReconcilerMsg::Tick => {
                if now.saturating_duration_since(state.last_sweep) >= state.cfg.sweep_every {
                    state.last_sweep = now;
                    crate::metrics::acks_pending(state.acks.pending());
                    state.tracker.expire(now, &mut state.batch);
                    for (carrier, report) in state.tracker.take_stale_early(now, state.cfg.hold) {
                        // Submitted before a failover, on another node?
                        let id = report.carrier_msg_id.clone();
                        match state.store.find_part(&carrier, &id).await {
                            Ok(Some(part)) => {
                                state.tracker.matched_elsewhere(part, &report, &mut state.batch)
                            }
                            Ok(None) => {
                                state
                                    .tracker
                                    .unmatched(carrier.clone(), report, now, &mut state.batch)
                            }
                            Err(e) => {
                                // Held again (its ack with it) for another look.
                                tracing::warn!(carrier, id, "carrier id look-up failed: {e}");
                                state.tracker.report(&carrier, report, now, &mut state.batch);
                            }
                        }
                        state.release_if_decided(&carrier, &id);
                    }
                }
                state.flush().await;
                return Ok(());
            }
            ReconcilerMsg::Stats(reply) => {
                let mut stats = state.tracker.stats();
                stats.acks_pending = state.acks.pending();
                stats.events_unflushed = state.batch.len() + state.unflushed.load(Ordering::Relaxed);
                let _ = reply.send(stats);
                return Ok(());
            }
            ReconcilerMsg::Unmatched(reply) => {
                let _ = reply.send(state.tracker.recent_unmatched());
                return Ok(());
            }
        }
        if state.batch.len() >= state.cfg.batch_max {
            state.flush().await;
        }
        Ok(())
    }
}

/// Proposes batches in order; joins whatever queued while a proposal was
/// in flight into the next one. Retries an unavailable store with backoff;
/// a "not leader" answer drops the batch (the new leader rebuilds from the
/// replicated state) and its acks unfired (the carrier re-delivers). The
/// acks of a committed batch are fired; a batch of acks only (copies of
/// reports already decided) is answered at once, after every earlier batch.
/// `flushing` counts the acks handed over and not yet fired or dropped; it
/// is lowered as each batch's acks are.
/// Batches waiting for the store before the reconciler waits.
pub const FLUSH_QUEUE: usize = 64;

/// One batch for the flusher: the events, the carrier answers owed once
/// they commit, and the window slots of the submit results among them.
struct Flush {
    events: Vec<Event>,
    acks: Vec<Ack>,
    slots: Vec<CommitSlot>,
}
/// Events merged into one proposal at most (keeps log entries bounded).
pub const MAX_MERGED_EVENTS: usize = 2_000;

async fn flush_loop(
    store: Arc<dyn Store>,
    mut rx: mpsc::Receiver<Flush>,
    flushing: Arc<AtomicUsize>,
    unflushed: Arc<AtomicUsize>,
) {
    while let Some(Flush {
        events: mut batch,
        mut acks,
        mut slots,
    }) = rx.recv().await
    {
        while batch.len() < MAX_MERGED_EVENTS {
            let Ok(more) = rx.try_recv() else {
                break;
            };
            batch.extend(more.events);
            acks.extend(more.acks);
            slots.extend(more.slots);
        }
        let mut backoff = Duration::from_millis(20);
        loop {
            let n = batch.len();
            if n == 0 {
                flushing.fetch_sub(acks.len(), Ordering::Relaxed);
                acks.drain(..).for_each(Ack::fire);
                break;
            }
            match store.propose_batch(batch.clone()).await {
                Ok(()) => {
                    unflushed.fetch_sub(n, Ordering::Relaxed);
                    crate::metrics::store_batch(n, true);
                    crate::metrics::reports_acked(acks.len());
                    flushing.fetch_sub(acks.len(), Ordering::Relaxed);
                    acks.drain(..).for_each(Ack::fire);
                    // Committed: the sessions may send that many more.
                    slots.clear();
                    break;
                }
                Err(StoreError::NotLeader) => {
                    unflushed.fetch_sub(n, Ordering::Relaxed);
                    crate::metrics::store_batch(n, false);
                    tracing::warn!(
                        events = n,
                        acks = acks.len(),
                        "not the leader; batch dropped, unacknowledged"
                    );
                    flushing.fetch_sub(acks.len(), Ordering::Relaxed);
                    acks.clear();
                    // Dispatch stops with leadership; the slots must not
                    // stay taken for when this node leads again.
                    slots.clear();
                    break;
                }
                Err(e) => {
                    crate::metrics::store_batch(n, false);
                    crate::warn_limited!(
                        "reconcile-proposal-failed",
                        events = n,
                        "proposal failed: {e}; retrying in {backoff:?}"
                    );
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
