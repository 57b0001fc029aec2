//! The priority queues of one route: four classes. Alarm is strict: an
//! alarm goes before anything else. Below it, high, normal and bulk share
//! by weight ([`WEIGHTS`], smooth weighted round robin), so a flood of high
//! or normal traffic slows bulk but never starves it. Inside a class,
//! accounts take turns, so one account's campaign delays another account's
//! few messages by at most one item per busy account per round.
//!
//! Pure data structure: no clock, no actors, no I/O. It never reorders the
//! items of one account.

use std::collections::{HashMap, VecDeque};

use crate::model::Priority;

/// One class: a FIFO per account and a ring of accounts that have items.
#[derive(Debug)]
struct Class<T> {
    by_account: HashMap<String, VecDeque<T>>,
    ring: VecDeque<String>,
    len: usize,
}

impl<T> Default for Class<T> {
    fn default() -> Self {
        Class {
            by_account: HashMap::new(),
            ring: VecDeque::new(),
            len: 0,
        }
    }
}

impl<T> Class<T> {
    fn push(&mut self, account: &str, item: T, front: bool) {
        let q = match self.by_account.get_mut(account) {
            Some(q) => q,
            None => {
                // A new (or returning) account joins the ring: at the back
                // for new work, at the front for work handed back.
                if front {
                    self.ring.push_front(account.to_string());
                } else {
                    self.ring.push_back(account.to_string());
                }
                self.by_account.entry(account.to_string()).or_default()
            }
        };
        if front {
            q.push_front(item);
        } else {
            q.push_back(item);
        }
        self.len += 1;
    }

    fn pop(&mut self) -> Option<T> {
        let account = self.ring.pop_front()?;
        let q = self.by_account.get_mut(&account)?;
        let item = q.pop_front();
        if q.is_empty() {
            self.by_account.remove(&account);
        } else {
            self.ring.push_back(account);
        }
        if item.is_some() {
            self.len -= 1;
        }
        item
    }
}

/// Shares of high, normal and bulk while all three have work: 16 : 4 : 1.
pub const WEIGHTS: [i64; 3] = [16, 4, 1];

/// The four classes of one route.
#[derive(Debug)]
pub struct PriorityQueues<T> {
    classes: [Class<T>; 4],
    /// Smooth weighted round robin state of high, normal, bulk.
    current: [i64; 3],
}

impl<T> Default for PriorityQueues<T> {
    fn default() -> Self {
        PriorityQueues {
            classes: Default::default(),
            current: [0; 3],
        }
    }
}

impl<T> PriorityQueues<T> {
    pub fn push(&mut self, priority: Priority, account: &str, item: T) {
        self.classes[priority.index()].push(account, item, false);
    }

    /// Puts an item back at the head of its account's queue (work that was
    /// taken and could not be sent).
    pub fn push_front(&mut self, priority: Priority, account: &str, item: T) {
        self.classes[priority.index()].push(account, item, true);
    }

    /// The next item: an alarm if any; else the weighted turn among the
    /// non-empty lower classes; inside the class, its next account in turn.
    pub fn pop(&mut self) -> Option<(Priority, T)> {
        if let Some(item) = self.classes[Priority::Alarm.index()].pop() {
            return Some((Priority::Alarm, item));
        }
        // Smooth weighted round robin (as nginx balances upstreams): every
        // non-empty class gains its weight, the richest goes and pays the
        // total, so shares are exact over any window and evenly spread.
        let lower = [Priority::High, Priority::Normal, Priority::Bulk];
        let mut total = 0;
        let mut best: Option<usize> = None;
        for (i, p) in lower.iter().enumerate() {
            if self.classes[p.index()].len == 0 {
                continue;
            }
            self.current[i] += WEIGHTS[i];
            total += WEIGHTS[i];
            if best.is_none_or(|b| self.current[i] > self.current[b]) {
                best = Some(i);
            }
        }
        let i = best?;
        self.current[i] -= total;
        let p = lower[i];
        let item = self.classes[p.index()].pop()?;
        if self.classes[p.index()].len == 0 {
            // An emptied class keeps no credit or debt for its next burst.
            self.current[i] = 0;
        }
        Some((p, item))
    }

    pub fn len_of(&self, p: Priority) -> usize {
        self.classes[p.index()].len
    }

    /// The smallest `key` among the heads of class `p`'s account queues:
    /// each account's queue is in arrival order, so with `key` the arrival
    /// time this is the oldest waiting item (one look per account).
    pub fn oldest_of<K: Ord>(&self, p: Priority, key: impl Fn(&T) -> K) -> Option<K> {
        self.classes[p.index()]
            .by_account
            .values()
            .filter_map(|q| q.front().map(&key))
            .min()
    }

    pub fn len(&self) -> usize {
        self.classes.iter().map(|c| c.len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod oldest {
    use super::*;

    #[test]
    fn the_oldest_waiting_item_of_a_class_is_found_across_accounts() {
        let mut q = PriorityQueues::default();
        q.push(Priority::Normal, "a", 5);
        q.push(Priority::Normal, "b", 3);
        q.push(Priority::Normal, "a", 1);
        q.push(Priority::Alarm, "a", 9);
        assert_eq!(
            q.oldest_of(Priority::Normal, |x| *x),
            Some(3),
            "the head of each account"
        );
        assert_eq!(q.oldest_of(Priority::Alarm, |x| *x), Some(9));
        assert_eq!(q.oldest_of(Priority::Bulk, |x| *x), None);
    }
}

#[cfg(test)]
mod props {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// For any backlog: every alarm goes before anything else; while
        /// high, normal and bulk all have work, each gets its weighted share
        /// of every prefix (within one item); and no account's items are
        /// reordered.
        #[test]
        fn dispatch_order_honours_alarm_first_and_weights(
            counts in proptest::array::uniform4(0usize..150),
            accounts in 1usize..4,
        ) {
            let mut q = PriorityQueues::default();
            for p in Priority::ALL {
                for i in 0..counts[p.index()] {
                    q.push(p, &format!("acct{}", i % accounts), (p, i));
                }
            }
            let mut out = Vec::new();
            while let Some((p, item)) = q.pop() {
                prop_assert_eq!(p, item.0);
                out.push(item);
            }
            prop_assert_eq!(out.len(), counts.iter().sum::<usize>());
            let alarms = counts[0];
            prop_assert!(out[..alarms].iter().all(|(p, _)| *p == Priority::Alarm));
            // While every lower class still had work, shares follow WEIGHTS.
            let lower = &out[alarms..];
            let total: i64 = WEIGHTS.iter().sum();
            let mut seen = [0i64; 3];
            let mut left = [counts[1], counts[2], counts[3]];
            for (n, (p, _)) in lower.iter().enumerate() {
                if left.contains(&0) {
                    break;
                }
                let i = p.index() - 1;
                seen[i] += 1;
                left[i] -= 1;
                let n = n as i64 + 1;
                for c in 0..3 {
                    let fair = n * WEIGHTS[c] / total;
                    prop_assert!(seen[c] + 1 >= fair, "class {c}: {} of {n}, fair {fair}", seen[c]);
                }
            }
            // Per account and class, items come out in the order they went in.
            let mut last: std::collections::HashMap<(Priority, usize), usize> = Default::default();
            for (p, i) in &out {
                let key = (*p, i % accounts);
                if let Some(prev) = last.insert(key, *i) {
                    prop_assert!(prev < *i);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alarm_behind_100k_bulk_goes_next() {
        let mut q = PriorityQueues::default();
        for i in 0..100_000 {
            q.push(Priority::Bulk, "campaign", i);
        }
        for _ in 0..10 {
            q.pop();
        }
        q.push(Priority::Alarm, "police", -1);
        assert_eq!(q.pop(), Some((Priority::Alarm, -1)));
        assert_eq!(q.len(), 100_000 - 10);
    }

    #[test]
    fn accounts_share_a_class_in_turn() {
        let mut q = PriorityQueues::default();
        for i in 0..1_000_000 {
            q.push(Priority::Normal, "big", i);
        }
        for i in 0..10 {
            q.push(Priority::Normal, "small", 1_000_000 + i);
        }
        let mut popped = 0;
        let mut small = 0;
        while small < 10 {
            let (_, v) = q.pop().unwrap();
            popped += 1;
            if v >= 1_000_000 {
                small += 1;
            }
        }
        // Alternating: the small account's 10 are out within 20 pops.
        assert!(popped <= 20, "{popped}");
    }

    #[test]
    fn bulk_is_slowed_by_a_flood_of_normal_but_never_starved() {
        let mut q = PriorityQueues::default();
        for i in 0..10_000 {
            q.push(Priority::Normal, "shop", i);
        }
        for i in 0..100 {
            q.push(Priority::Bulk, "campaign", 100_000 + i);
        }
        let first: Vec<Priority> = (0..50).map(|_| q.pop().unwrap().0).collect();
        let bulk = first.iter().filter(|p| **p == Priority::Bulk).count();
        // normal : bulk = 4 : 1 while both have work.
        assert_eq!(bulk, 10, "{first:?}");
    }

    #[test]
    fn handed_back_work_comes_first() {
        let mut q = PriorityQueues::default();
        q.push(Priority::Normal, "a", 1);
        q.push(Priority::Normal, "b", 2);
        let (_, x) = q.pop().unwrap();
        q.push_front(Priority::Normal, "a", x);
        assert_eq!(q.pop(), Some((Priority::Normal, 1)));
        assert_eq!(q.pop(), Some((Priority::Normal, 2)));
        assert!(q.is_empty());
    }
}
