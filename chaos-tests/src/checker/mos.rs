//! "Every MO recorded exactly once": each MO the carrier was given (unique
//! handset and text) must appear once in the account's inbound listing; an
//! MO missing is lost, one listed twice is a duplicate. Charged to the fault
//! in force when it was injected. Pure: reads the history only.

use std::collections::{BTreeMap, HashMap};

use super::{fault_at, NemesisStats, Verdict, Violation};
use crate::history::History;

pub(super) fn check(h: &History, v: &mut Verdict, stats: &mut BTreeMap<String, NemesisStats>) {
    v.mo_sent = h.mos.len() as u64;
    if h.mos.is_empty() {
        return;
    }
    let Some(listed) = &h.mo_recorded else {
        v.violations.push(Violation {
            kind: "mo_unlisted".into(),
            detail: format!(
                "{} MOs injected, but no node listed the account's MOs",
                h.mos.len()
            ),
        });
        return;
    };
    let count: HashMap<(&str, &str), u64> = listed
        .iter()
        .map(|m| ((m.from.as_str(), m.text.as_str()), m.count))
        .collect();
    for m in &h.mos {
        let n = count
            .get(&(m.from.as_str(), m.text.as_str()))
            .copied()
            .unwrap_or(0);
        let s = fault_at(&h.faults, m.at_ms).and_then(|i| stats.get_mut(&h.faults[i].nemesis));
        if let Some(s) = s {
            s.mo_sent += 1;
            if n == 0 {
                s.mo_lost += 1;
            }
            s.mo_duplicates += n.saturating_sub(1);
        }
        if n == 0 {
            v.mo_lost += 1;
            v.violations.push(Violation {
                kind: "mo_lost".into(),
                detail: format!(
                    "MO {:?} from {} (at {} ms) was never recorded",
                    m.text, m.from, m.at_ms
                ),
            });
        } else if n > 1 {
            v.mo_duplicates += n - 1;
            v.violations.push(Violation {
                kind: "mo_duplicated".into(),
                detail: format!(
                    "MO {:?} from {} (at {} ms) was recorded {n} times",
                    m.text, m.from, m.at_ms
                ),
            });
        }
    }
}
