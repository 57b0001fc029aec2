//! The node's gateway: the actors (`smsgw-actors`) wired to the replicated
//! state. Every node runs a [`Gateway`] built from the cluster document in
//! force, logged in to every carrier (hot standby); only the raft leader's
//! dispatcher hands out work.
//!
//! - [`store::RaftStore`]: the actors' `Store` over raft.
//! - [`config`]: document → `GatewayConfig`, and what a new document changes.
//! - [`forward`]: a standby's reports and MOs go to the leader.
//! - this module: the tasks that keep the gateway in step with raft —
//!   leadership (`set_leader`), new accepted messages (the leader's
//!   dispatcher gets each unfinished message once per leadership: after a
//!   commit on this node the API nudges the feeder, and a sweep every
//!   200 ms picks up messages accepted through followers), and the
//!   document (live TPS/window, restart of changed carriers only).
//!
//! It never writes to the replicated state except through the store.

pub mod config;
mod fault;
mod feed;
pub mod forward;
pub mod store;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use smsgw_actors::link::DeliverSink;
use smsgw_actors::Gateway;
use smsgw_config::{ClusterDoc, CLUSTER_DOC_KEY};
use smsgw_raft::Cluster;
use tokio::sync::{Notify, RwLock};

pub use store::RaftStore;

/// Called with (carrier, SGIP SP listener address) after a gateway starts
/// (the demo tells its simulator where to push).
pub type SgipHook = Arc<dyn Fn(&str, std::net::SocketAddr) + Send + Sync>;

/// The running gateway of this node and what feeds it.
#[derive(Clone)]
pub struct Runtime {
    pub gw: Arc<RwLock<Option<Gateway>>>,
    pub store: RaftStore,
    cluster: Cluster,
    nudge: Arc<Notify>,
    forward: DeliverSink,
    sgip_hook: Option<SgipHook>,
    sessions_up: Arc<AtomicBool>,
    /// Bumped whenever a new gateway starts.
    generation: Arc<AtomicU64>,
    /// A planned switchover drained dispatch: nothing resumes it but the
    /// switchover failing.
    draining: Arc<AtomicBool>,
}

impl Runtime {
    pub fn new(cluster: Cluster, sgip_hook: Option<SgipHook>) -> Self {
        let forward = forward::spawn(cluster.clone());
        let runtime = Self {
            gw: Arc::default(),
            store: RaftStore::new(cluster.clone()),
            cluster: cluster.clone(),
            nudge: Arc::new(Notify::new()),
            forward,
            sgip_hook,
            sessions_up: Arc::default(),
            generation: Arc::default(),
            draining: Arc::default(),
        };
        cluster.set_transfer_hook(Arc::new(feed::Quiesce(runtime.clone())));
        runtime
    }

    /// New messages were committed: let the leader's feeder look now.
    pub fn nudge(&self) {
        self.nudge.notify_one();
    }

    /// Whether raft says this node leads (its queues are its own).
    fn is_leader(&self) -> bool {
        self.cluster.raft().metrics().borrow().current_leader == Some(self.cluster.id())
    }

    /// Starts the three tasks: document, leadership + feeding, session health.
    pub fn spawn(&self) -> Vec<tokio::task::JoinHandle<()>> {
        vec![
            tokio::spawn(self.clone().config_loop()),
            tokio::spawn(self.clone().feed_loop()),
            tokio::spawn(self.clone().health_loop()),
            tokio::spawn(forward::publish_http_addr(self.cluster.clone())),
        ]
    }

    async fn start_gateway(&self, doc: &ClusterDoc) -> Result<Gateway, String> {
        let mut cfg = config::gateway_config(doc)?;
        cfg.forward = Some(self.forward.clone());
        self.store.set_sp_numbers(config::sp_numbers(doc));
        let gw = Gateway::start(cfg, Arc::new(self.store.clone()))
            .await
            .map_err(|e| e.to_string())?;
        // Not the leader until the feeder says so.
        let _ = gw.set_leader(false).await;
        if let Some(hook) = &self.sgip_hook {
            for c in &doc.carriers {
                if let Some(a) = gw.sgip_addr(&c.name) {
                    hook(&c.name, a);
                }
            }
        }
        for c in &doc.carriers {
            metrics::gauge!("smsgw_carrier_tps_ceiling", "carrier" => c.name.clone()).set(f64::from(c.tps));
        }
        Ok(gw)
    }

    /// Follows the cluster document: the first one starts the gateway; later
    /// ones change TPS and windows live, restart only carriers whose
    /// connection settings changed, and rebuild the gateway when carriers
    /// or routes were added or removed.
    async fn config_loop(self) {
        let mut current: Option<(Vec<u8>, ClusterDoc)> = None;
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let raw = match smsgw_state::local_view(&self.cluster).config(CLUSTER_DOC_KEY) {
                Ok(Some(r)) => r,
                Ok(None) => continue,
                Err(e) => {
                    smsgw_actors::warn_limited!("gateway-config-read", "reading the cluster document: {e}");
                    continue;
                }
            };
            if current.as_ref().is_some_and(|(r, _)| *r == raw) {
                continue;
            }
            let doc = match ClusterDoc::from_json(&raw) {
                Ok(d) => d,
                Err(e) => {
                    tracing::error!("replicated cluster document: {e}");
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    continue;
                }
            };
            match self.apply(current.as_ref().map(|(_, d)| d), &doc).await {
                Ok(()) => current = Some((raw, doc)),
                Err(e) => tracing::error!("cannot run the cluster document: {e}; retrying"),
            }
        }
    }

    async fn apply(&self, old: Option<&ClusterDoc>, doc: &ClusterDoc) -> Result<(), String> {
        let mut slot = self.gw.write().await;
        let change = match (old, slot.is_some()) {
            (Some(old), true) => config::diff(old, doc),
            _ => config::Change {
                rebuild: true,
                ..Default::default()
            },
        };
        if change.rebuild {
            if let Some(gw) = slot.take() {
                tracing::info!("carriers or routes changed: restarting the gateway");
                gw.stop().await;
            }
            *slot = Some(self.start_gateway(doc).await?);
            // The feeder tells the new gateway its leadership (and re-queues).
            self.generation.fetch_add(1, Ordering::AcqRel);
            self.nudge();
            return Ok(());
        }
        let Some(gw) = slot.as_mut() else { return Ok(()) };
        self.store.set_sp_numbers(config::sp_numbers(doc));
        for (c, tps) in &change.tps {
            gw.set_tps(c, *tps);
            metrics::gauge!("smsgw_carrier_tps_ceiling", "carrier" => c.clone()).set(f64::from(*tps));
            tracing::info!(carrier = c, tps, "new TPS ceiling (live)");
        }
        for (c, w) in &change.window {
            gw.set_window(c, *w).await;
            tracing::info!(carrier = c, window = w, "new window (live)");
        }
        for name in &change.restart {
            let Some(c) = doc.carrier(name) else { continue };
            let spec = config::carrier_spec(c)?;
            tracing::info!(
                carrier = name,
                "connection settings changed: restarting this carrier"
            );
            gw.restart_carrier(spec).await.map_err(|e| e.to_string())?;
            metrics::gauge!("smsgw_carrier_tps_ceiling", "carrier" => name.clone()).set(f64::from(c.tps));
        }
        Ok(())
    }
}
