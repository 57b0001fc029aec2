//! Typed reads of console users: one user, or a bounded page in name order.
//! It must never write.

use std::ops::Bound;

use smsgw_raft::{ApplyError, View};

use super::UserRecord;
use crate::keys::{self, prefix_end};

/// Reads of console users.
#[derive(Clone)]
pub struct UserView {
    view: View,
}

impl UserView {
    pub(crate) fn new(view: View) -> Self {
        Self { view }
    }

    /// The user called `username`.
    pub fn user(&self, username: &str) -> Result<Option<UserRecord>, ApplyError> {
        self.view.get(&keys::user(username))
    }

    /// Up to `limit` users after `after` (by name), in name order.
    pub fn list(&self, after: Option<&str>, limit: usize) -> Result<Vec<UserRecord>, ApplyError> {
        let start = match after {
            Some(a) => keys::user(a),
            None => keys::USERS.to_vec(),
        };
        let bound = if after.is_some() {
            Bound::Excluded(start.as_slice())
        } else {
            Bound::Included(start.as_slice())
        };
        self.view
            .range(bound, &prefix_end(keys::USERS), limit)?
            .iter()
            .map(|(_, v)| smsgw_raft::codec::decode(v).map_err(ApplyError::from))
            .collect()
    }
}
