//! Typed reads of one account's address book: point reads, pages from a
//! cursor, prefix reads of the search index, and group resolution through
//! the tag and unit indexes. Every read is bounded by its `limit` (or by
//! [`MAX_MEMBERS`]); none reads another account's rows or writes.

use std::collections::BTreeSet;
use std::ops::Bound;

use smsgw_raft::{ApplyError, View};

use super::{BookError, Contact, Group, Template};
use crate::keys::{book, prefix_end};

/// Most contacts one group may resolve to.
pub const MAX_MEMBERS: usize = 100_000;

/// One search result.
pub type SearchHit = Contact;

/// Reads of the address books.
#[derive(Clone)]
pub struct BookView {
    view: View,
}

impl BookView {
    pub(crate) fn new(view: View) -> Self {
        Self { view }
    }

    /// One contact.
    pub fn contact(&self, account: &str, id: u64) -> Result<Option<Contact>, ApplyError> {
        self.view.get(&book::contact(account, id))
    }

    /// The contact owning `number` (normalised), if any.
    pub fn contact_by_phone(&self, account: &str, number: &str) -> Result<Option<Contact>, ApplyError> {
        match self.view.get::<u64>(&book::phone(account, number))? {
            Some(id) => self.contact(account, id),
            None => Ok(None),
        }
    }

    /// Up to `limit` contacts with ids above `after`, by id.
    pub fn contacts(&self, account: &str, after: u64, limit: usize) -> Result<Vec<Contact>, ApplyError> {
        self.page(&book::contacts(account), &book::contact(account, after), limit)
    }

    /// Up to `limit` groups with ids above `after`, by id.
    pub fn groups(&self, account: &str, after: u64, limit: usize) -> Result<Vec<Group>, ApplyError> {
        self.page(&book::groups(account), &book::group(account, after), limit)
    }

    /// Up to `limit` templates with names after `after`, by name.
    pub fn templates(&self, account: &str, after: &str, limit: usize) -> Result<Vec<Template>, ApplyError> {
        let table = book::templates(account);
        let from = book::template(account, after);
        let bound = if after.is_empty() {
            Bound::Included(table.as_slice())
        } else {
            Bound::Excluded(from.as_slice())
        };
        self.decode_rows(self.view.range(bound, &prefix_end(&table), limit)?)
    }

    fn page<T: serde::de::DeserializeOwned>(
        &self,
        table: &[u8],
        after: &[u8],
        limit: usize,
    ) -> Result<Vec<T>, ApplyError> {
        self.decode_rows(
            self.view
                .range(Bound::Excluded(after), &prefix_end(table), limit)?,
        )
    }

    fn decode_rows<T: serde::de::DeserializeOwned>(
        &self,
        rows: Vec<(Vec<u8>, Vec<u8>)>,
    ) -> Result<Vec<T>, ApplyError> {
        rows.iter()
            .map(|(_, v)| smsgw_raft::codec::decode(v).map_err(ApplyError::from))
            .collect()
    }

    /// Number of contacts.
    pub fn contact_count(&self, account: &str) -> Result<u64, ApplyError> {
        Ok(self
            .view
            .get::<u64>(&crate::keys::counter(&book::counter::contacts(account)))?
            .unwrap_or(0))
    }

    /// Contacts with a search token starting with `q` (already normalised
    /// by the caller: lower case, no spaces), at most `limit`, best first
    /// by token order. Reads at most `8 × limit` index rows.
    pub fn search(&self, account: &str, q: &str, limit: usize) -> Result<Vec<SearchHit>, ApplyError> {
        let rows = self
            .view
            .scan_prefix(&book::tokens(account, q), limit.saturating_mul(8))?;
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for (k, _) in rows {
            let Some(id) = book::trailing_id(&k) else { continue };
            if out.len() >= limit {
                break;
            }
            if seen.insert(id) {
                if let Some(c) = self.contact(account, id)? {
                    out.push(c);
                }
            }
        }
        Ok(out)
    }

    /// One group.
    pub fn group(&self, account: &str, id: u64) -> Result<Option<Group>, ApplyError> {
        self.view.get(&book::group(account, id))
    }

    /// A group by name.
    pub fn group_by_name(&self, account: &str, name: &str) -> Result<Option<Group>, ApplyError> {
        match self.view.get::<u64>(&book::group_name(account, name))? {
            Some(id) => self.group(account, id),
            None => Ok(None),
        }
    }

    /// One template.
    pub fn template(&self, account: &str, name: &str) -> Result<Option<Template>, ApplyError> {
        self.view.get(&book::template(account, name))
    }

    /// Every contact of group `id`: its contacts, the members of its nested
    /// groups, and every contact with one of its tags or units; each once,
    /// by id. Contacts deleted since they were added are left out.
    pub fn members(&self, account: &str, id: u64) -> Result<Result<Vec<Contact>, BookError>, ApplyError> {
        let mut ids = BTreeSet::new();
        let mut seen_groups = BTreeSet::new();
        let mut todo = vec![id];
        while let Some(g) = todo.pop() {
            if !seen_groups.insert(g) {
                continue;
            }
            let Some(group) = self.group(account, g)? else {
                if g == id {
                    return Ok(Err(BookError::NotFound {
                        what: "group".into(),
                        id: id.to_string(),
                    }));
                }
                continue;
            };
            ids.extend(group.data.contacts.iter().copied());
            todo.extend(group.data.groups.iter().copied());
            for t in &group.data.tags {
                self.index_ids(&book::tag_members(account, t), &mut ids)?;
            }
            for u in &group.data.units {
                self.index_ids(&book::unit_members(account, u), &mut ids)?;
            }
        }
        let mut out = Vec::with_capacity(ids.len());
        for cid in ids.into_iter().take(MAX_MEMBERS) {
            if let Some(c) = self.contact(account, cid)? {
                out.push(c);
            }
        }
        Ok(Ok(out))
    }

    fn index_ids(&self, prefix: &[u8], into: &mut BTreeSet<u64>) -> Result<(), ApplyError> {
        for (k, _) in self.view.scan_prefix(prefix, MAX_MEMBERS)? {
            if let Some(id) = book::trailing_id(&k) {
                into.insert(id);
            }
        }
        Ok(())
    }
}
