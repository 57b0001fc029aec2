//! The priority queues of one route: four classes (alarm > high > normal >
//! bulk), strict between classes, round robin between accounts inside a
//! class, so one account's campaign delays another account's few messages by
//! at most one item per busy account per round.
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

/// The four classes of one route.
#[derive(Debug)]
pub struct PriorityQueues<T> {
    classes: [Class<T>; 4],
}

impl<T> Default for PriorityQueues<T> {
    fn default() -> Self {
        PriorityQueues {
            classes: Default::default(),
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

    /// The next item: the highest non-empty class, its next account in turn.
    pub fn pop(&mut self) -> Option<(Priority, T)> {
        for p in Priority::ALL {
            if let Some(item) = self.classes[p.index()].pop() {
                return Some((p, item));
            }
        }
        None
    }

    pub fn len_of(&self, p: Priority) -> usize {
        self.classes[p.index()].len
    }

    pub fn len(&self) -> usize {
        self.classes.iter().map(|c| c.len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
