//! Alarm latency: for every alarm-priority message accepted, the time from
//! the request that was answered 202 to the first submit of it at the
//! carrier, as p50/p99 over the drill and per nemesis (charged to the fault
//! in force when the operation started). Measured, not judged. Pure.

use std::collections::{BTreeMap, HashMap};

use super::{fault_at, NemesisStats, Verdict};
use crate::history::History;

/// The `p`-quantile (0..=1) of `sorted` by nearest rank.
pub fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.max(1) - 1).copied()
}

pub(super) fn measure(
    h: &History,
    first_sent: &HashMap<&str, u64>,
    v: &mut Verdict,
    stats: &mut BTreeMap<String, NemesisStats>,
) {
    let mut all = Vec::new();
    let mut by: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for op in h.ops.iter().filter(|o| o.priority.as_deref() == Some("alarm")) {
        let (Some(asked), Some(&sent)) = (op.accepting_request_at(), first_sent.get(op.to.as_str())) else {
            continue;
        };
        let ms = sent.saturating_sub(asked);
        all.push(ms);
        if let Some(i) = fault_at(&h.faults, op.started_at()) {
            by.entry(h.faults[i].nemesis.clone()).or_default().push(ms);
        }
    }
    all.sort_unstable();
    v.alarms = all.len() as u64;
    v.alarm_p50_ms = percentile(&all, 0.5);
    v.alarm_p99_ms = percentile(&all, 0.99);
    for (name, mut l) in by {
        l.sort_unstable();
        if let Some(s) = stats.get_mut(&name) {
            s.alarms = l.len() as u64;
            s.alarm_p50_ms = percentile(&l, 0.5);
            s.alarm_p99_ms = percentile(&l, 0.99);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn percentiles_by_nearest_rank() {
        let l: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&l, 0.5), Some(50));
        assert_eq!(percentile(&l, 0.99), Some(99));
        assert_eq!(percentile(&l, 1.0), Some(100));
        assert_eq!(percentile(&[7], 0.99), Some(7));
        assert_eq!(percentile(&[], 0.5), None);
    }
}
