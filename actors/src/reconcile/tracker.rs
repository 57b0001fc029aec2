//! The bookkeeping of report reconciliation, without actors or clocks:
//! carrier id → part → message, reports that came before their submit
//! response, per-part outcomes and the message's derived final state,
//! validity deadlines, unmatched reports.
//!
//! Every method appends the facts it establishes to an `out` vector of
//! [`Event`]s for the store; it never drops a report without counting it.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::time::{Duration, Instant};

use smsgw_protocols::report::{DeliveryReport, ReportState};

use crate::model::{KnownPart, MessageId, PartId};
use crate::store::{Event, MessageState, PartOutcome};

type Key = (String, String);

struct Track {
    total: u8,
    report: bool,
    valid_until: Instant,
    outcomes: Vec<Option<PartOutcome>>,
    /// The carrier id of each part once accepted (to forget on expiry).
    ids: Vec<Option<Key>>,
    done: usize,
}

/// A report no part was found for.
#[derive(Debug, Clone)]
pub struct Unmatched {
    pub carrier: String,
    pub report: DeliveryReport,
    pub at: Instant,
}

/// Counters since start and sizes now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReconcileStats {
    pub matched: u64,
    /// Reports that waited for their submit response.
    pub early: u64,
    pub unmatched: u64,
    /// Parts closed as expired.
    pub expired: u64,
    pub messages_done: u64,
    /// Parts a new leader took over as submitted, awaiting their report.
    pub resumed_awaiting: u64,
    pub tracked_messages: usize,
    pub awaiting_reports: usize,
    pub early_held: usize,
    /// Carrier answers waiting for a commit or a held report's match.
    pub acks_pending: usize,
    /// Facts (carrier ids, outcomes, MOs) not yet committed: batched or at
    /// the flusher. A planned switchover waits for 0.
    pub events_unflushed: usize,
}

/// Most unmatched reports kept for inspection.
const UNMATCHED_KEPT: usize = 10_000;

pub struct Tracker {
    messages: HashMap<MessageId, Track>,
    by_carrier_id: HashMap<Key, (PartId, Instant)>,
    early: HashMap<Key, (DeliveryReport, Instant)>,
    deadlines: BTreeSet<(Instant, MessageId)>,
    unmatched: VecDeque<Unmatched>,
    stats: ReconcileStats,
}

impl Default for Tracker {
    fn default() -> Self {
        Self::new()
    }
}

impl Tracker {
    pub fn new() -> Tracker {
        Tracker {
            messages: HashMap::new(),
            by_carrier_id: HashMap::new(),
            early: HashMap::new(),
            deadlines: BTreeSet::new(),
            unmatched: VecDeque::new(),
            stats: ReconcileStats::default(),
        }
    }

    /// Starts tracking a message split into `total` parts.
    pub fn track(&mut self, message: MessageId, total: u8, report: bool, valid_until: Instant) {
        let n = usize::from(total.max(1));
        self.messages.insert(
            message,
            Track {
                total: total.max(1),
                report,
                valid_until,
                outcomes: vec![None; n],
                ids: vec![None; n],
                done: 0,
            },
        );
        self.deadlines.insert((valid_until, message));
    }

    /// Takes over a message another leader started (tracked first with
    /// [`Tracker::track`]): registers
    /// the parts whose carrier id is committed as awaiting their report
    /// (a report already held is applied now), and marks the parts whose
    /// outcome is committed as done without proposing them again. A
    /// message whose every part has an outcome is finished here.
    pub fn resume(&mut self, message: MessageId, known: &[KnownPart], now: Instant, out: &mut Vec<Event>) {
        let Some(report) = self.messages.get(&message).map(|t| t.report) else {
            return;
        };
        for k in known {
            let part = PartId { message, seq: k.seq };
            let i = usize::from(k.seq.saturating_sub(1));
            let Some(t) = self.messages.get_mut(&message) else {
                return;
            };
            if i >= t.outcomes.len() {
                continue;
            }
            if let Some(o) = &k.outcome {
                if t.outcomes[i].is_none() {
                    t.outcomes[i] = Some(o.clone());
                    t.done += 1;
                }
                continue;
            }
            let Some((carrier, id)) = &k.submitted else {
                continue;
            };
            let key = (carrier.clone(), id.clone());
            t.ids[i] = Some(key.clone());
            if !report {
                self.part_done(part, PartOutcome::Accepted, out);
            } else if let Some((r, _)) = self.early.remove(&key) {
                self.stats.early += 1;
                crate::metrics::reports("early", 1);
                self.apply(part, &r, out);
            } else {
                self.stats.resumed_awaiting += 1;
                self.by_carrier_id.insert(key, (part, now));
            }
        }
        if let Some(t) = self.messages.get(&message) {
            if t.done >= usize::from(t.total) {
                let state = derive(t.outcomes.iter().flatten());
                self.close(message, state, out);
            }
        }
    }

    /// Forgets a finished message and emits its final state.
    fn close(&mut self, message: MessageId, state: MessageState, out: &mut Vec<Event>) {
        if let Some(t) = self.messages.remove(&message) {
            self.deadlines.remove(&(t.valid_until, message));
            // Registrations a report will never clear (matched elsewhere).
            for k in t.ids.into_iter().flatten() {
                if self
                    .by_carrier_id
                    .get(&k)
                    .is_some_and(|(p, _)| p.message == message)
                {
                    self.by_carrier_id.remove(&k);
                }
            }
        }
        self.stats.messages_done += 1;
        out.push(Event::MessageDone { message, state });
    }

    /// The carrier accepted `part` under `id`.
    pub fn submitted(&mut self, part: PartId, carrier: &str, id: &str, now: Instant, out: &mut Vec<Event>) {
        out.push(Event::CarrierId {
            part,
            carrier: carrier.to_string(),
            carrier_msg_id: id.to_string(),
        });
        let key = (carrier.to_string(), id.to_string());
        let report = match self.messages.get_mut(&part.message) {
            Some(t) => {
                if let Some(slot) = t.ids.get_mut(usize::from(part.seq.saturating_sub(1))) {
                    *slot = Some(key.clone());
                }
                t.report
            }
            None => true,
        };
        if !report {
            self.part_done(part, PartOutcome::Accepted, out);
            return;
        }
        if let Some((r, _)) = self.early.remove(&key) {
            self.stats.early += 1;
            crate::metrics::reports("early", 1);
            self.apply(part, &r, out);
            return;
        }
        self.by_carrier_id.insert(key, (part, now));
    }

    /// The part was never accepted.
    pub fn submit_failed(&mut self, part: PartId, reason: String, out: &mut Vec<Event>) {
        self.part_done(part, PartOutcome::SubmitFailed(reason), out);
    }

    /// A report from `carrier`; held if its submit response has not come.
    /// A copy of a report already held (the carrier re-delivering one not
    /// yet acknowledged) keeps the first one and its time, so re-deliveries
    /// never postpone its last look-up.
    pub fn report(&mut self, carrier: &str, report: DeliveryReport, now: Instant, out: &mut Vec<Event>) {
        let key = (carrier.to_string(), report.carrier_msg_id.clone());
        match self.by_carrier_id.remove(&key) {
            Some((part, at)) => {
                crate::metrics::report_latency(carrier, now.saturating_duration_since(at));
                self.apply(part, &report, out);
            }
            None => {
                self.early.entry(key).or_insert((report, now));
            }
        }
    }

    /// Whether a report from `carrier` with carrier id `id` is held.
    pub fn is_held(&self, carrier: &str, id: &str) -> bool {
        self.early.contains_key(&(carrier.to_string(), id.to_string()))
    }

    fn apply(&mut self, part: PartId, r: &DeliveryReport, out: &mut Vec<Event>) {
        self.stats.matched += 1;
        crate::metrics::reports("matched", 1);
        self.part_done(
            part,
            PartOutcome::Reported {
                state: r.state,
                stat: r.stat.clone(),
            },
            out,
        );
    }

    /// A held report that another node's submit explains (found in the
    /// store): only the part's fact is known here.
    pub fn matched_elsewhere(&mut self, part: PartId, r: &DeliveryReport, out: &mut Vec<Event>) {
        if self.messages.contains_key(&part.message) {
            self.apply(part, r, out);
        } else {
            self.stats.matched += 1;
            crate::metrics::reports("matched", 1);
            out.push(Event::PartDone {
                part,
                outcome: PartOutcome::Reported {
                    state: r.state,
                    stat: r.stat.clone(),
                },
            });
        }
    }

    /// Counts, keeps and logs a report nothing matched.
    pub fn unmatched(&mut self, carrier: String, report: DeliveryReport, now: Instant, out: &mut Vec<Event>) {
        self.stats.unmatched += 1;
        crate::metrics::reports("unmatched", 1);
        tracing::warn!(
            carrier,
            id = report.carrier_msg_id,
            stat = report.stat,
            "delivery report matches no part"
        );
        out.push(Event::UnmatchedReport {
            carrier: carrier.clone(),
            carrier_msg_id: report.carrier_msg_id.clone(),
            state: report.state,
        });
        if self.unmatched.len() >= UNMATCHED_KEPT {
            self.unmatched.pop_front();
        }
        self.unmatched.push_back(Unmatched {
            carrier,
            report,
            at: now,
        });
    }

    /// Held reports older than `hold`, taken out for a last look-up.
    pub fn take_stale_early(&mut self, now: Instant, hold: Duration) -> Vec<(String, DeliveryReport)> {
        let stale: Vec<Key> = self
            .early
            .iter()
            .filter(|(_, (_, at))| now.saturating_duration_since(*at) >= hold)
            .map(|(k, _)| k.clone())
            .collect();
        stale
            .into_iter()
            .filter_map(|k| self.early.remove(&k).map(|(r, _)| (k.0, r)))
            .collect()
    }

    /// Closes every part still without an outcome past its message's
    /// validity deadline as expired.
    pub fn expire(&mut self, now: Instant, out: &mut Vec<Event>) {
        while let Some(&(at, message)) = self.deadlines.first() {
            if at > now {
                break;
            }
            self.deadlines.pop_first();
            let Some(t) = self.messages.get(&message) else {
                continue;
            };
            let open: Vec<(u8, Option<Key>)> = t
                .outcomes
                .iter()
                .zip(&t.ids)
                .enumerate()
                .filter(|(_, (o, _))| o.is_none())
                .map(|(i, (_, id))| ((i + 1) as u8, id.clone()))
                .collect();
            for (seq, id) in open {
                if let Some(k) = id {
                    self.by_carrier_id.remove(&k);
                }
                self.stats.expired += 1;
                crate::metrics::reports("expired", 1);
                self.part_done(PartId { message, seq }, PartOutcome::Expired, out);
            }
        }
    }

    fn part_done(&mut self, part: PartId, outcome: PartOutcome, out: &mut Vec<Event>) {
        let Some(t) = self.messages.get_mut(&part.message) else {
            out.push(Event::PartDone { part, outcome });
            return;
        };
        let Some(slot) = t.outcomes.get_mut(usize::from(part.seq.saturating_sub(1))) else {
            return;
        };
        if slot.is_some() {
            // A second verdict on a finished part (a duplicate report).
            return;
        }
        *slot = Some(outcome.clone());
        t.done += 1;
        out.push(Event::PartDone { part, outcome });
        if t.done >= usize::from(t.total) {
            let state = derive(t.outcomes.iter().flatten());
            self.close(part.message, state, out);
        }
    }

    pub fn stats(&self) -> ReconcileStats {
        ReconcileStats {
            tracked_messages: self.messages.len(),
            awaiting_reports: self.by_carrier_id.len(),
            early_held: self.early.len(),
            acks_pending: 0,
            ..self.stats
        }
    }

    /// The most recent unmatched reports.
    pub fn recent_unmatched(&self) -> Vec<Unmatched> {
        self.unmatched.iter().cloned().collect()
    }
}

/// A message's state from its parts: delivered only when every part was;
/// otherwise the worst thing that happened to a part.
pub fn derive<'a>(parts: impl Iterator<Item = &'a PartOutcome>) -> MessageState {
    let mut state = MessageState::Delivered;
    let rank = |s: MessageState| match s {
        MessageState::Delivered => 0,
        MessageState::Sent => 1,
        MessageState::Undeliverable => 2,
        MessageState::Expired => 3,
        MessageState::Rejected => 4,
        MessageState::Failed => 5,
    };
    for p in parts {
        let s = match p {
            PartOutcome::Reported { state, .. } => match state {
                ReportState::Delivered => MessageState::Delivered,
                ReportState::Expired => MessageState::Expired,
                ReportState::Rejected => MessageState::Rejected,
                _ => MessageState::Undeliverable,
            },
            PartOutcome::Accepted => MessageState::Sent,
            PartOutcome::SubmitFailed(_) => MessageState::Failed,
            PartOutcome::Expired => MessageState::Expired,
        };
        if rank(s) > rank(state) {
            state = s;
        }
    }
    state
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(id: &str, state: ReportState) -> DeliveryReport {
        DeliveryReport {
            carrier_msg_id: id.into(),
            state,
            stat: state.stat().into(),
            error_code: 0,
            destination: None,
            submit_time: None,
            done_time: None,
        }
    }

    fn part(message: u64, seq: u8) -> PartId {
        PartId { message, seq }
    }

    #[test]
    fn long_message_final_after_every_part_and_early_reports_wait() {
        let now = Instant::now();
        let mut t = Tracker::new();
        let mut out = Vec::new();
        t.track(1, 3, true, now + Duration::from_secs(60));
        t.submitted(part(1, 1), "c", "a", now, &mut out);
        t.report("c", report("b", ReportState::Delivered), now, &mut out); // early
        t.submitted(part(1, 2), "c", "b", now, &mut out);
        t.report("c", report("a", ReportState::Delivered), now, &mut out);
        assert!(!out.iter().any(|e| matches!(e, Event::MessageDone { .. })));
        t.submitted(part(1, 3), "c", "x", now, &mut out);
        t.report("c", report("x", ReportState::Undeliverable), now, &mut out);
        assert!(out.contains(&Event::MessageDone {
            message: 1,
            state: MessageState::Undeliverable
        }));
        let s = t.stats();
        assert_eq!(
            (s.matched, s.early, s.tracked_messages, s.awaiting_reports),
            (3, 1, 0, 0)
        );
    }

    #[test]
    fn expiry_and_unmatched() {
        let now = Instant::now();
        let mut t = Tracker::new();
        let mut out = Vec::new();
        t.track(7, 2, true, now + Duration::from_secs(1));
        t.submitted(part(7, 1), "c", "a", now, &mut out);
        t.report("c", report("a", ReportState::Delivered), now, &mut out);
        t.submitted(part(7, 2), "c", "b", now, &mut out);
        t.expire(now + Duration::from_secs(2), &mut out);
        assert!(out.contains(&Event::MessageDone {
            message: 7,
            state: MessageState::Expired
        }));
        assert_eq!(t.stats().awaiting_reports, 0);
        t.report("c", report("zzz", ReportState::Delivered), now, &mut out);
        let stale = t.take_stale_early(now + Duration::from_secs(5), Duration::from_secs(1));
        assert_eq!(stale.len(), 1);
        let (c, r) = stale.into_iter().next().unwrap();
        t.unmatched(c, r, now, &mut out);
        assert_eq!(t.stats().unmatched, 1);
        assert_eq!(t.recent_unmatched().len(), 1);
    }
}
