//! The small seam between the actors and the replicated state: propose
//! events (batched), read what is still to be sent, and look up a carrier id
//! committed by another node. The real implementation (Raft) is wired by the
//! node; [`MemoryStore`] serves tests and the single-process demo.
//!
//! The actors must never change the replicated state in any other way, and
//! a `Store` must never call back into the actors.

use std::collections::HashMap;
use std::sync::Mutex;

use futures::future::BoxFuture;
use smsgw_protocols::report::ReportState;
use thiserror::Error;

use crate::model::{KnownPart, MessageId, Mo, OutboundMessage, PartId};

/// Why a proposal or a read failed.
#[derive(Debug, Clone, Error)]
pub enum StoreError {
    /// This node is not the leader; the proposal was not accepted.
    #[error("not the leader")]
    NotLeader,
    /// The store could not be reached or did not commit in time; the
    /// caller may retry the same batch.
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

/// What became of one part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartOutcome {
    /// The carrier reported on it.
    Reported { state: ReportState, stat: String },
    /// Accepted by the carrier, no report asked for.
    Accepted,
    /// Never accepted (rejected, or retries exhausted).
    SubmitFailed(String),
    /// No report by the validity deadline.
    Expired,
}

/// The final state of a whole message, derived from its parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageState {
    Delivered,
    /// Accepted by the carrier; no report was asked for.
    Sent,
    Undeliverable,
    Rejected,
    Expired,
    /// A part was never accepted by the carrier.
    Failed,
}

/// One fact for the replicated state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The carrier accepted a part under this id (so a report can be
    /// matched on any node after a failover).
    CarrierId {
        part: PartId,
        carrier: String,
        carrier_msg_id: String,
    },
    PartDone {
        part: PartId,
        outcome: PartOutcome,
    },
    MessageDone {
        message: MessageId,
        state: MessageState,
    },
    /// An inbound message, reassembled.
    MoReceived(Mo),
    /// A report no part was found for, after the hold and a look-up of the
    /// replicated carrier-id index: the store keeps it for the submit
    /// result that may still commit (a cut-off leader's, forwarded late).
    UnmatchedReport {
        carrier: String,
        carrier_msg_id: String,
        state: ReportState,
    },
}

/// Propose / read. Implementations must be cheap to call concurrently.
pub trait Store: Send + Sync + 'static {
    /// Commits `events` in order, all or none.
    fn propose_batch(&self, events: Vec<Event>) -> BoxFuture<'_, Result<(), StoreError>>;
    /// Commits `events` (MOs, [`Event::MoReceived`]) like
    /// [`Store::propose_batch`], and says per event whether it was new:
    /// `false` for an MO whose key ([`Mo::key`]) was already recorded for
    /// its carrier (nothing changed; a re-delivery). By default every event
    /// counts as new.
    fn record_mos(&self, events: Vec<Event>) -> BoxFuture<'_, Result<Vec<bool>, StoreError>> {
        let n = events.len();
        Box::pin(async move { self.propose_batch(events).await.map(|()| vec![true; n]) })
    }
    /// Whether the MO segment `carrier_msg_id` of `carrier` belongs to an MO
    /// already recorded (one of its [`Mo::segments`]): the inbound actor
    /// answers such a re-delivered segment at once instead of starting a
    /// reassembly with it. By default nothing is known (the record itself
    /// still answers a repeat).
    fn mo_recorded<'a>(
        &'a self,
        carrier: &'a str,
        carrier_msg_id: &'a str,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let _ = (carrier, carrier_msg_id);
        Box::pin(async { Ok(false) })
    }
    /// Messages accepted and not yet finished, for a new leader to queue,
    /// each with what is already committed for its parts
    /// ([`OutboundMessage::known`]: carrier ids, outcomes), so that only
    /// parts with neither are sent again.
    fn pending_messages(&self) -> BoxFuture<'_, Result<Vec<OutboundMessage>, StoreError>>;
    /// The part a carrier id was committed for (by any node), if any.
    fn find_part<'a>(
        &'a self,
        carrier: &'a str,
        carrier_msg_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<PartId>, StoreError>>;
}

/// An in-memory [`Store`] that records every event, for tests and the demo.
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<MemInner>,
}

#[derive(Default)]
struct MemInner {
    events: Vec<Event>,
    batches: usize,
    pending: Vec<OutboundMessage>,
    carrier_ids: HashMap<(String, String), PartId>,
    fail_next: usize,
    /// (carrier, key) of every MO recorded, as the replicated state keeps them.
    mo_keys: std::collections::HashSet<(String, String)>,
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every event committed so far.
    pub fn events(&self) -> Vec<Event> {
        self.lock().events.clone()
    }

    /// How many batches were committed.
    pub fn batches(&self) -> usize {
        self.lock().batches
    }

    /// Final states by message.
    pub fn message_states(&self) -> HashMap<MessageId, MessageState> {
        self.lock()
            .events
            .iter()
            .filter_map(|e| match e {
                Event::MessageDone { message, state } => Some((*message, *state)),
                _ => None,
            })
            .collect()
    }

    /// Counts events matching `f`.
    pub fn count(&self, f: impl Fn(&Event) -> bool) -> usize {
        self.lock().events.iter().filter(|e| f(e)).count()
    }

    /// Messages `pending_messages` will return.
    pub fn set_pending(&self, msgs: Vec<OutboundMessage>) {
        self.lock().pending = msgs;
    }

    /// Forgets committed events matching `f`, as if they had been lost in
    /// a crash before their commit (tests of failover).
    pub fn drop_events(&self, f: impl Fn(&Event) -> bool) {
        let mut g = self.lock();
        g.events.retain(|e| !f(e));
        let ids: HashMap<(String, String), PartId> = g
            .events
            .iter()
            .filter_map(|e| match e {
                Event::CarrierId {
                    part,
                    carrier,
                    carrier_msg_id,
                } => Some(((carrier.clone(), carrier_msg_id.clone()), *part)),
                _ => None,
            })
            .collect();
        g.carrier_ids = ids;
    }

    /// The next `n` proposals fail as unavailable.
    pub fn fail_next(&self, n: usize) {
        self.lock().fail_next = n;
    }
}

impl Store for MemoryStore {
    fn propose_batch(&self, events: Vec<Event>) -> BoxFuture<'_, Result<(), StoreError>> {
        let mut g = self.lock();
        let r = if g.fail_next > 0 {
            g.fail_next -= 1;
            Err(StoreError::Unavailable("injected".into()))
        } else {
            for e in &events {
                if let Event::CarrierId {
                    part,
                    carrier,
                    carrier_msg_id,
                } = e
                {
                    g.carrier_ids
                        .insert((carrier.clone(), carrier_msg_id.clone()), *part);
                }
            }
            g.events.extend(events);
            g.batches += 1;
            Ok(())
        };
        Box::pin(async move { r })
    }

    /// Records each MO once per (carrier, segment key), like the replicated
    /// state: an MO one of whose keys is known is a repeat, and its other
    /// keys join the first record.
    fn record_mos(&self, events: Vec<Event>) -> BoxFuture<'_, Result<Vec<bool>, StoreError>> {
        let mut g = self.lock();
        let r = if g.fail_next > 0 {
            g.fail_next -= 1;
            Err(StoreError::Unavailable("injected".into()))
        } else {
            let mut fresh = Vec::with_capacity(events.len());
            for e in events {
                let new = match &e {
                    Event::MoReceived(Mo {
                        carrier,
                        key,
                        segments,
                        ..
                    }) => {
                        let keys: Vec<(String, String)> = key
                            .iter()
                            .chain(segments)
                            .map(|k| (carrier.clone(), k.clone()))
                            .collect();
                        let seen = keys.iter().any(|k| g.mo_keys.contains(k));
                        g.mo_keys.extend(keys.iter().cloned());
                        keys.is_empty() || !seen
                    }
                    _ => true,
                };
                if new {
                    g.events.push(e);
                }
                fresh.push(new);
            }
            g.batches += 1;
            Ok(fresh)
        };
        Box::pin(async move { r })
    }

    /// The messages set with [`MemoryStore::set_pending`] that have no
    /// final state, each with the carrier ids and outcomes recorded for
    /// its parts (unless the test set `known` itself).
    fn pending_messages(&self) -> BoxFuture<'_, Result<Vec<OutboundMessage>, StoreError>> {
        let g = self.lock();
        let mut known: HashMap<MessageId, Vec<KnownPart>> = HashMap::new();
        let mut done = std::collections::HashSet::new();
        fn slot(v: &mut Vec<KnownPart>, seq: u8) -> &mut KnownPart {
            let i = match v.iter().position(|k| k.seq == seq) {
                Some(i) => i,
                None => {
                    v.push(KnownPart {
                        seq,
                        submitted: None,
                        outcome: None,
                    });
                    v.len() - 1
                }
            };
            &mut v[i]
        }
        for e in &g.events {
            match e {
                Event::CarrierId {
                    part,
                    carrier,
                    carrier_msg_id,
                } => {
                    let k = slot(known.entry(part.message).or_default(), part.seq);
                    k.submitted = Some((carrier.clone(), carrier_msg_id.clone()));
                }
                Event::PartDone { part, outcome } => {
                    let k = slot(known.entry(part.message).or_default(), part.seq);
                    k.outcome.get_or_insert_with(|| outcome.clone());
                }
                Event::MessageDone { message, .. } => {
                    done.insert(*message);
                }
                _ => {}
            }
        }
        let msgs: Vec<OutboundMessage> = g
            .pending
            .iter()
            .filter(|m| !done.contains(&m.id))
            .map(|m| {
                let mut m = m.clone();
                if m.known.is_empty() {
                    m.known = known.remove(&m.id).unwrap_or_default();
                    m.known.sort_by_key(|k| k.seq);
                }
                m
            })
            .collect();
        drop(g);
        Box::pin(async move { Ok(msgs) })
    }

    fn mo_recorded<'a>(
        &'a self,
        carrier: &'a str,
        carrier_msg_id: &'a str,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let known = self
            .lock()
            .mo_keys
            .contains(&(carrier.to_string(), carrier_msg_id.to_string()));
        Box::pin(async move { Ok(known) })
    }

    fn find_part<'a>(
        &'a self,
        carrier: &'a str,
        carrier_msg_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<PartId>, StoreError>> {
        let found = self
            .lock()
            .carrier_ids
            .get(&(carrier.to_string(), carrier_msg_id.to_string()))
            .copied();
        Box::pin(async move { Ok(found) })
    }
}
