//! The service agreement's side of the cluster document: which accounts are
//! prepaid and how they are charged (`[accounts.billing]`), when an account
//! without a top-up is frozen and closed (`[billing]`), the banned-word list
//! and opt-out keywords (`[content]`), and the admin keys of
//! `/v1/admin/...` (`[admin]`).
//!
//! ```toml
//! [admin]
//! api_keys = ["sk_admin_...at least 16"]   # stored only as SHA-256 + prefix
//!
//! [billing]
//! freeze_after_secs = 2592000     # no top-up for 30 days: FROZEN (sending refused)
//! close_after_secs = 7776000      # no top-up for 90 days: CLOSED (keys refused)
//! warn_before_freeze_secs = 259200
//! cdr_retention_days = 180       # CDR day files are removed after this
//!
//! [content]
//! optout_keywords = ["TD", "T", "退订", "R", "STOP"]
//! [content.categories]
//! fraud = ["发票", "代开"]
//! advertising = ["优惠", "促销"]
//!
//! [[accounts]]
//! name = "studio"
//! balance = 1000                  # opening balance in parts (a one-time top-up)
//! [accounts.billing]
//! price_fen = 5                   # per part
//! kind = "marketing"              # notification | marketing (needs 【signature】 and an opt-out hint)
//! contact_phone = "13800138000"   # told at low balance and before freezing
//! low_balance_parts = 100
//! content = "reject"              # reject | review (held for /v1/admin/review)
//! carriers = ["china-mobile"]     # optional: the only carriers it may send through
//! ```
//!
//! Nothing here enforces anything: the node does, with these values.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::keys::ApiKeyHash;

/// What an account sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AccountKind {
    /// Notifications (no signature rules).
    #[default]
    Notification,
    /// Marketing: every message must carry a 【signature】 and an opt-out hint.
    Marketing,
}

/// What happens to a message that hits the banned-word list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ContentAction {
    /// 422 `content_rejected`.
    #[default]
    Reject,
    /// Held for an admin to approve or reject.
    Review,
}

/// How a prepaid account is charged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AccountBilling {
    /// Price of one part, in fen (for statements).
    #[serde(default)]
    pub price_fen: u32,
    /// Notification or marketing.
    #[serde(default)]
    pub kind: AccountKind,
    /// Told at low balance and before freezing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_phone: Option<String>,
    /// Balance under which the contact phone is told.
    #[serde(default)]
    pub low_balance_parts: u64,
    /// What banned words do.
    #[serde(default)]
    pub content: ContentAction,
    /// Carriers it may send through (empty: every route).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub carriers: Vec<String>,
}

/// When idle prepaid accounts are frozen and closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingRules {
    /// No top-up for this long: FROZEN.
    pub freeze_after_secs: u64,
    /// No top-up for this long: CLOSED.
    pub close_after_secs: u64,
    /// The contact phone is told this long before freezing.
    pub warn_before_freeze_secs: u64,
    /// Days CDR files are kept.
    #[serde(default = "default_cdr_days")]
    pub cdr_retention_days: u64,
}

fn default_cdr_days() -> u64 {
    180
}

impl Default for BillingRules {
    fn default() -> Self {
        BillingRules {
            freeze_after_secs: 30 * 86_400,
            close_after_secs: 90 * 86_400,
            warn_before_freeze_secs: 3 * 86_400,
            cdr_retention_days: default_cdr_days(),
        }
    }
}

/// The content rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentRules {
    /// Banned words by category (illegal, harassment, obscene, fraud, advertising, ...).
    #[serde(default)]
    pub categories: BTreeMap<String, Vec<String>>,
    /// MO texts that opt the sender out.
    pub optout_keywords: Vec<String>,
}

impl Default for ContentRules {
    fn default() -> Self {
        ContentRules {
            categories: BTreeMap::new(),
            optout_keywords: ["TD", "T", "退订", "R", "STOP"].map(String::from).to_vec(),
        }
    }
}

/// Who may call `/v1/admin/...`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AdminAccess {
    /// Admin bearer keys, hashed.
    #[serde(default)]
    pub api_key_hashes: Vec<ApiKeyHash>,
}

impl AdminAccess {
    /// Whether `key` is an admin key (constant time over every stored hash).
    pub fn admits(&self, key: &str) -> bool {
        let presented = super::keys::digest(key);
        self.api_key_hashes
            .iter()
            .fold(false, |found, h| h.matches(&presented) | found)
    }
}
