//! Reads of the callback event queues: point reads and bounded ranges that
//! start at an account's acknowledged cursor (never at a table's head,
//! where acknowledged rows were deleted).

use std::ops::Bound;

use smsgw_raft::{ApplyError, View};

use super::{AccountEvents, Event};
use crate::keys;

/// Typed reads of the event queues.
#[derive(Clone)]
pub struct EventsView {
    view: View,
}

impl EventsView {
    pub(crate) fn new(view: View) -> Self {
        Self { view }
    }

    /// The subscribed accounts.
    pub fn subscriptions(&self) -> Result<Vec<String>, ApplyError> {
        Ok(self.view.get(&keys::events::subscriptions())?.unwrap_or_default())
    }

    /// One account's queue (default when it never had one).
    pub fn account(&self, account: &str) -> Result<AccountEvents, ApplyError> {
        Ok(self
            .view
            .get(&keys::events::account(account))?
            .unwrap_or_default())
    }

    /// Up to `limit` of `account`'s events with sequences above `after`.
    pub fn events(&self, account: &str, after: u64, limit: usize) -> Result<Vec<Event>, ApplyError> {
        let from = keys::events::event(account, after.saturating_add(1));
        let until = keys::prefix_end(&keys::events::account(account));
        let mut out = Vec::new();
        for (_, v) in self.view.range(Bound::Included(&from), &until, limit)? {
            out.push(smsgw_raft::codec::decode(&v)?);
        }
        Ok(out)
    }

    /// The last MO sequence looked at for callbacks (`None` before the
    /// first subscription).
    pub fn mo_cursor(&self) -> Result<Option<u64>, ApplyError> {
        self.view.get(&keys::counter(keys::counter::EVENTS_MO_CURSOR))
    }
}
