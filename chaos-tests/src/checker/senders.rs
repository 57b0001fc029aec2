//! "No part sent by two leaders at the same time", from the carrier's side:
//! every submit is attributed to the node whose connection carried it, and
//! a node's submit that falls *inside* another node's sending (that node
//! sent within `gap_ms` before it and within `gap_ms` after it) is an
//! intrusion. Intrusions of one node into another's sending, each within
//! `gap_ms` of the last, form one overlap episode.
//!
//! A clean failover never interleaves: the new leader is elected no sooner
//! than an election timeout after the old one's lease ended, and `gap_ms`
//! is shorter than that. What a deposed leader had already handed to its
//! links (one window per link) may still arrive after the new leader
//! began: an episode of up to `handover_parts` is that handover, more is two
//! leaders sending at once. Pure: it reads the carrier's records only.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::history::CarrierSubmit;

/// One stretch where `intruder` submitted while `sender` was sending.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overlap {
    pub intruder: u64,
    pub sender: u64,
    pub from_ms: u64,
    pub to_ms: u64,
    /// The intruder's submits in the stretch.
    pub parts: u64,
}

/// Every overlap episode in `carrier` (attributed submits only).
pub fn overlaps(carrier: &[CarrierSubmit], gap_ms: u64) -> Vec<Overlap> {
    let mut by_node: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    let mut all: Vec<(u64, u64, u64)> = Vec::new();
    for s in carrier {
        if let Some(node) = s.node {
            by_node.entry(node).or_default().push(s.at_ms);
            all.push((s.at_ms, s.n, node));
        }
    }
    for times in by_node.values_mut() {
        times.sort_unstable();
    }
    all.sort_unstable();
    let mut out: Vec<Overlap> = Vec::new();
    // The open episode of each (intruder, sender), as an index into `out`.
    let mut open: BTreeMap<(u64, u64), usize> = BTreeMap::new();
    for (t, _, x) in all {
        for (&y, times) in by_node.iter().filter(|(&y, _)| y != x) {
            // Strictly before and after: a tie alone proves nothing.
            let before = times.partition_point(|&u| u < t);
            let after = times.partition_point(|&u| u <= t);
            let inside = before > 0
                && t - times[before - 1] <= gap_ms
                && times.get(after).is_some_and(|&u| u - t <= gap_ms);
            if !inside {
                continue;
            }
            match open.get(&(x, y)).map(|&i| &mut out[i]) {
                Some(o) if t.saturating_sub(o.to_ms) <= gap_ms => {
                    o.to_ms = t;
                    o.parts += 1;
                }
                _ => {
                    open.insert((x, y), out.len());
                    out.push(Overlap {
                        intruder: x,
                        sender: y,
                        from_ms: t,
                        to_ms: t,
                        parts: 1,
                    });
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(node: u64, t: u64) -> CarrierSubmit {
        CarrierSubmit {
            destination: format!("d{node}-{t}"),
            at_ms: t,
            node: Some(node),
            n: t,
        }
    }

    #[test]
    fn a_clean_handover_has_no_overlap_and_late_in_flight_parts_are_one_small_episode() {
        // Node 1 sends every 25 ms until 1000, node 2 from 1600.
        let mut h: Vec<_> = (0..40).map(|i| at(1, i * 25)).collect();
        h.extend((0..40).map(|i| at(2, 1600 + i * 25)));
        assert!(overlaps(&h, 400).is_empty());
        // Three parts of node 1 held in its link arrive at 1700.
        h.extend((0..3).map(|i| at(1, 1700 + i)));
        let o = overlaps(&h, 400);
        assert_eq!(o.len(), 1, "{o:?}");
        assert_eq!((o[0].intruder, o[0].sender, o[0].parts), (1, 2, 3));
    }

    #[test]
    fn two_nodes_sending_at_once_are_one_long_episode_each_way() {
        let mut h: Vec<_> = (0..100).map(|i| at(1, i * 20)).collect();
        h.extend((0..50).map(|i| at(2, 500 + i * 20 + 7)));
        let o = overlaps(&h, 400);
        let of = |x: u64| o.iter().filter(|e| e.intruder == x).map(|e| e.parts).sum::<u64>();
        assert_eq!(of(2), 50, "{o:?}");
        assert!(of(1) >= 45, "{o:?}");
        assert_eq!(o.iter().filter(|e| e.intruder == 2).count(), 1);
        // Unattributed submits are left out.
        let mut h2 = h.clone();
        for s in &mut h2 {
            if s.node == Some(2) {
                s.node = None;
            }
        }
        assert!(overlaps(&h2, 400).is_empty());
    }
}
