//! This node's application sessions: who is bound (for
//! `GET /v1/admin/sessions` and the per-account gauges), which of them
//! receive (round robin per account, for [`super::delivery`]), and each
//! account's submit rate over all its sessions on this node (a token
//! bucket: over it, `ESME_RTHROTTLED` / CMPP result 8).
//!
//! Everything here is in memory and per node; it must never block (a full
//! receiver is skipped, a submit over the rate is answered at once).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::Serialize;
use smsgw_state::events::Event;
use tokio::sync::{mpsc, oneshot};

/// An event handed to a receiving session; `done` says whether the
/// application acknowledged it (`deliver_sm_resp` / `DELIVER_RESP` OK).
pub struct Outbound {
    pub event: Event,
    pub done: oneshot::Sender<bool>,
}

/// Most events queued to one receiving session (its window is smaller).
pub const RECEIVER_QUEUE: usize = 256;

/// What `GET /v1/admin/sessions` shows of one session.
#[derive(Debug, Clone, Serialize)]
pub struct SessionInfo {
    pub id: u64,
    pub account: String,
    /// `smpp` or `cmpp`.
    pub protocol: &'static str,
    /// SMPP `transmitter` / `receiver` / `transceiver`; CMPP `2.0` / `3.0`.
    pub mode: String,
    pub peer: String,
    pub bound_at_ms: u64,
    pub submits: u64,
    pub delivered: u64,
}

struct Session {
    info: SessionInfo,
    submits: Arc<AtomicU64>,
    delivered: Arc<AtomicU64>,
    receiver: Option<mpsc::Sender<Outbound>>,
}

struct Bucket {
    tps: u32,
    tokens: f64,
    at: Instant,
}

/// This node's sessions.
#[derive(Default)]
pub struct Hub {
    next: AtomicU64,
    sessions: Mutex<HashMap<u64, Session>>,
    rr: Mutex<HashMap<String, usize>>,
    buckets: Mutex<HashMap<String, Bucket>>,
}

/// A registered session; unregisters itself when dropped.
pub struct Registration {
    hub: Arc<Hub>,
    pub id: u64,
    pub submits: Arc<AtomicU64>,
    pub delivered: Arc<AtomicU64>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let gone = self.hub.lock().remove(&self.id);
        if let Some(s) = gone {
            self.hub.publish(&s.info.account);
        }
    }
}

impl Hub {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Session>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a bound session (`receiver` when it takes deliveries).
    pub fn register(
        self: &Arc<Self>,
        account: &str,
        protocol: &'static str,
        mode: String,
        peer: SocketAddr,
        receiver: Option<mpsc::Sender<Outbound>>,
    ) -> Registration {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let submits = Arc::new(AtomicU64::new(0));
        let delivered = Arc::new(AtomicU64::new(0));
        let info = SessionInfo {
            id,
            account: account.to_string(),
            protocol,
            mode,
            peer: peer.to_string(),
            bound_at_ms: crate::api::now_ms(),
            submits: 0,
            delivered: 0,
        };
        self.lock().insert(
            id,
            Session {
                info,
                submits: submits.clone(),
                delivered: delivered.clone(),
                receiver,
            },
        );
        self.publish(account);
        Registration {
            hub: self.clone(),
            id,
            submits,
            delivered,
        }
    }

    /// `smsgw_app_sessions{account}`.
    fn publish(&self, account: &str) {
        let n = self.lock().values().filter(|s| s.info.account == account).count();
        metrics::gauge!("smsgw_app_sessions", "account" => account.to_string()).set(n as f64);
    }

    /// Every session of this node (for one account, or all).
    pub fn sessions(&self, account: Option<&str>) -> Vec<SessionInfo> {
        let mut out: Vec<SessionInfo> = self
            .lock()
            .values()
            .filter(|s| account.is_none_or(|a| s.info.account == a))
            .map(|s| SessionInfo {
                submits: s.submits.load(Ordering::Relaxed),
                delivered: s.delivered.load(Ordering::Relaxed),
                ..s.info.clone()
            })
            .collect();
        out.sort_by_key(|s| s.id);
        out
    }

    /// The accounts with a receiving session on this node.
    pub fn receiving_accounts(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .lock()
            .values()
            .filter(|s| s.receiver.as_ref().is_some_and(|r| !r.is_closed()))
            .map(|s| s.info.account.clone())
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// The next of `account`'s receiving sessions, round robin; `None` when
    /// it has none on this node.
    pub fn next_receiver(&self, account: &str) -> Option<mpsc::Sender<Outbound>> {
        self.receivers(account).into_iter().next()
    }

    /// `account`'s open receiving sessions on this node in round-robin
    /// order, starting one further each call (one lock per lease batch of
    /// the delivery worker, not one per event).
    pub fn receivers(&self, account: &str) -> Vec<mpsc::Sender<Outbound>> {
        let mut list: Vec<(u64, mpsc::Sender<Outbound>)> = self
            .lock()
            .values()
            .filter(|s| s.info.account == account)
            .filter_map(|s| s.receiver.clone().map(|r| (s.info.id, r)))
            .filter(|(_, r)| !r.is_closed())
            .collect();
        if list.is_empty() {
            return Vec::new();
        }
        list.sort_by_key(|(id, _)| *id);
        let start = {
            let mut rr = self.rr.lock().unwrap_or_else(|p| p.into_inner());
            let i = rr.entry(account.to_string()).or_insert(0);
            *i = i.wrapping_add(1);
            *i % list.len()
        };
        list.rotate_left(start);
        list.into_iter().map(|(_, r)| r).collect()
    }

    /// Takes one submit from `account`'s rate (`tps` per second on this
    /// node, bursts up to one second's worth); `false` when over it.
    pub fn take_submit(&self, account: &str, tps: Option<u32>) -> bool {
        let Some(tps) = tps else { return true };
        let mut b = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        // No key allocated per submit: only an account's first.
        if !b.contains_key(account) {
            b.insert(
                account.to_string(),
                Bucket {
                    tps,
                    tokens: f64::from(tps),
                    at: now,
                },
            );
        }
        let Some(bucket) = b.get_mut(account) else {
            return true;
        };
        if bucket.tps != tps {
            bucket.tps = tps;
            bucket.tokens = bucket.tokens.min(f64::from(tps));
        }
        let rate = f64::from(tps);
        bucket.tokens = (bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * rate).min(rate);
        bucket.at = now;
        if bucket.tokens < 1.0 {
            return false;
        }
        bucket.tokens -= 1.0;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receivers_round_robin_and_leave_with_their_session() {
        let hub = Arc::new(Hub::default());
        let peer: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let (tx1, _rx1) = mpsc::channel(1);
        let (tx2, _rx2) = mpsc::channel(1);
        let r1 = hub.register("a", "smpp", "receiver".into(), peer, Some(tx1.clone()));
        let _r2 = hub.register("a", "smpp", "transceiver".into(), peer, Some(tx2.clone()));
        let _t = hub.register("b", "smpp", "transmitter".into(), peer, None);
        let picks: Vec<bool> = (0..4)
            .map(|_| hub.next_receiver("a").unwrap().same_channel(&tx1))
            .collect();
        assert_eq!(picks.iter().filter(|p| **p).count(), 2, "{picks:?}");
        assert!(hub.next_receiver("b").is_none(), "a transmitter receives nothing");
        assert_eq!(hub.receiving_accounts(), vec!["a".to_string()]);
        drop(r1);
        assert!(hub.next_receiver("a").unwrap().same_channel(&tx2));
        assert_eq!(hub.sessions(Some("a")).len(), 1);
    }

    #[test]
    fn the_rate_is_per_account() {
        let hub = Hub::default();
        assert!((0..5).all(|_| hub.take_submit("a", Some(5))));
        assert!(!hub.take_submit("a", Some(5)));
        assert!(hub.take_submit("b", Some(5)));
        assert!(hub.take_submit("a", None));
    }
}
