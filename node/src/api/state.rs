//! What the handlers share: the cluster handle, the cluster document in force
//! (watched from the local replicated state), message ids, readiness hooks.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use smsgw_config::{ClusterDoc, Router, CLUSTER_DOC_KEY};
use smsgw_raft::Cluster;
use smsgw_state::{Query, QueryResult, StateView};

use super::error::ApiError;

/// The document in force and its compiled routes.
pub struct Loaded {
    /// The document.
    pub doc: ClusterDoc,
    /// Its routes.
    pub router: Router,
    /// Its content rules, compiled.
    pub content: crate::service::content::ContentFilter,
    raw: Vec<u8>,
}

/// Something that must be up for `/readyz` to say ready (carrier sessions
/// register one when the actors are wired in).
pub trait ReadyCheck: Send + Sync {
    /// A short name for the check.
    fn name(&self) -> &str;
    /// `Err(reason)` when not ready.
    fn check(&self) -> Result<(), String>;
}

/// Shared by all handlers. Cloned by every middleware layer and handler of
/// every request, so it is one `Arc`: a clone is one reference count, not
/// one per field (the field-wise clone and drop were about 2 % of the
/// node's CPU under `bench e2e`).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] holds.
#[derive(Clone)]
pub struct Shared {
    pub cluster: Cluster,
    live: Arc<RwLock<Option<Arc<Loaded>>>>,
    ids: Arc<IdGen>,
    pub ready_checks: Arc<Vec<Arc<dyn ReadyCheck>>>,
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// The node's gateway (absent in API-only tests).
    pub runtime: Option<crate::gateway::Runtime>,
    /// Global and per-account request limits.
    pub limiter: Arc<super::limits::Limiter>,
    /// Wakes the job runner (a job was created or cancelled).
    pub jobs_nudge: Arc<tokio::sync::Notify>,
    /// What the callback workers are doing (on the leader).
    pub callbacks: Arc<crate::callbacks::Status>,
    /// The data dir's disk (absent in API-only tests): new messages are
    /// refused under its high-water mark.
    pub storage: Option<Arc<crate::storage::Disk>>,
    /// This node's application sessions (SMPP/CMPP).
    pub apps: Arc<crate::apps::Hub>,
    /// The leader's leases of application events.
    pub leases: Arc<crate::apps::delivery::Leases>,
}

impl AppState {
    pub fn new(
        cluster: Cluster,
        ready_checks: Vec<Arc<dyn ReadyCheck>>,
        metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    ) -> Self {
        let ids = Arc::new(IdGen::new(cluster.id()));
        Self(Arc::new(Shared {
            cluster,
            live: Arc::new(RwLock::new(None)),
            ids,
            ready_checks: Arc::new(ready_checks),
            metrics,
            runtime: None,
            limiter: Arc::default(),
            jobs_nudge: Arc::default(),
            callbacks: Arc::default(),
            storage: None,
            apps: Arc::default(),
            leases: Arc::default(),
        }))
    }

    /// With the data dir's disk (and its high-water mark).
    pub fn with_storage(mut self, disk: Arc<crate::storage::Disk>) -> Self {
        Arc::make_mut(&mut self.0).storage = Some(disk);
        self
    }

    /// With the node's gateway (commits nudge its feeder; the leader takes
    /// forwarded reports).
    pub fn with_runtime(mut self, rt: crate::gateway::Runtime) -> Self {
        Arc::make_mut(&mut self.0).runtime = Some(rt);
        self
    }

    /// The cluster document in force on this node, reloading it if the local
    /// state changed; `NotConfigured` before any was applied.
    pub fn config(&self) -> Result<Arc<Loaded>, ApiError> {
        if let Some(l) = self.live.read().unwrap_or_else(|p| p.into_inner()).clone() {
            return Ok(l);
        }
        self.reload()?;
        self.live
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or(ApiError::NotConfigured)
    }

    /// Re-reads the document from the local state; `Ok(true)` when it changed.
    pub fn reload(&self) -> Result<bool, ApiError> {
        let view = smsgw_state::local_view(&self.cluster);
        let raw = view.config(CLUSTER_DOC_KEY)?;
        let Some(raw) = raw else { return Ok(false) };
        let current = self.live.read().unwrap_or_else(|p| p.into_inner()).clone();
        if current.as_ref().is_some_and(|c| c.raw == raw) {
            return Ok(false);
        }
        let doc = ClusterDoc::from_json(&raw)
            .map_err(|e| ApiError::Internal(format!("replicated cluster document: {e}")))?;
        let router = doc.router();
        let content = crate::service::content::ContentFilter::new(&doc.content);
        tracing::info!(
            carriers = doc.carriers.len(),
            routes = doc.routes.len(),
            accounts = doc.accounts.len(),
            "cluster document in force"
        );
        *self.live.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(Loaded {
            doc,
            router,
            content,
            raw,
        }));
        Ok(true)
    }

    /// Watches the local state for a new document (a `config apply` anywhere).
    pub fn spawn_config_watch(&self) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            loop {
                if let Err(e) = me.reload() {
                    smsgw_actors::warn_limited!(
                        "config-watch",
                        "cannot load the cluster document: {}",
                        e.message()
                    );
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    }

    /// A fresh message id.
    pub fn next_id(&self) -> u64 {
        self.ids.next()
    }

    /// `n` fresh message ids.
    pub fn next_ids(&self, n: usize) -> Vec<u64> {
        (0..n).map(|_| self.ids.next()).collect()
    }

    /// A view of the local state at least as new as the leader's at the time
    /// of the call (a linearizable read of the applied index, then a bounded
    /// wait for this node to apply that far).
    pub async fn fresh_view(&self) -> Result<StateView, ApiError> {
        let r = smsgw_state::read_linearizable(&self.cluster, &Query::Counts)
            .await
            .map_err(|e| match self.cluster.stopped() {
                // Raft stopped on this node's storage: say so, not "no quorum".
                Some(stopped @ smsgw_raft::ProposeError::Storage { .. }) => ApiError::from(stopped),
                _ => ApiError::NoQuorum(e.to_string()),
            })?;
        let QueryResult::Counts { applied_index, .. } = r else {
            return Err(ApiError::Internal("unexpected read result".into()));
        };
        let view = smsgw_state::local_view(&self.cluster);
        let deadline = Instant::now() + Duration::from_secs(3);
        loop {
            let local = view.applied()?.map(|l| l.index).unwrap_or(0);
            if local >= applied_index {
                return Ok(view);
            }
            if Instant::now() > deadline {
                return Err(ApiError::NoQuorum(format!(
                    "this node has applied up to {local}, the leader {applied_index}: it is catching up"
                )));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Cluster-unique message ids without coordination: 41 bits of milliseconds
/// since 2024-01-01, 10 bits of node id, 12 bits of sequence (4096 ids per
/// millisecond per node; beyond that the clock is borrowed from ahead).
struct IdGen {
    node: u64,
    /// (ms << 12) | seq of the last id.
    last: AtomicU64,
}

const EPOCH_MS: u64 = 1_704_067_200_000;

impl IdGen {
    fn new(node: u64) -> Self {
        Self {
            node: node & 0x3ff,
            last: AtomicU64::new(0),
        }
    }

    fn next(&self) -> u64 {
        let now = (now_ms().saturating_sub(EPOCH_MS)) << 12;
        let mut prev = self.last.load(Ordering::Relaxed);
        loop {
            let next = if now > prev { now } else { prev + 1 };
            match self
                .last
                .compare_exchange_weak(prev, next, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => {
                    let ms = next >> 12;
                    let seq = next & 0xfff;
                    return (ms << 22) | (self.node << 12) | seq;
                }
                Err(p) => prev = p,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::IdGen;

    #[test]
    fn ids_are_unique_and_increasing() {
        let g = IdGen::new(3);
        let ids: Vec<u64> = (0..10_000).map(|_| g.next()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        assert_eq!((ids[0] >> 12) & 0x3ff, 3);
    }
}
