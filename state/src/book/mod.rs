//! The address book of an account, replicated: contacts (with a search
//! index by name, pinyin initials, number, unit and tag), groups (static
//! members, nested groups, dynamic members by tag or unit) and templates
//! (common phrases). Every table is keyed by account first, so one account
//! can never read or write another's rows.
//!
//! Search tokens are computed by the proposer and carried in the command
//! ([`ContactData`] plus `tokens`): apply only writes what it is given, so a
//! change of the pinyin tables between versions can never make two nodes
//! disagree. It must never resolve a group by scanning contacts: dynamic
//! members come from the tag and unit indexes.

mod apply;
mod view;

pub(crate) use apply::apply_book;
pub use view::{BookView, SearchHit};

use serde::{Deserialize, Serialize};

/// What a person edits about a contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ContactData {
    /// Full name (e.g. 张伟).
    pub name: String,
    /// Phone numbers, normalised by the proposer (the first is the main one).
    pub phones: Vec<String>,
    /// Unit or department.
    pub unit: String,
    /// Title.
    pub title: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Free notes.
    pub notes: String,
}

/// A stored contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// Id, dense per account (assigned by apply).
    pub id: u64,
    /// The fields.
    pub data: ContactData,
    /// The search tokens it is indexed under (kept to unindex it later).
    pub tokens: Vec<String>,
    /// Last change (ms since the epoch, carried in the command).
    pub updated_ms: u64,
}

/// One row of an import: the contact and its search tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactRow {
    /// The fields.
    pub data: ContactData,
    /// Search tokens.
    pub tokens: Vec<String>,
}

/// What a person edits about a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct GroupData {
    /// Name, unique in the account.
    pub name: String,
    /// Description.
    pub description: String,
    /// Contacts by id.
    pub contacts: Vec<u64>,
    /// Groups included whole, by id.
    pub groups: Vec<u64>,
    /// Every contact with one of these tags.
    pub tags: Vec<String>,
    /// Every contact of one of these units.
    pub units: Vec<String>,
}

/// A stored group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// Id, dense per account.
    pub id: u64,
    /// The fields.
    pub data: GroupData,
    /// Last change.
    pub updated_ms: u64,
}

/// A template (common phrase).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct TemplateData {
    /// Text with `{variables}`.
    pub text: String,
    /// Category (free text, e.g. 预警, 通知).
    pub category: String,
}

/// A stored template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    /// Name, unique in the account.
    pub name: String,
    /// The fields.
    pub data: TemplateData,
    /// How many messages were sent with it.
    pub uses: u64,
    /// Last change.
    pub updated_ms: u64,
}

/// A change to an address book.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum BookCommand {
    /// Create (`id` None) or replace a contact.
    PutContact {
        /// Existing id to replace.
        id: Option<u64>,
        /// The fields.
        row: ContactRow,
    },
    /// Create or update contacts, matched by phone number (idempotent: the
    /// same file imported twice changes nothing the second time).
    Import {
        /// Rows, in file order.
        rows: Vec<ContactRow>,
    },
    /// Delete a contact.
    DeleteContact {
        /// Its id.
        id: u64,
    },
    /// Create (`id` None) or replace a group.
    PutGroup {
        /// Existing id to replace.
        id: Option<u64>,
        /// The fields.
        group: GroupData,
    },
    /// Delete a group.
    DeleteGroup {
        /// Its id.
        id: u64,
    },
    /// Create or replace a template by name.
    PutTemplate {
        /// Name.
        name: String,
        /// The fields.
        template: TemplateData,
    },
    /// Delete a template.
    DeleteTemplate {
        /// Name.
        name: String,
    },
}

/// Why a book command changed nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum BookError {
    /// The contact, group or template does not exist.
    #[error("{what} `{id}` does not exist")]
    NotFound {
        /// `contact`, `group` or `template`.
        what: String,
        /// Its id or name.
        id: String,
    },
    /// A phone number or name already belongs to another row.
    #[error("{what} `{value}` already belongs to {owner}")]
    Conflict {
        /// `phone` or `group name`.
        what: String,
        /// The value.
        value: String,
        /// Who has it (e.g. `contact 12`).
        owner: String,
    },
    /// The change would make a group include itself.
    #[error("group `{0}` would include itself")]
    Cycle(String),
}

/// What a book command did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum BookResponse {
    /// A contact was stored under `id`.
    Contact {
        /// Its id.
        id: u64,
    },
    /// An import was applied.
    Imported {
        /// Contacts created.
        created: u64,
        /// Contacts updated (matched by phone).
        updated: u64,
        /// Ids, one per row, in row order.
        ids: Vec<u64>,
    },
    /// A group was stored under `id`.
    Group {
        /// Its id.
        id: u64,
    },
    /// A template was stored.
    Template,
    /// A row was deleted.
    Deleted,
    /// Nothing changed.
    Refused(BookError),
}
