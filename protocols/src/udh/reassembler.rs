//! Putting the parts of inbound long messages back together.
//!
//! Parts arrive in any order, sometimes twice, sometimes never. The buffer is
//! bounded three ways (messages in progress, parts per message, bytes held),
//! and nothing is ever dropped silently: a group that times out or is
//! evicted to make room comes back to the caller as an [`Incomplete`] so it
//! can deliver the partial text, flagged, rather than lose it.
//!
//! A copy of a part that arrives after its message completed (carriers
//! resend when a response was lost) is recognised for one timeout by the
//! hash of its payload and counted as a duplicate, instead of starting a
//! phantom message that would later expire as incomplete. A different
//! payload under the same key is a new message (8-bit references wrap).
//!
//! The caller passes the current `Instant` to every call, so this type owns
//! no clock and tests need no sleeping. It does no decoding: payloads are
//! opaque bytes, joined in part order.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};

use super::Concat;

/// What identifies the parts of one message.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartKey {
    pub sender: String,
    pub receiver: String,
    pub reference: u16,
    pub total: u8,
}

/// The bounds of a [`Reassembler`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReassemblerLimits {
    /// Messages in progress at once; the oldest is evicted beyond this.
    pub max_messages: usize,
    /// Largest `total` accepted; bigger messages are rejected part by part.
    pub max_parts: u8,
    /// Payload bytes held over all messages in progress.
    pub max_bytes: usize,
    /// How long a message may wait for its missing parts, from its first.
    pub timeout: Duration,
}

impl Default for ReassemblerLimits {
    fn default() -> Self {
        ReassemblerLimits {
            max_messages: 10_000,
            max_parts: 255,
            max_bytes: 16 * 1024 * 1024,
            timeout: Duration::from_secs(300),
        }
    }
}

/// A message with every part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reassembled {
    pub key: PartKey,
    /// Payloads in part order (seq 1 first).
    pub parts: Vec<Bytes>,
    /// Duplicate parts seen (and ignored) for this message.
    pub duplicates: usize,
}

impl Reassembled {
    /// All payloads joined in order.
    pub fn payload(&self) -> Bytes {
        join(self.parts.iter())
    }
}

/// Why a message left the buffer without all its parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncompleteReason {
    /// Its timeout passed.
    Expired,
    /// It was the oldest when room was needed.
    Evicted,
}

/// A message that left the buffer with parts missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incomplete {
    pub key: PartKey,
    /// The parts that did arrive: (seq, payload), in seq order.
    pub parts: Vec<(u8, Bytes)>,
    /// The seq numbers that never arrived.
    pub missing: Vec<u8>,
    pub first_seen: Instant,
    pub reason: IncompleteReason,
}

impl Incomplete {
    /// The payloads that arrived, joined in order (gaps closed up).
    pub fn payload(&self) -> Bytes {
        join(self.parts.iter().map(|(_, b)| b))
    }
}

/// Why a part was not buffered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectReason {
    /// total 0, seq 0 or seq > total.
    InvalidConcat,
    /// total above [`ReassemblerLimits::max_parts`].
    TooManyParts,
    /// The payload alone exceeds [`ReassemblerLimits::max_bytes`].
    TooLarge,
}

/// What happened to the pushed part itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    /// It was the last missing part (or the only one): here is the message.
    Complete(Reassembled),
    /// Stored; parts are still missing.
    Buffered,
    /// That part was already here; this copy was ignored.
    Duplicate,
    /// Not buffered; the payload comes back so the caller can deliver it
    /// on its own.
    Rejected { reason: RejectReason, payload: Bytes },
}

/// The result of [`Reassembler::push`]: the part's outcome and any messages
/// evicted to make room for it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "evicted messages must be delivered or they are lost"]
pub struct Pushed {
    pub outcome: PushOutcome,
    pub evicted: Vec<Incomplete>,
}

impl Pushed {
    /// The completed message, if this part completed one.
    pub fn complete(&self) -> Option<&Reassembled> {
        match &self.outcome {
            PushOutcome::Complete(r) => Some(r),
            _ => None,
        }
    }
}

/// Counters since creation, plus what is held now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReassemblyStats {
    pub completed: u64,
    pub duplicates: u64,
    pub expired: u64,
    pub evicted: u64,
    pub rejected: u64,
    pub pending_messages: usize,
    pub pending_bytes: usize,
}

struct Group {
    first_seen: Instant,
    id: u64,
    parts: Vec<Option<Bytes>>,
    received: usize,
    bytes: usize,
    duplicates: usize,
}

/// A completed message remembered for late duplicates.
struct Recent {
    done_at: Instant,
    id: u64,
    hashes: Vec<u64>,
}

/// The bounded buffer of long messages in progress. See the module docs.
pub struct Reassembler {
    limits: ReassemblerLimits,
    groups: HashMap<PartKey, Group>,
    /// Age order for expiry and eviction: (first_seen, id) -> key.
    order: BTreeMap<(Instant, u64), PartKey>,
    /// Recently completed messages (at most `max_messages`), for late
    /// duplicates, with their own age order.
    recent: HashMap<PartKey, Recent>,
    recent_order: BTreeMap<(Instant, u64), PartKey>,
    next_id: u64,
    bytes: usize,
    stats: ReassemblyStats,
}

impl Reassembler {
    pub fn new(limits: ReassemblerLimits) -> Self {
        Reassembler {
            limits,
            groups: HashMap::new(),
            order: BTreeMap::new(),
            recent: HashMap::new(),
            recent_order: BTreeMap::new(),
            next_id: 0,
            bytes: 0,
            stats: ReassemblyStats::default(),
        }
    }

    pub fn limits(&self) -> &ReassemblerLimits {
        &self.limits
    }

    /// Adds one part of the message from `sender` to `receiver`. Returns the
    /// whole message when this was its last missing part, and any messages
    /// evicted to make room.
    pub fn push(
        &mut self,
        sender: &str,
        receiver: &str,
        concat: Concat,
        payload: Bytes,
        now: Instant,
    ) -> Pushed {
        let reject = |this: &mut Self, reason, payload| {
            this.stats.rejected += 1;
            Pushed {
                outcome: PushOutcome::Rejected { reason, payload },
                evicted: Vec::new(),
            }
        };
        if !concat.is_valid() {
            return reject(self, RejectReason::InvalidConcat, payload);
        }
        if concat.total > self.limits.max_parts {
            return reject(self, RejectReason::TooManyParts, payload);
        }
        if payload.len() > self.limits.max_bytes {
            return reject(self, RejectReason::TooLarge, payload);
        }
        let key = PartKey {
            sender: sender.to_owned(),
            receiver: receiver.to_owned(),
            reference: concat.reference,
            total: concat.total,
        };
        if concat.total == 1 {
            self.stats.completed += 1;
            return Pushed {
                outcome: PushOutcome::Complete(Reassembled {
                    key,
                    parts: vec![payload],
                    duplicates: 0,
                }),
                evicted: Vec::new(),
            };
        }
        let idx = usize::from(concat.seq - 1);
        if !self.groups.contains_key(&key) {
            if let Some(rec) = self.recent.get(&key) {
                if rec.hashes.get(idx) == Some(&hash(&payload)) {
                    self.stats.duplicates += 1;
                    return Pushed {
                        outcome: PushOutcome::Duplicate,
                        evicted: Vec::new(),
                    };
                }
                // Same key, other content: a new message reusing the
                // reference.
                self.forget_recent(&key);
            }
        }
        if let Some(g) = self.groups.get_mut(&key) {
            if g.parts.get(idx).is_some_and(Option::is_some) {
                g.duplicates += 1;
                self.stats.duplicates += 1;
                return Pushed {
                    outcome: PushOutcome::Duplicate,
                    evicted: Vec::new(),
                };
            }
        }

        let mut evicted = Vec::new();
        if !self.groups.contains_key(&key) {
            while self.groups.len() >= self.limits.max_messages.max(1) {
                match self.evict_oldest(None) {
                    Some(i) => evicted.push(i),
                    None => break,
                }
            }
        }
        while self.bytes + payload.len() > self.limits.max_bytes {
            // Others go first; the message being added goes only when it is
            // the only one left and still too big.
            match self.evict_oldest(Some(&key)).or_else(|| self.evict_oldest(None)) {
                Some(i) => evicted.push(i),
                None => break,
            }
        }

        let g = match self.groups.get_mut(&key) {
            Some(g) => g,
            None => {
                let id = self.next_id;
                self.next_id += 1;
                self.order.insert((now, id), key.clone());
                self.groups.entry(key.clone()).or_insert(Group {
                    first_seen: now,
                    id,
                    parts: vec![None; usize::from(concat.total)],
                    received: 0,
                    bytes: 0,
                    duplicates: 0,
                })
            }
        };
        g.bytes += payload.len();
        self.bytes += payload.len();
        g.received += 1;
        if let Some(slot) = g.parts.get_mut(idx) {
            *slot = Some(payload);
        }
        let outcome = if g.received == g.parts.len() {
            let g = self.remove(&key);
            self.stats.completed += 1;
            match g {
                Some(g) => {
                    self.remember(&key, &g.parts, now);
                    PushOutcome::Complete(Reassembled {
                        key,
                        parts: g.parts.into_iter().flatten().collect(),
                        duplicates: g.duplicates,
                    })
                }
                None => PushOutcome::Buffered,
            }
        } else {
            PushOutcome::Buffered
        };
        Pushed { outcome, evicted }
    }

    /// Removes and returns every message whose first part arrived at least
    /// the timeout before `now`.
    pub fn expire(&mut self, now: Instant) -> Vec<Incomplete> {
        while let Some((&(done_at, _), _)) = self.recent_order.first_key_value() {
            if now.saturating_duration_since(done_at) < self.limits.timeout {
                break;
            }
            if let Some((_, key)) = self.recent_order.pop_first() {
                self.recent.remove(&key);
            }
        }
        let mut out = Vec::new();
        while let Some((&(first_seen, _), _)) = self.order.first_key_value() {
            if now.saturating_duration_since(first_seen) < self.limits.timeout {
                break;
            }
            let Some((_, key)) = self.order.pop_first() else {
                break;
            };
            if let Some(g) = self.remove(&key) {
                self.stats.expired += 1;
                out.push(incomplete(key, g, IncompleteReason::Expired));
            }
        }
        out
    }

    /// Counters and current occupancy.
    pub fn stats(&self) -> ReassemblyStats {
        ReassemblyStats {
            pending_messages: self.groups.len(),
            pending_bytes: self.bytes,
            ..self.stats
        }
    }

    /// Messages in progress.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    fn evict_oldest(&mut self, except: Option<&PartKey>) -> Option<Incomplete> {
        let key = self.order.values().find(|k| Some(*k) != except).cloned()?;
        let g = self.remove(&key)?;
        self.stats.evicted += 1;
        Some(incomplete(key, g, IncompleteReason::Evicted))
    }

    fn remember(&mut self, key: &PartKey, parts: &[Option<Bytes>], now: Instant) {
        self.forget_recent(key);
        while self.recent.len() >= self.limits.max_messages.max(1) {
            let Some((_, old)) = self.recent_order.pop_first() else {
                break;
            };
            self.recent.remove(&old);
        }
        let id = self.next_id;
        self.next_id += 1;
        let hashes = parts.iter().map(|p| p.as_ref().map_or(0, hash)).collect();
        self.recent_order.insert((now, id), key.clone());
        self.recent.insert(
            key.clone(),
            Recent {
                done_at: now,
                id,
                hashes,
            },
        );
    }

    fn forget_recent(&mut self, key: &PartKey) {
        if let Some(r) = self.recent.remove(key) {
            self.recent_order.remove(&(r.done_at, r.id));
        }
    }

    fn remove(&mut self, key: &PartKey) -> Option<Group> {
        let g = self.groups.remove(key)?;
        self.order.remove(&(g.first_seen, g.id));
        self.bytes -= g.bytes;
        Some(g)
    }
}

impl Default for Reassembler {
    fn default() -> Self {
        Reassembler::new(ReassemblerLimits::default())
    }
}

fn incomplete(key: PartKey, g: Group, reason: IncompleteReason) -> Incomplete {
    let mut parts = Vec::new();
    let mut missing = Vec::new();
    for (i, p) in g.parts.into_iter().enumerate() {
        // i < total <= 255.
        let seq = (i + 1) as u8;
        match p {
            Some(b) => parts.push((seq, b)),
            None => missing.push(seq),
        }
    }
    Incomplete {
        key,
        parts,
        missing,
        first_seen: g.first_seen,
        reason,
    }
}

fn hash(payload: &Bytes) -> u64 {
    let mut h = DefaultHasher::new();
    payload.hash(&mut h);
    h.finish()
}

fn join<'a>(parts: impl Iterator<Item = &'a Bytes>) -> Bytes {
    let mut out = BytesMut::new();
    for p in parts {
        out.extend_from_slice(p);
    }
    out.freeze()
}
