//! The MO source: handsets writing to the drill account's service code
//! while the nemeses work. Each MO is injected at the simulator (the carrier
//! delivers it on one of the nodes' links, and delivers it again when the
//! link closes unacknowledged) with a text unique to it, and recorded in the
//! history; at the end the MOs the cluster recorded are read back through
//! the API (`GET /v1/inbound`, paged) for the checker. It must never decide
//! whether an MO was lost or doubled: that is the checker's job.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use smsgw_simulator::dialect::Deliverable;
use smsgw_simulator::shared::Shared;
use smsgw_simulator::Protocol;
use tokio::task::JoinHandle;

use crate::cluster::{Cluster, KEY, SERVICE_CODE, SIM_LOGIN};
use crate::http::request;

/// One MO the carrier was given to deliver.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MoSent {
    pub from: String,
    pub text: String,
    /// Milliseconds since the drill started.
    pub at_ms: u64,
}

/// The running source.
pub struct MoSource {
    sent: Arc<Mutex<Vec<MoSent>>>,
    stop: Arc<AtomicBool>,
    task: Option<JoinHandle<()>>,
}

impl MoSource {
    /// Injects `rate` MOs per second (none when 0) until stopped.
    pub fn start(shared: Arc<Shared>, rate: f64, t0: Instant) -> MoSource {
        let sent: Arc<Mutex<Vec<MoSent>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let task = (rate > 0.0).then(|| {
            let (sent, stop) = (sent.clone(), stop.clone());
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    tick.tick().await;
                    // 137 + 8 digits: one handset per MO, so (from, text) is unique.
                    let from = format!("137{:08}", n % 100_000_000);
                    let text = format!("drill mo {n}");
                    let to = format!("{SERVICE_CODE}{}", n % 10);
                    let Ok(parts) = smsgw_simulator::mo::parts(Protocol::Cmpp, &from, &to, &text) else {
                        continue;
                    };
                    let at_ms = t0.elapsed().as_millis() as u64;
                    for p in parts {
                        shared.deliver(Protocol::Cmpp, SIM_LOGIN, Deliverable::Mo(p));
                    }
                    sent.lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(MoSent { from, text, at_ms });
                    n += 1;
                }
            })
        });
        MoSource { sent, stop, task }
    }

    /// Stops injecting; returns what was injected.
    pub async fn stop(mut self) -> Vec<MoSent> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.task.take() {
            t.abort();
            let _ = t.await;
        }
        let sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        sent.clone()
    }
}

impl Drop for MoSource {
    fn drop(&mut self) {
        if let Some(t) = &self.task {
            t.abort();
        }
    }
}

/// How many times the cluster recorded each `(from, text)`, read through
/// `GET /v1/inbound` of a running node, polled until every one of `sent`
/// is there or `wait` passes. `None` when no node answered a whole listing.
pub async fn recorded(
    c: &Cluster,
    sent: &[MoSent],
    wait: Duration,
) -> Option<BTreeMap<(String, String), u64>> {
    let deadline = Instant::now() + wait;
    let mut last = None;
    loop {
        if let Some(seen) = list_all(c).await {
            let complete = sent
                .iter()
                .all(|m| seen.contains_key(&(m.from.clone(), m.text.clone())));
            last = Some(seen);
            if complete {
                return last;
            }
        }
        if Instant::now() >= deadline {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Every MO of the drill account, from the first node that lists them all.
async fn list_all(c: &Cluster) -> Option<BTreeMap<(String, String), u64>> {
    let nodes: Vec<String> = c
        .nodes
        .iter()
        .filter(|n| n.is_running() && !n.is_paused())
        .map(|n| n.http.clone())
        .collect();
    'node: for node in nodes {
        let mut seen: BTreeMap<(String, String), u64> = BTreeMap::new();
        let mut before: Option<u64> = None;
        // Bounded: 500 per page, at most 2,000 pages (a million MOs).
        for _ in 0..2000 {
            let path = match before {
                Some(b) => format!("/v1/inbound?limit=500&before={b}"),
                None => "/v1/inbound?limit=500".to_string(),
            };
            let a = request(&node, "GET", &path, Some(KEY), None, Duration::from_secs(5)).await;
            let Some(body) = a.body().filter(|_| a.status() == Some(200)) else {
                continue 'node;
            };
            for m in body["messages"].as_array().into_iter().flatten() {
                let key = (
                    m["from"].as_str().unwrap_or_default().to_string(),
                    m["text"].as_str().unwrap_or_default().to_string(),
                );
                *seen.entry(key).or_default() += 1;
            }
            match body["next_before"].as_u64() {
                Some(b) => before = Some(b),
                None => return Some(seen),
            }
        }
    }
    None
}
