//! Faults a drill can switch on while the simulator runs: dropped links
//! (polite: queued responses flushed first; hard: closed with what is in
//! flight unanswered), stalls, garbage, slow answers, refused logins, silent
//! reports.
//!
//! The settings are read by every session on every PDU, so they take effect
//! at once; "drop now" is a generation counter each session watches. This
//! module only holds the switches; sessions act on them.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

/// The switchable faults. All off by default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultSettings {
    /// Close each connection after it has sent this many submits.
    pub drop_after_submits: Option<u64>,
    /// Close each connection abruptly when it sends this many submits: the
    /// last submit is accepted (in the ledger) but never answered, and
    /// queued responses are thrown away — the lost-response path that makes
    /// a gateway send twice.
    pub hard_drop_after_submits: Option<u64>,
    /// Read requests but never answer them.
    pub stall: bool,
    /// Answer every request with random bytes instead of a PDU.
    pub garbage: bool,
    /// Hold every response this long (milliseconds).
    pub delay_ms: u64,
    /// Refuse every login with the protocol's authentication error.
    pub refuse_logins: bool,
    /// Accept submits but never send a delivery report.
    pub stop_reports: bool,
}

/// The live switches plus the "drop every connection now" trigger.
pub struct Faults {
    settings: Mutex<FaultSettings>,
    drop_now: watch::Sender<u64>,
    hard_drop_now: watch::Sender<u64>,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            settings: Mutex::new(FaultSettings::default()),
            drop_now: watch::channel(0).0,
            hard_drop_now: watch::channel(0).0,
        }
    }
}

impl Faults {
    pub fn get(&self) -> FaultSettings {
        self.settings.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn set(&self, s: FaultSettings) {
        *self.settings.lock().unwrap_or_else(|p| p.into_inner()) = s;
    }

    /// Closes every open connection (they may log in again).
    pub fn drop_all_now(&self) {
        self.drop_now.send_modify(|g| *g += 1);
    }

    /// A receiver that changes whenever [`Faults::drop_all_now`] is called.
    pub fn drop_signal(&self) -> watch::Receiver<u64> {
        self.drop_now.subscribe()
    }

    /// Closes every open connection without answering what is in flight
    /// (responses queued or held by `delay_ms` are thrown away).
    pub fn hard_drop_all_now(&self) {
        self.hard_drop_now.send_modify(|g| *g += 1);
    }

    /// A receiver that changes whenever [`Faults::hard_drop_all_now`] is called.
    pub fn hard_drop_signal(&self) -> watch::Receiver<u64> {
        self.hard_drop_now.subscribe()
    }
}
