//! A standby's carrier sessions receive reports and MOs too (the carrier
//! pushes to whichever connection it likes): they are forwarded to the
//! leader's internal endpoint `POST /internal/v1/deliver` (signed with the
//! cluster secret), which hands them to its `Gateway::deliver`. Batched, retried while no leader is known or
//! the leader cannot be reached (bounded queue).
//!
//! The leader answers a batch only once it has committed what it can of it
//! ([`Committed`]: one flag per item); an item's ack to the carrier is
//! fired only for a committed flag, the others are posted again. So a
//! report answered to the carrier is in the replicated state, whichever
//! node dies.
//!
//! It must never drop a report silently: what cannot be queued is counted
//! in `smsgw_forward_dropped_total`, logged, and left unacknowledged (the
//! carrier delivers it again).

use std::time::Duration;

use bytes::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::{Deserialize, Serialize};
use smsgw_actors::link::{Ack, DeliverSink, Delivered};
use smsgw_actors::model::MoPart;
use smsgw_protocols::report::DeliveryReport;
use smsgw_protocols::text::Encoding;
use smsgw_protocols::udh::Concat;
use smsgw_raft::Cluster;
use tokio::sync::mpsc;

use crate::api::internal::{signed_post, NodeClient, DELIVER_PATH};

/// Most reports/MOs waiting for a leader.
const QUEUE: usize = 100_000;
/// Most items in one forward request.
const BATCH: usize = 512;
/// How long the leader waits for a forwarded batch to commit before it
/// answers with what committed so far (a held report waits the leader's
/// report hold first).
pub const COMMIT_WAIT: Duration = Duration::from_secs(4);
/// How long a standby waits for the leader's answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(8);

/// The leader's answer to a forwarded batch: per item, whether its fact
/// is committed (and so may be acknowledged to the carrier).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Committed {
    pub committed: Vec<bool>,
}

/// A report or MO as it travels to the leader.
#[derive(Debug, Serialize, Deserialize)]
pub enum Wire {
    Report {
        carrier: String,
        report: DeliveryReport,
    },
    Mo {
        carrier: String,
        source: String,
        destination: String,
        content: Vec<u8>,
        udhi: bool,
        /// SMPP `sar_*` numbering (absent from an older node: none).
        #[serde(default)]
        sar: Option<Concat>,
        encoding: Option<Encoding>,
        /// The carrier's id of the segment, its dedupe key (absent from
        /// an older node: recorded without one).
        #[serde(default)]
        carrier_id: Option<String>,
    },
}

impl From<Delivered> for Wire {
    fn from(d: Delivered) -> Self {
        match d {
            Delivered::Report { carrier, report } => Wire::Report { carrier, report },
            Delivered::Mo(m) => Wire::Mo {
                carrier: m.carrier,
                source: m.source,
                destination: m.destination,
                content: m.content.to_vec(),
                udhi: m.udhi,
                sar: m.sar,
                encoding: m.encoding,
                carrier_id: m.carrier_id,
            },
        }
    }
}

impl From<Wire> for Delivered {
    fn from(w: Wire) -> Self {
        match w {
            Wire::Report { carrier, report } => Delivered::Report { carrier, report },
            Wire::Mo {
                carrier,
                source,
                destination,
                content,
                udhi,
                sar,
                encoding,
                carrier_id,
            } => Delivered::Mo(MoPart {
                carrier,
                source,
                destination,
                content: Bytes::from(content),
                udhi,
                sar,
                encoding,
                carrier_id,
            }),
        }
    }
}

/// The sink a standby's sessions use; a task carries what it gets to the leader.
pub fn spawn(cluster: Cluster) -> DeliverSink {
    let (tx, rx) = mpsc::channel::<(Wire, Ack)>(QUEUE);
    tokio::spawn(run(cluster, rx));
    std::sync::Arc::new(move |d: Delivered, ack: Ack| {
        if tx.try_send((Wire::from(d), ack)).is_err() {
            metrics::counter!("smsgw_forward_dropped_total").increment(1);
            smsgw_actors::error_limited!(
                "forward-queue-full",
                "forward queue full: a report or MO to the leader was dropped"
            );
        }
    })
}

/// The replicated config key under which node `id` publishes its HTTP address.
pub fn http_key(id: u64) -> String {
    format!("node/{id}/http_addr")
}

/// Publishes this node's HTTP address in the replicated state (the raft
/// membership may not know it: `cluster init --node ID=RAFT` carries none),
/// retrying until it is committed.
pub async fn publish_http_addr(cluster: Cluster) {
    let addr = cluster.node_info().http_addr;
    let key = http_key(cluster.id());
    loop {
        let current = smsgw_state::local_view(&cluster).config(&key).ok().flatten();
        if current.as_deref() == Some(addr.as_bytes()) {
            return;
        }
        let cmd = smsgw_state::Command::PutConfig {
            key: key.clone(),
            value: addr.clone().into_bytes(),
        };
        match smsgw_state::propose(&cluster, &cmd).await {
            Ok(_) => return,
            Err(e) => {
                tracing::debug!("publishing the HTTP address: {e}; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

/// The leader's HTTP address: from the membership when it has one, else
/// as the leader published it.
pub(crate) fn leader_http(cluster: &Cluster) -> Option<String> {
    let (id, info) = cluster.leader()?;
    if !info.http_addr.is_empty() {
        return Some(info.http_addr);
    }
    let raw = smsgw_state::local_view(cluster).config(&http_key(id)).ok()??;
    String::from_utf8(raw).ok().filter(|a| !a.is_empty())
}

async fn run(cluster: Cluster, mut rx: mpsc::Receiver<(Wire, Ack)>) {
    let client: NodeClient = Client::builder(TokioExecutor::new()).build_http();
    let mut batch: Vec<(Wire, Ack)> = Vec::new();
    loop {
        if batch.is_empty() {
            match rx.recv().await {
                Some(w) => batch.push(w),
                None => return,
            }
        }
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(w) => batch.push(w),
                Err(_) => break,
            }
        }
        let Some(leader_http) = leader_http(&cluster) else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let wires: Vec<&Wire> = batch.iter().map(|(w, _)| w).collect();
        let body = match serde_json::to_vec(&wires) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!("cannot encode forwarded reports: {e}");
                batch.clear();
                continue;
            }
        };
        // Signed with the cluster secret: the leader answers 404 to anything else.
        let answer = signed_post(
            cluster.secret(),
            &client,
            &leader_http,
            DELIVER_PATH,
            body,
            REQUEST_TIMEOUT,
        )
        .await;
        match answer {
            Ok(body) => {
                let c: Committed = serde_json::from_slice(&body).unwrap_or_default();
                let before = batch.len();
                let mut flags = c.committed.into_iter();
                // Committed items are answered to the carrier; the rest go again.
                batch.retain_mut(|(_, ack)| {
                    if flags.next().unwrap_or(false) {
                        std::mem::replace(ack, Ack::none()).fire();
                        false
                    } else {
                        true
                    }
                });
                let done = before - batch.len();
                metrics::counter!("smsgw_forward_delivered_total").increment(done as u64);
                if !batch.is_empty() {
                    smsgw_actors::warn_limited!(
                        "forward-pending",
                        pending = batch.len(),
                        "leader did not commit every forwarded item yet; retrying"
                    );
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
            Err(e) => {
                smsgw_actors::warn_limited!(
                    "forward-failed",
                    "forwarding reports to the leader {leader_http}: {e}; retrying"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}
