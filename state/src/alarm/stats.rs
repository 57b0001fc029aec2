//! The desk's statistics, kept by apply per Beijing day of a case's
//! creation: cases by line and by current status, by officer (accepted,
//! closed), escalations, and time to accept and to close as bucket counts
//! (p50/p90 are read off the buckets, so a quantile is the bucket's upper
//! bound). Counters only: a period's figures are a range over its days,
//! never a scan of cases.

use std::collections::BTreeMap;
use std::ops::Bound;

use serde::Serialize;
use smsgw_raft::{ApplyError, Tx, View};

use super::keys;
use super::{Case, CaseStatus};

/// Upper bounds of the duration buckets, in seconds (the last is open).
pub const BUCKETS_SECS: [u64; 24] = [
    1,
    2,
    3,
    5,
    7,
    10,
    15,
    20,
    30,
    45,
    60,
    90,
    120,
    180,
    240,
    300,
    450,
    600,
    900,
    1200,
    1800,
    3600,
    7200,
    u64::MAX,
];

/// Most counter rows one read returns.
pub const MAX_ROWS: usize = 100_000;

fn bump(tx: &mut Tx<'_>, day: u32, dim: &str, name: &str, event: &str, by: i64) -> Result<(), ApplyError> {
    tx.add(&keys::stat(day, dim, name, event), by).map(|_| ())
}

fn bucket(ms: u64) -> usize {
    let secs = ms.div_ceil(1000);
    BUCKETS_SECS
        .iter()
        .position(|b| secs <= *b)
        .unwrap_or(BUCKETS_SECS.len() - 1)
}

/// A new case.
pub(super) fn created(tx: &mut Tx<'_>, case: &Case) -> Result<(), ApplyError> {
    let day = crate::stats::day(case.created_ms);
    bump(tx, day, "line", &case.line, "created", 1)?;
    bump(tx, day, "line", &case.line, case.status.name(), 1)
}

/// `case` (created on its day) moved from `from` to its current status.
pub(super) fn moved(tx: &mut Tx<'_>, case: &Case, from: CaseStatus) -> Result<(), ApplyError> {
    if from == case.status {
        return Ok(());
    }
    let day = crate::stats::day(case.created_ms);
    bump(tx, day, "line", &case.line, from.name(), -1)?;
    bump(tx, day, "line", &case.line, case.status.name(), 1)?;
    let took = |at: Option<u64>| at.map(|t| t.saturating_sub(case.created_ms));
    match case.status {
        CaseStatus::Accepted => {
            if let (Some(ms), Some(o)) = (took(case.accepted_ms), &case.officer) {
                bump(tx, day, "officer", o, "accepted", 1)?;
                bump(tx, day, "accept_ms", &case.line, &bucket(ms).to_string(), 1)?;
            }
        }
        CaseStatus::Closed => {
            if let Some(ms) = took(case.closed_ms) {
                bump(tx, day, "close_ms", &case.line, &bucket(ms).to_string(), 1)?;
            }
            if let Some(o) = &case.officer {
                bump(tx, day, "officer", o, "closed", 1)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// `case` escalated.
pub(super) fn escalated(tx: &mut Tx<'_>, case: &Case) -> Result<(), ApplyError> {
    bump(
        tx,
        crate::stats::day(case.created_ms),
        "line",
        &case.line,
        "escalated",
        1,
    )
}

/// Counters by `(day, dim, name, event)`.
pub type Counters = BTreeMap<(u32, String, String, String), u64>;

/// The counters of days `from..=until`.
pub fn read(view: &View, from: u32, until: u32) -> Result<Counters, ApplyError> {
    let start = keys::stats_day(from);
    let end = keys::stats_day(until.saturating_add(1));
    let mut out = BTreeMap::new();
    for (k, v) in view.range(Bound::Included(&start), &end, MAX_ROWS)? {
        let n: u64 = smsgw_raft::codec::decode(&v)?;
        if n == 0 {
            continue;
        }
        if let Some(parsed) = keys::parse_stat(&k) {
            out.insert(parsed, n);
        }
    }
    Ok(out)
}

/// p50 and p90 (seconds, the bucket's upper bound; `None` past the last
/// bounded bucket or with no sample) of bucket counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct Quantiles {
    /// Samples.
    pub count: u64,
    /// Median.
    pub p50_secs: Option<u64>,
    /// 90th percentile.
    pub p90_secs: Option<u64>,
}

/// Quantiles of `counts[i]` samples in bucket `i`.
pub fn quantiles(counts: &[u64; BUCKETS_SECS.len()]) -> Quantiles {
    let count: u64 = counts.iter().sum();
    let at = |q: f64| -> Option<u64> {
        if count == 0 {
            return None;
        }
        let want = ((count as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, c) in counts.iter().enumerate() {
            seen += c;
            if seen >= want {
                return (BUCKETS_SECS[i] != u64::MAX).then_some(BUCKETS_SECS[i]);
            }
        }
        None
    };
    Quantiles {
        count,
        p50_secs: at(0.5),
        p90_secs: at(0.9),
    }
}
