//! The checker: reads a finished drill's [`History`] (the clients' answers,
//! the carrier's ledger, the API's final statuses, the fault windows) and
//! gives the verdict. It is a pure function of the history, so it can be fed
//! synthetic histories to show it catches what it claims to; it must never
//! look at the live cluster.
//!
//! Promises checked:
//! - lost = 0: every operation answered 202 reached the carrier;
//! - one message per `client_ref`: every 202 of one operation carries the
//!   same id;
//! - duplicates within the bound: submits of one destination beyond the
//!   first, attributed to the fault that was last injected before the extra
//!   submit, at most `dup_bound_per_round` per round (the window in flight
//!   plus one batch of unrecorded answers), once more per carrier link
//!   reset in the round;
//! - every accepted message reaches a final status;
//! - no part sent by two leaders at once ([`senders`]): a node submitting
//!   inside another node's sending, beyond the handover of what was in
//!   flight, is a violation.
//!
//! - every MO recorded exactly once ([`mos`]).
//!
//! Measured: the longest time with no 202 after each fault started
//! (unavailability), the time until a message accepted after the fault
//! started reached the carrier (resume), and alarm-priority latency from
//! accept to carrier, p50/p99 ([`latency`]).

pub mod latency;
mod mos;
pub mod senders;

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::history::{FaultWindow, History};

/// The statuses a message ends in.
pub const FINAL: [&str; 5] = ["DELIVERED", "UNDELIVERABLE", "EXPIRED", "REJECTED", "FAILED"];

/// What the checker allows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Bounds {
    pub dup_bound_per_round: u64,
    /// Parts a deposed leader may still land after the next one began
    /// sending: what it had in flight (one window per carrier link).
    #[serde(default)]
    pub handover_parts: u64,
    /// A node "is sending" at `t` when it submitted within this long before
    /// and after `t`; shorter than the shortest election timeout.
    #[serde(default)]
    pub sender_gap_ms: u64,
}

/// The numbers of one nemesis.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NemesisStats {
    pub nemesis: String,
    pub rounds: u32,
    /// Operations started during this nemesis's rounds and answered 202.
    pub accepted: u64,
    pub lost: u64,
    pub duplicates: u64,
    /// The most duplicates in one round, against the bound.
    pub max_round_duplicates: u64,
    pub not_final: u64,
    /// Operations that never got a definite answer (gave up).
    pub indeterminate: u64,
    pub max_unavailable_ms: u64,
    pub max_resume_ms: Option<u64>,
    pub resume_ms: Vec<Option<u64>>,
    /// The most parts one node submitted inside another's sending in one
    /// episode (a handover, or two leaders at once).
    pub max_overlap_parts: u64,
    /// MOs injected during this nemesis's rounds, lost, recorded twice.
    pub mo_sent: u64,
    pub mo_lost: u64,
    pub mo_duplicates: u64,
    /// Alarm-priority messages accepted, and their accept → carrier time.
    pub alarms: u64,
    pub alarm_p50_ms: Option<u64>,
    pub alarm_p99_ms: Option<u64>,
}

/// One broken promise, with enough detail to find it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Violation {
    pub kind: String,
    pub detail: String,
}

/// The checker's answer.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Verdict {
    pub accepted: u64,
    pub lost: u64,
    pub duplicates: u64,
    pub not_final: u64,
    pub indeterminate: u64,
    /// Longest gap between two 202 answers over the whole drill.
    pub max_unavailable_ms: u64,
    /// Carrier submits whose node could not be told (not checked for
    /// overlap).
    pub unattributed: u64,
    /// Episodes of one node submitting inside another's sending, and the
    /// most parts in one.
    pub overlap_episodes: u64,
    pub max_overlap_parts: u64,
    pub mo_sent: u64,
    pub mo_lost: u64,
    pub mo_duplicates: u64,
    pub alarms: u64,
    pub alarm_p50_ms: Option<u64>,
    pub alarm_p99_ms: Option<u64>,
    pub per_nemesis: Vec<NemesisStats>,
    pub violations: Vec<Violation>,
}

impl Verdict {
    pub fn ok(&self) -> bool {
        self.violations.is_empty()
    }
}

/// The fault in force (or last injected) at `t`, as an index into `faults`.
fn fault_at(faults: &[FaultWindow], t: u64) -> Option<usize> {
    faults.iter().rposition(|f| f.start_ms <= t)
}

/// Checks `h` against the promises.
pub fn check(h: &History, bounds: &Bounds) -> Verdict {
    let mut v = Verdict::default();
    let mut stats: BTreeMap<String, NemesisStats> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for f in &h.faults {
        let s = stats.entry(f.nemesis.clone()).or_insert_with(|| {
            order.push(f.nemesis.clone());
            NemesisStats {
                nemesis: f.nemesis.clone(),
                ..NemesisStats::default()
            }
        });
        s.rounds += 1;
    }
    let name_of = |t: u64| fault_at(&h.faults, t).map(|i| h.faults[i].nemesis.clone());

    // The carrier's view: submits per destination, in arrival order.
    let mut by_dest: HashMap<&str, Vec<u64>> = HashMap::new();
    for s in &h.carrier {
        by_dest.entry(s.destination.as_str()).or_default().push(s.at_ms);
    }
    for times in by_dest.values_mut() {
        times.sort_unstable();
    }

    let mut round_dups = vec![0u64; h.faults.len()];
    for op in &h.ops {
        let bucket = name_of(op.started_at());
        let ids = op.accepted_ids();
        let sent = by_dest.get(op.to.as_str()).map(Vec::as_slice).unwrap_or(&[]);
        if ids.is_empty() {
            let determinate = op
                .attempts
                .last()
                .is_some_and(|a| matches!(a.outcome, crate::history::Outcome::Rejected { .. }));
            if !determinate {
                v.indeterminate += 1;
                if let Some(s) = bucket.as_ref().and_then(|b| stats.get_mut(b)) {
                    s.indeterminate += 1;
                }
            }
        } else {
            v.accepted += 1;
            if let Some(s) = bucket.as_ref().and_then(|b| stats.get_mut(b)) {
                s.accepted += 1;
            }
            if ids.iter().any(|id| *id != ids[0]) {
                v.violations.push(Violation {
                    kind: "conflicting_ids".into(),
                    detail: format!("client_ref {} was answered with ids {ids:?}", op.client_ref),
                });
            }
            if sent.is_empty() {
                v.lost += 1;
                if let Some(s) = bucket.as_ref().and_then(|b| stats.get_mut(b)) {
                    s.lost += 1;
                }
                v.violations.push(Violation {
                    kind: "lost".into(),
                    detail: format!(
                        "{} (id {}, accepted at {} ms) never reached the carrier",
                        op.client_ref,
                        ids[0],
                        op.accepted_at().unwrap_or(0)
                    ),
                });
            }
            let status = h.statuses.get(ids[0]).map(String::as_str).unwrap_or("UNKNOWN");
            if !FINAL.contains(&status) {
                v.not_final += 1;
                if let Some(s) = bucket.as_ref().and_then(|b| stats.get_mut(b)) {
                    s.not_final += 1;
                }
                v.violations.push(Violation {
                    kind: "not_final".into(),
                    detail: format!("{} (id {}) ended {status}", op.client_ref, ids[0]),
                });
            }
        }
        // Every submit of this destination after the first is a duplicate,
        // charged to the fault last injected before it arrived.
        for &t in sent.iter().skip(1) {
            v.duplicates += 1;
            match fault_at(&h.faults, t) {
                Some(i) => {
                    round_dups[i] += 1;
                    if let Some(s) = stats.get_mut(&h.faults[i].nemesis) {
                        s.duplicates += 1;
                    }
                }
                None => v.violations.push(Violation {
                    kind: "duplicate_without_fault".into(),
                    detail: format!("{} reached the carrier twice before any fault", op.client_ref),
                }),
            }
        }
    }
    for (i, &d) in round_dups.iter().enumerate() {
        let f = &h.faults[i];
        if let Some(s) = stats.get_mut(&f.nemesis) {
            s.max_round_duplicates = s.max_round_duplicates.max(d);
        }
        // Every carrier link reset may cost one more window of resends.
        let bound = bounds.dup_bound_per_round * (1 + f.carrier_resets);
        if d > bound {
            v.violations.push(Violation {
                kind: "duplicates_over_bound".into(),
                detail: format!(
                    "{} round {} ({}): {d} duplicate submits, bound {bound} ({} carrier link resets)",
                    f.nemesis, f.round, f.detail, f.carrier_resets
                ),
            });
        }
    }

    // Availability: 202 answer times.
    let mut accepts: Vec<u64> = h.ops.iter().filter_map(|o| o.accepted_at()).collect();
    accepts.sort_unstable();
    v.max_unavailable_ms = accepts.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
    // Resume: first carrier submit of an operation started after the fault.
    let mut first_sent: Vec<(u64, u64)> = h
        .ops
        .iter()
        .filter_map(|o| {
            let t = by_dest.get(o.to.as_str())?.first()?;
            Some((o.started_at(), *t))
        })
        .collect();
    first_sent.sort_unstable();
    for f in &h.faults {
        let Some(s) = stats.get_mut(&f.nemesis) else {
            continue;
        };
        let end = f.end_ms.max(f.start_ms);
        let mut prev = f.start_ms;
        let mut gap = 0;
        for &t in accepts.iter().filter(|&&t| t >= f.start_ms && t <= end) {
            gap = gap.max(t - prev);
            prev = t;
        }
        gap = gap.max(end - prev);
        s.max_unavailable_ms = s.max_unavailable_ms.max(gap);
        let resume = first_sent
            .iter()
            .filter(|(started, _)| *started >= f.start_ms)
            .map(|(_, sent)| sent.saturating_sub(f.start_ms))
            .min();
        s.resume_ms.push(resume);
        match resume {
            Some(r) => s.max_resume_ms = Some(s.max_resume_ms.map_or(r, |m| m.max(r))),
            None => v.violations.push(Violation {
                kind: "never_resumed".into(),
                detail: format!(
                    "{} round {} ({}): nothing accepted after the fault reached the carrier",
                    f.nemesis, f.round, f.detail
                ),
            }),
        }
    }
    two_senders(h, bounds, &mut v, &mut stats);
    mos::check(h, &mut v, &mut stats);
    let first: HashMap<&str, u64> = by_dest
        .iter()
        .filter_map(|(d, t)| Some((*d, *t.first()?)))
        .collect();
    latency::measure(h, &first, &mut v, &mut stats);
    v.per_nemesis = order.into_iter().filter_map(|n| stats.remove(&n)).collect();
    v
}

/// Overlap episodes: counted, charged to the fault in force, and any over
/// the handover bound is a violation.
fn two_senders(h: &History, bounds: &Bounds, v: &mut Verdict, stats: &mut BTreeMap<String, NemesisStats>) {
    v.unattributed = h.carrier.iter().filter(|s| s.node.is_none()).count() as u64;
    for o in senders::overlaps(&h.carrier, bounds.sender_gap_ms) {
        v.overlap_episodes += 1;
        v.max_overlap_parts = v.max_overlap_parts.max(o.parts);
        let fault = fault_at(&h.faults, o.from_ms).map(|i| &h.faults[i]);
        if let Some(s) = fault.and_then(|f| stats.get_mut(&f.nemesis)) {
            s.max_overlap_parts = s.max_overlap_parts.max(o.parts);
        }
        if o.parts > bounds.handover_parts {
            let during = fault.map_or("before any fault".to_string(), |f| {
                format!("{} round {} ({})", f.nemesis, f.round, f.detail)
            });
            v.violations.push(Violation {
                kind: "two_senders".into(),
                detail: format!(
                    "node {} submitted {} parts from {} to {} ms while node {} was sending, {during}; a handover allows {}",
                    o.intruder, o.parts, o.from_ms, o.to_ms, o.sender, bounds.handover_parts
                ),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Attempt, CarrierSubmit, Op, Outcome};

    fn op(n: u32, start: u64, id: Option<&str>) -> Op {
        let outcome = match id {
            Some(id) => Outcome::Accepted { id: id.into() },
            None => Outcome::Indeterminate {
                reason: "timeout".into(),
            },
        };
        Op {
            client_ref: format!("r{n}"),
            to: format!("1390000{n:04}"),
            priority: None,
            attempts: vec![Attempt {
                node: 0,
                start_ms: start,
                end_ms: start + 10,
                outcome,
            }],
        }
    }

    fn sent(n: u32, at: u64) -> CarrierSubmit {
        CarrierSubmit {
            destination: format!("1390000{n:04}"),
            at_ms: at,
            node: Some(1),
            n: u64::from(n),
        }
    }

    /// Ten messages, one kill at 1000 ms, everything delivered once.
    fn clean() -> History {
        let mut h = History::default();
        for n in 0..10u32 {
            let t = u64::from(n) * 200;
            h.ops.push(op(n, t, Some(&format!("m{n}"))));
            h.carrier.push(sent(n, t + 50));
            h.statuses.insert(format!("m{n}"), "DELIVERED".into());
        }
        h.faults.push(FaultWindow {
            nemesis: "kill-leader".into(),
            round: 1,
            detail: "kill -9 node 1".into(),
            start_ms: 1000,
            heal_ms: 1500,
            end_ms: 2000,
            carrier_resets: 0,
        });
        h.end_ms = 2000;
        h
    }

    const B: Bounds = Bounds {
        dup_bound_per_round: 2,
        handover_parts: 3,
        sender_gap_ms: 400,
    };

    #[test]
    fn a_clean_history_passes_with_its_numbers() {
        let v = check(&clean(), &B);
        assert!(v.ok(), "{:?}", v.violations);
        assert_eq!((v.accepted, v.lost, v.duplicates), (10, 0, 0));
        let s = &v.per_nemesis[0];
        assert_eq!((s.nemesis.as_str(), s.rounds, s.accepted), ("kill-leader", 1, 5));
        assert_eq!(s.resume_ms, vec![Some(50)]);
        assert_eq!(s.max_unavailable_ms, 200);
    }

    #[test]
    fn an_accepted_message_missing_at_the_carrier_is_lost() {
        let mut h = clean();
        h.carrier.retain(|s| s.destination != "13900000007");
        let v = check(&h, &B);
        assert_eq!(v.lost, 1);
        assert_eq!(v.per_nemesis[0].lost, 1);
        assert!(v
            .violations
            .iter()
            .any(|x| x.kind == "lost" && x.detail.contains("r7")));
    }

    #[test]
    fn duplicates_over_the_bound_and_before_any_fault_are_caught() {
        let mut h = clean();
        for _ in 0..2 {
            h.carrier.push(sent(6, 1300));
        }
        assert!(check(&h, &B).ok(), "two duplicates are within a bound of 2");
        h.carrier.push(sent(6, 1400));
        let v = check(&h, &B);
        assert_eq!(v.duplicates, 3);
        assert!(v.violations.iter().any(|x| x.kind == "duplicates_over_bound"));
        // A carrier link reset in the round allows one more window.
        let mut h2 = h.clone();
        h2.faults[0].carrier_resets = 1;
        assert!(check(&h2, &B).ok(), "three duplicates, bound 2 × (1 + 1 reset)");
        let mut h = clean();
        h.carrier.push(sent(1, 300));
        let v = check(&h, &B);
        assert!(v.violations.iter().any(|x| x.kind == "duplicate_without_fault"));
    }

    #[test]
    fn a_message_stuck_short_of_a_final_status_or_two_ids_for_one_ref_is_caught() {
        let mut h = clean();
        h.statuses.insert("m3".into(), "SUBMITTED".into());
        h.statuses.remove("m4");
        h.ops[2].attempts.push(Attempt {
            node: 1,
            start_ms: 420,
            end_ms: 430,
            outcome: Outcome::Accepted { id: "other".into() },
        });
        let v = check(&h, &B);
        let kinds: Vec<&str> = v.violations.iter().map(|x| x.kind.as_str()).collect();
        assert_eq!(
            kinds.iter().filter(|k| **k == "not_final").count(),
            2,
            "{kinds:?}"
        );
        assert!(kinds.contains(&"conflicting_ids"));
    }

    #[test]
    fn unavailability_and_a_cluster_that_never_resumes_are_measured() {
        let mut h = clean();
        // Nothing accepted between 1000 and 1900; nothing started after the
        // fault reaches the carrier.
        h.ops.retain(|o| o.started_at() < 1000 || o.started_at() >= 1900);
        h.carrier.retain(|s| s.at_ms < 1000);
        h.ops.retain(|o| o.started_at() < 1000);
        let v = check(&h, &B);
        assert_eq!(v.per_nemesis[0].max_unavailable_ms, 1000);
        assert!(v.violations.iter().any(|x| x.kind == "never_resumed"));
        // An operation that never got an answer is indeterminate, not lost.
        let mut h = clean();
        h.ops.push(op(99, 1100, None));
        let v = check(&h, &B);
        assert_eq!((v.indeterminate, v.lost), (1, 0));
    }

    #[test]
    fn alarm_latency_is_from_the_accepting_request_to_the_carrier_per_nemesis() {
        let mut h = clean();
        for (i, op) in h.ops.iter_mut().enumerate() {
            if i % 2 == 0 {
                op.priority = Some("alarm".into());
            }
        }
        // Op 8's part reaches the carrier 450 ms after its request.
        for c in h.carrier.iter_mut().filter(|c| c.destination == "13900000008") {
            c.at_ms += 400;
        }
        let v = check(&h, &B);
        assert_eq!(
            (v.alarms, v.alarm_p50_ms, v.alarm_p99_ms),
            (5, Some(50), Some(450))
        );
        let s = &v.per_nemesis[0];
        assert_eq!(
            (s.alarms, s.alarm_p50_ms, s.alarm_p99_ms),
            (2, Some(50), Some(450))
        );
    }

    #[test]
    fn every_mo_must_be_recorded_once_and_the_listing_must_be_there() {
        use crate::history::{MoSeen, MoSent};
        let mut h = clean();
        for (n, at) in [(1, 500), (2, 1200), (3, 1300)] {
            h.mos.push(MoSent {
                from: format!("1370000000{n}"),
                text: format!("mo {n}"),
                at_ms: at,
            });
        }
        let seen = |n: u32, count: u64| MoSeen {
            from: format!("1370000000{n}"),
            text: format!("mo {n}"),
            count,
        };
        h.mo_recorded = Some(vec![seen(1, 1), seen(2, 1), seen(3, 1)]);
        let v = check(&h, &B);
        assert!(v.ok(), "{:?}", v.violations);
        assert_eq!((v.mo_sent, v.per_nemesis[0].mo_sent), (3, 2));
        // One missing, one twice: both caught and charged to the kill.
        h.mo_recorded = Some(vec![seen(1, 1), seen(3, 2)]);
        let v = check(&h, &B);
        let kinds: Vec<&str> = v.violations.iter().map(|x| x.kind.as_str()).collect();
        assert_eq!(kinds, ["mo_lost", "mo_duplicated"]);
        let s = &v.per_nemesis[0];
        assert_eq!(
            (v.mo_lost, v.mo_duplicates, s.mo_lost, s.mo_duplicates),
            (1, 1, 1, 1)
        );
        // No node listed the MOs at all.
        h.mo_recorded = None;
        assert!(check(&h, &B).violations.iter().any(|x| x.kind == "mo_unlisted"));
    }

    #[test]
    fn a_second_node_sending_while_the_leader_sends_is_two_senders_a_short_handover_is_not() {
        // Node 1 sends every 20 ms throughout.
        let mut h = clean();
        h.carrier.clear();
        h.carrier.extend((0..100u32).map(|i| sent(i, u64::from(i) * 20)));
        let v = check(&h, &B);
        assert!(
            !v.violations.iter().any(|x| x.kind == "two_senders"),
            "{:?}",
            v.violations
        );
        // Three parts from node 2 in the middle: a handover's worth.
        let mut h2 = h.clone();
        for s in h2.carrier.iter_mut().filter(|s| (1100..1160).contains(&s.at_ms)) {
            s.node = Some(2);
        }
        let v = check(&h2, &B);
        assert_eq!((v.overlap_episodes, v.max_overlap_parts), (1, 3));
        assert!(
            !v.violations.iter().any(|x| x.kind == "two_senders"),
            "{:?}",
            v.violations
        );
        // Node 2 sending every other part for a second: caught, charged to
        // the kill in force.
        for s in h
            .carrier
            .iter_mut()
            .filter(|s| (1100..2000).contains(&s.at_ms) && s.n % 2 == 0)
        {
            s.node = Some(2);
        }
        let v = check(&h, &B);
        let two: Vec<_> = v.violations.iter().filter(|x| x.kind == "two_senders").collect();
        assert!(!two.is_empty(), "{:?}", v.violations);
        assert!(two[0].detail.contains("kill-leader round 1"), "{}", two[0].detail);
        assert!(v.per_nemesis[0].max_overlap_parts > B.handover_parts);
        // A submit whose node is unknown is counted, not judged.
        h.carrier[0].node = None;
        assert_eq!(check(&h, &B).unattributed, 1);
    }
}
