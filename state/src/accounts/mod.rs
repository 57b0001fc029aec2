//! Prepaid accounts under the service agreement, replicated: balance in
//! billable parts, status (ACTIVE, FROZEN, CLOSED), the ledger of every
//! balance change, end-of-day balances for statements, the charge of each
//! open message (for refunds), and opt-outs.
//!
//! Charging happens in the same apply as the accept ([`Command::Charged`]
//! wraps it): the whole request's parts or nothing, never below zero, so
//! concurrent requests cannot overdraw. A part that ends without any
//! carrier having taken it is refunded once; what a carrier took stays
//! charged (billing by our records). Freezing and closing are decided with
//! the time and durations carried in [`AccountCommand::Lifecycle`], so apply
//! never reads a clock. It must never charge an account that is not prepaid
//! (the proposer wraps only prepaid accounts' accepts).
//!
//! [`Command::Charged`]: crate::Command::Charged

mod apply;
mod view;

pub(crate) use apply::{apply_account, apply_charged, charge_job_messages, new_heads, refund_parts, settle};
pub use apply::{billing_carrier, BILLING};
pub use view::AccountView;

use serde::{Deserialize, Serialize};

/// Where an account is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccountStatus {
    /// Sends while its balance lasts.
    Active,
    /// No top-up for too long: sending refused, receiving goes on.
    Frozen,
    /// No top-up for longer: keys refused, data kept until retention ends.
    Closed,
}

impl AccountStatus {
    /// Upper-case name for the API.
    pub fn name(self) -> &'static str {
        match self {
            AccountStatus::Active => "ACTIVE",
            AccountStatus::Frozen => "FROZEN",
            AccountStatus::Closed => "CLOSED",
        }
    }
}

/// A prepaid account's replicated state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRecord {
    /// Its name (as in the cluster document).
    pub name: String,
    /// Status.
    pub status: AccountStatus,
    /// Parts it can still send.
    pub balance: u64,
    /// The last top-up (or the account's opening).
    pub last_topup_ms: u64,
    /// The contact phone was told of a low balance since the last top-up.
    pub low_balance_told: bool,
    /// The contact phone was told of the coming freeze since the last top-up.
    pub freeze_told: bool,
    /// Ledger lines so far (the next line's sequence).
    pub lines: u64,
}

/// What a ledger line records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LedgerKind {
    /// Parts bought.
    TopUp,
    /// Parts of accepted messages.
    Charge,
    /// Parts no carrier took, given back.
    Refund,
    /// A correction by an admin.
    Adjustment,
}

impl LedgerKind {
    /// Lower-case name for the API.
    pub fn name(self) -> &'static str {
        match self {
            LedgerKind::TopUp => "topup",
            LedgerKind::Charge => "charge",
            LedgerKind::Refund => "refund",
            LedgerKind::Adjustment => "adjustment",
        }
    }
}

/// One balance change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerLine {
    /// Sequence in the account's ledger.
    pub seq: u64,
    /// When (from the command).
    pub at_ms: u64,
    /// What.
    pub kind: LedgerKind,
    /// Parts added (positive) or taken (negative).
    pub parts: i64,
    /// Balance after it.
    pub balance: u64,
    /// Top-up reference, message id, or reason.
    pub reference: String,
    /// The carrier, for charges and refunds of one route.
    pub carrier: String,
}

/// The charge of a message still open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charge {
    /// The account charged.
    pub account: String,
    /// Parts charged and not refunded.
    pub parts: u64,
    /// The carrier (route) it was charged for.
    pub carrier: String,
}

/// A change to one prepaid account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccountCommand {
    /// Add parts (idempotent by the command's request id `topup/ACCOUNT/REF`).
    /// Opens the account if it has no record; unfreezes a frozen one.
    TopUp {
        /// Parts.
        parts: u64,
        /// The reference (receipt, order number).
        reference: String,
        /// When.
        at_ms: u64,
    },
    /// Add or take parts by hand.
    Adjust {
        /// Parts (negative takes, never below zero).
        parts: i64,
        /// Why.
        reason: String,
        /// When.
        at_ms: u64,
    },
    /// Freeze or close it if it has had no top-up for that long.
    Lifecycle {
        /// Now (the leader's clock).
        at_ms: u64,
        /// No top-up for this long: FROZEN.
        freeze_after_ms: u64,
        /// No top-up for this long: CLOSED.
        close_after_ms: u64,
    },
    /// The contact phone was told (so it is told once).
    Told {
        /// Of a low balance (else of the coming freeze).
        low_balance: bool,
    },
    /// Add or remove an opted-out number.
    OptOut {
        /// The number.
        number: String,
        /// Add (else remove).
        add: bool,
        /// When.
        at_ms: u64,
    },
}

/// Why a charged accept changed nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Refusal {
    /// The balance cannot pay for the request.
    InsufficientBalance {
        /// Parts the request needs.
        needed: u64,
        /// Parts left.
        left: u64,
    },
    /// The account is frozen.
    Frozen,
    /// The account is closed.
    Closed,
}

/// What an account command did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccountResponse {
    /// The account as it is now.
    Account(AccountRecord),
    /// An opt-out was added or removed.
    OptOut,
    /// No such prepaid account (no top-up yet).
    Missing,
}

#[cfg(test)]
mod tests;
