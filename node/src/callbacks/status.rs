//! What the leader's callback workers are doing, in memory, for
//! `GET /v1/callbacks/deliveries`: per account, the events in flight (their
//! attempts and last error) and per URL counts. It is this node's view
//! only, lost with leadership (the queue itself is replicated); it must
//! never be read across accounts by the API.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use serde::Serialize;
use smsgw_state::events::AccountEvents;

use crate::api::state::now_ms;

/// Most URLs remembered per account (the document allows 16; removed URLs
/// are forgotten when this fills).
const MAX_URLS: usize = 64;

/// One event being delivered.
#[derive(Debug, Clone, Serialize)]
pub struct EventStatus {
    pub id: String,
    pub seq: u64,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub attempts: u64,
    pub last_url: Option<String>,
    pub last_error: Option<String>,
    pub last_attempt_at_ms: Option<u64>,
    pub next_attempt_at_ms: Option<u64>,
}

/// One receiver URL.
#[derive(Debug, Clone, Default, Serialize)]
pub struct UrlStatus {
    pub attempts: u64,
    pub delivered: u64,
    pub failed: u64,
    pub last_error: Option<String>,
    pub last_attempt_at_ms: Option<u64>,
}

/// One account.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AccountStatus {
    pub in_flight: BTreeMap<u64, EventStatus>,
    pub urls: BTreeMap<String, UrlStatus>,
    pub delivered: u64,
    pub queue: Option<AccountEvents>,
}

/// All accounts (the leader's workers write, the API reads).
#[derive(Debug, Default)]
pub struct Status {
    accounts: Mutex<HashMap<String, AccountStatus>>,
}

impl Status {
    fn with<R>(&self, account: &str, f: impl FnOnce(&mut AccountStatus) -> R) -> R {
        let mut m = self.accounts.lock().unwrap_or_else(|p| p.into_inner());
        f(m.entry(account.to_string()).or_default())
    }

    /// Leadership was lost: nothing is in flight here any more.
    pub fn clear(&self) {
        self.accounts.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// The account has no callbacks any more.
    pub fn forget(&self, account: &str) {
        self.accounts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(account);
    }

    pub fn set_queue(&self, account: &str, q: &AccountEvents) {
        self.with(account, |a| a.queue = Some(q.clone()));
    }

    pub fn queued(&self, account: &str, seq: u64, id: &str, kind: &'static str) {
        self.with(account, |a| {
            a.in_flight.entry(seq).or_insert_with(|| EventStatus {
                id: id.to_string(),
                seq,
                kind,
                attempts: 0,
                last_url: None,
                last_error: None,
                last_attempt_at_ms: None,
                next_attempt_at_ms: None,
            });
        })
    }

    pub fn attempted(&self, account: &str, seq: u64, url: &str, error: Option<String>, next_at_ms: u64) {
        let now = now_ms();
        self.with(account, |a| {
            if a.urls.len() >= MAX_URLS && !a.urls.contains_key(url) {
                a.urls.clear();
            }
            let u = a.urls.entry(url.to_string()).or_default();
            u.attempts += 1;
            u.last_attempt_at_ms = Some(now);
            match &error {
                None => u.delivered += 1,
                Some(e) => {
                    u.failed += 1;
                    u.last_error = Some(e.clone());
                }
            }
            if let Some(ev) = a.in_flight.get_mut(&seq) {
                ev.attempts += 1;
                ev.last_url = Some(url.to_string());
                ev.last_attempt_at_ms = Some(now);
                ev.next_attempt_at_ms = error.is_some().then_some(next_at_ms);
                if error.is_some() {
                    ev.last_error = error;
                }
            }
        })
    }

    /// The event is acknowledged in the replicated state.
    pub fn done(&self, account: &str, seq: u64) {
        self.with(account, |a| {
            if a.in_flight.remove(&seq).is_some() {
                a.delivered += 1;
            }
        })
    }

    /// A copy of one account's status.
    pub fn account(&self, account: &str) -> Option<AccountStatus> {
        let m = self.accounts.lock().unwrap_or_else(|p| p.into_inner());
        m.get(account).cloned()
    }
}
