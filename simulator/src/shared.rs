//! State every session of one simulator shares: configuration, the ledger,
//! fault switches, TPS buckets, and the registry of connections that can
//! receive reports and MOs.
//!
//! Reports and MOs for an account with no receiving connection wait in a
//! bounded queue and go out when one logs in; the registry never drops them
//! silently (an overflow is counted).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use rand::Rng;
use smsgw_protocols::report::ReportState;
use tokio::sync::mpsc;

use crate::config::{Account, OutcomeMix, Protocol, SimConfig};
use crate::dialect::{Deliverable, ReportOrder};
use crate::faults::Faults;
use crate::ledger::Ledger;
use crate::throttle::Throttle;

/// Reports and MOs kept for an account while none of its connections can
/// receive.
const MAX_PENDING: usize = 200_000;

type Key = (Protocol, String);

struct Receiver {
    conn: u64,
    tx: mpsc::UnboundedSender<Deliverable>,
}

#[derive(Default)]
struct Registry {
    receivers: HashMap<Key, Vec<Receiver>>,
    pending: HashMap<Key, VecDeque<Deliverable>>,
    next: usize,
}

/// One simulator's shared state.
pub struct Shared {
    config: RwLock<SimConfig>,
    pub ledger: Ledger,
    pub faults: Faults,
    pub throttle: Throttle,
    registry: Mutex<Registry>,
    next_conn: std::sync::atomic::AtomicU64,
}

impl Shared {
    pub fn new(config: SimConfig) -> Arc<Shared> {
        Arc::new(Shared {
            ledger: Ledger::new(config.max_records),
            config: RwLock::new(config),
            faults: Faults::default(),
            throttle: Throttle::default(),
            registry: Mutex::new(Registry::default()),
            next_conn: 1.into(),
        })
    }

    pub fn config(&self) -> SimConfig {
        self.config.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn account(&self, p: Protocol, login: &str) -> Option<Account> {
        self.config
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .account(p, login)
            .cloned()
    }

    /// Changes an account at run time (window, TPS, SGIP SP address).
    pub fn update_account(&self, account: Account) {
        let mut c = self.config.write().unwrap_or_else(|p| p.into_inner());
        match c
            .accounts
            .iter_mut()
            .find(|a| a.protocol == account.protocol && a.login == account.login)
        {
            Some(a) => *a = account,
            None => c.accounts.push(account),
        }
    }

    pub fn set_report_policy(&self, policy: crate::config::ReportPolicy) {
        self.config.write().unwrap_or_else(|p| p.into_inner()).reports = policy;
    }

    pub fn conn_id(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    fn reg(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a connection that can receive; flushes what was waiting.
    pub fn add_receiver(&self, p: Protocol, login: &str, conn: u64, tx: mpsc::UnboundedSender<Deliverable>) {
        let key = (p, login.to_string());
        let mut reg = self.reg();
        if let Some(waiting) = reg.pending.remove(&key) {
            let n = waiting.len() as u64;
            for d in waiting {
                let _ = tx.send(d);
            }
            self.ledger
                .counters
                .reports_pending
                .fetch_sub(n, Ordering::Relaxed);
        }
        reg.receivers.entry(key).or_default().push(Receiver { conn, tx });
    }

    pub fn remove_receiver(&self, p: Protocol, login: &str, conn: u64) {
        if let Some(list) = self.reg().receivers.get_mut(&(p, login.to_string())) {
            list.retain(|r| r.conn != conn);
        }
    }

    /// Sends to one of the account's receiving connections (round robin), or
    /// queues it until one logs in.
    pub fn deliver(&self, p: Protocol, login: &str, mut d: Deliverable) {
        let key = (p, login.to_string());
        let mut reg = self.reg();
        let start = reg.next;
        reg.next = reg.next.wrapping_add(1);
        if let Some(list) = reg.receivers.get_mut(&key) {
            list.retain(|r| !r.tx.is_closed());
            let n = list.len();
            for i in 0..n {
                match list[(start + i) % n].tx.send(d) {
                    Ok(()) => return,
                    Err(e) => d = e.0,
                }
            }
        }
        let q = reg.pending.entry(key).or_default();
        if q.len() >= MAX_PENDING {
            tracing::warn!(protocol = %p, account = login, "pending report queue full; oldest dropped");
            q.pop_front();
        } else {
            self.ledger
                .counters
                .reports_pending
                .fetch_add(1, Ordering::Relaxed);
        }
        q.push_back(d);
    }

    /// Draws the outcome and delay of one report from the policy.
    pub fn draw_report(&self) -> (ReportState, Duration, bool) {
        let policy = self
            .config
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .reports
            .clone();
        let mut rng = rand::thread_rng();
        let [lo, hi] = policy.delay_ms;
        let delay = Duration::from_millis(if hi > lo { rng.gen_range(lo..=hi) } else { lo });
        let early = policy.early_fraction > 0.0 && rng.gen_bool(policy.early_fraction.clamp(0.0, 1.0));
        (pick_outcome(&policy.mix, &mut rng), delay, early)
    }

    /// Schedules one report after `delay` (sent at once when zero).
    pub fn schedule_report(
        self: &Arc<Self>,
        p: Protocol,
        login: String,
        order: ReportOrder,
        delay: Duration,
    ) {
        if delay.is_zero() {
            self.ledger.record_report(p, order.state);
            self.deliver(p, &login, Deliverable::Report(order));
            return;
        }
        let me = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            if me.faults.get().stop_reports {
                return;
            }
            me.ledger.record_report(p, order.state);
            me.deliver(p, &login, Deliverable::Report(order));
        });
    }
}

fn pick_outcome(mix: &OutcomeMix, rng: &mut impl Rng) -> ReportState {
    let total = mix.delivered + mix.undeliverable + mix.expired + mix.rejected;
    if total == 0 {
        return ReportState::Delivered;
    }
    let mut x = rng.gen_range(0..total);
    for (w, s) in [
        (mix.delivered, ReportState::Delivered),
        (mix.undeliverable, ReportState::Undeliverable),
        (mix.expired, ReportState::Expired),
        (mix.rejected, ReportState::Rejected),
    ] {
        if x < w {
            return s;
        }
        x -= w;
    }
    ReportState::Delivered
}
