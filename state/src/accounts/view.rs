//! Typed reads of prepaid accounts: the record, ledger pages by time, the
//! balance at the start of a day (the last ledger line before it),
//! opt-outs. Point reads and bounded ranges only; it must never write.

use std::ops::Bound;

use smsgw_raft::{ApplyError, View};

use super::{AccountRecord, LedgerLine};
use crate::keys::{self, prefix_end};

/// Reads of prepaid accounts.
#[derive(Clone)]
pub struct AccountView {
    view: View,
}

impl AccountView {
    pub(crate) fn new(view: View) -> Self {
        Self { view }
    }

    /// The account's record, if it is prepaid and was ever topped up.
    pub fn account(&self, name: &str) -> Result<Option<AccountRecord>, ApplyError> {
        self.view.get(&keys::account(name))
    }

    /// Up to `limit` ledger lines at or after `from_ms` and before
    /// `until_ms`, after the line `after` (`(at, seq)` of the last one read).
    pub fn ledger(
        &self,
        account: &str,
        from_ms: u64,
        until_ms: u64,
        after: Option<(u64, u64)>,
        limit: usize,
    ) -> Result<Vec<LedgerLine>, ApplyError> {
        let start = match after {
            Some((at, seq)) => keys::ledger_line(account, at, seq),
            None => keys::ledger_line(account, from_ms, 0),
        };
        let bound = if after.is_some() {
            Bound::Excluded(start.as_slice())
        } else {
            Bound::Included(start.as_slice())
        };
        let end = keys::ledger_line(account, until_ms, 0);
        let end = end.min(prefix_end(&keys::ledger(account)));
        self.view
            .range(bound, &end, limit)?
            .iter()
            .map(|(_, v)| smsgw_raft::codec::decode(v).map_err(ApplyError::from))
            .collect()
    }

    /// The balance at the start of Beijing day `day`: the balance after the
    /// last ledger line before it (0 when there is none).
    pub fn opening_balance(&self, account: &str, day: u32) -> Result<u64, ApplyError> {
        let start_ms = crate::stats::day_start_ms(day);
        let from = keys::ledger(account);
        let until = keys::ledger_line(account, start_ms, 0);
        match self.view.last_before(&from, &until)? {
            Some((_, v)) => Ok(smsgw_raft::codec::decode::<LedgerLine>(&v)?.balance),
            None => Ok(0),
        }
    }

    /// Whether `number` opted out of `account`'s messages.
    pub fn opted_out(&self, account: &str, number: &str) -> Result<bool, ApplyError> {
        Ok(self.view.get_raw(&keys::opt_out(account, number))?.is_some())
    }

    /// Up to `limit` opted-out numbers after `after`, with when they opted out.
    pub fn opt_outs(
        &self,
        account: &str,
        after: &str,
        limit: usize,
    ) -> Result<Vec<(String, u64)>, ApplyError> {
        let table = keys::opt_outs(account);
        let from = keys::opt_out(account, after);
        let bound = if after.is_empty() {
            Bound::Included(table.as_slice())
        } else {
            Bound::Excluded(from.as_slice())
        };
        let mut out = Vec::new();
        for (k, v) in self.view.range(bound, &prefix_end(&table), limit)? {
            let number = String::from_utf8_lossy(&k[table.len()..]).into_owned();
            out.push((number, smsgw_raft::codec::decode(&v)?));
        }
        Ok(out)
    }

    /// The last marketing account that sent to `number`.
    pub fn last_sender(&self, number: &str) -> Result<Option<String>, ApplyError> {
        self.view.get(&keys::last_sender(number))
    }
}
