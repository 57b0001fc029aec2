//! The handle the rest of the node uses: [`Cluster`] starts raft on a data
//! dir and a port, proposes commands from any node (forwarding to the
//! leader), reads linearizably or locally, and reports status. It must never
//! report a write as done before a majority committed it.

mod admin;
mod boot;
mod lease;
mod options;
mod proposer;
mod sled_repair;
mod snapshots;
mod storage;
mod verify;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use openraft::error::{ClientWriteError, RaftError};
use tokio::net::TcpListener;

pub use self::admin::admin_call;
pub use self::options::ClusterOptions;
pub use self::proposer::BatchOptions;
pub use self::storage::{inspect_data_dir, StorageOpenError};
pub use self::verify::Inspection;
use crate::app::{App, Applied, ApplyError, Proposal, View};
use crate::error::{AdminError, ProposeError};
use crate::network::SecretError;
use crate::network::{
    secret::SECRET_FILE, AdminRequest, AdminResponse, ClusterSecret, Keyring, NodeStatus, RpcClient,
    RpcRequest, RpcResponse, SecretSet, WriteRefusal,
};
use crate::types::{NodeId, NodeInfo, Raft};

/// How long a rebuild waits for the last handles on a failed store to go.
const REOPEN_WAIT: Duration = Duration::from_secs(20);

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data dir was refused.
    #[error(transparent)]
    Storage(#[from] StorageOpenError),
    /// sled failed after opening.
    #[error("storage: {0}")]
    Sled(#[from] sled::Error),
    /// The raft port could not be bound.
    #[error("cannot listen on raft address {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The cluster secret could not be read or created.
    #[error("cluster secret: {0}")]
    Secret(#[from] SecretError),
    /// openraft refused the configuration or failed to start.
    #[error("raft: {0}")]
    Raft(String),
}

/// What the node does around a planned transfer of leadership away from
/// it: quiesce its own work before (so that the next leader takes over a
/// settled state), and take it up again if the transfer failed. Raft calls
/// it and knows nothing of what the work is.
pub trait TransferHook: Send + Sync + 'static {
    /// Before the transfer starts; proposals still commit meanwhile.
    fn before_transfer(&self) -> futures::future::BoxFuture<'static, ()>;
    /// After a transfer that did not happen (this node may still lead).
    fn after_failed_transfer(&self) -> futures::future::BoxFuture<'static, ()>;
}

/// A read failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Leadership could not be confirmed or the leader not reached.
    #[error(transparent)]
    Admin(#[from] AdminError),
    /// Local storage failed.
    #[error("state machine: {0}")]
    Storage(#[from] ApplyError),
}

pub(crate) struct Inner {
    pub(crate) id: NodeId,
    pub(crate) raft: Raft,
    /// Detached (see [`View`]) while a rebuild reopens the store.
    pub(crate) view: std::sync::RwLock<View>,
    pub(crate) app: Arc<dyn App>,
    pub(crate) client: RpcClient,
    pub(crate) opts: ClusterOptions,
    pub(crate) addr: SocketAddr,
    pub(crate) transferring: AtomicBool,
    /// Proposer batches past the `transferring` check and not yet answered:
    /// a transfer waits for them, so no entry lands on the old leader
    /// after the target has caught up.
    pub(crate) writing: std::sync::atomic::AtomicUsize,
    pub(crate) transfer_hook: std::sync::RwLock<Option<Arc<dyn TransferHook>>>,
    pub(crate) lease: lease::Lease,
    pub(crate) proposals: proposer::Queue,
    /// The database under the log and the state machine (kept to tell, at a
    /// rebuild, whether sled itself failed and must be reopened).
    pub(crate) db: std::sync::Mutex<Option<sled::Db>>,
}

/// A running node's replicated store. Cheap to clone: clones share the
/// raft instance, and all see the new one after a [`Cluster::rebuild`].
#[derive(Clone)]
pub struct Cluster {
    shared: Arc<Shared>,
}

struct Shared {
    current: Arc<std::sync::RwLock<Running>>,
    /// The raft port's accept loop (bound once; see `boot::Current`).
    server: tokio::task::JoinHandle<()>,
    /// Watches the secret file for a rotation (none: a fixed secret).
    watch: Option<tokio::task::JoinHandle<()>>,
    /// One rebuild at a time.
    rebuilding: tokio::sync::Mutex<()>,
    app: Arc<dyn App>,
    /// The secrets the raft port accepts and dials with (kept across rebuilds).
    keyring: Keyring,
    /// The watched secret file (none: a fixed secret).
    secret_file: Option<PathBuf>,
}

/// One raft instance on the data dir, with the tasks serving it.
pub(crate) struct Running {
    pub(crate) inner: Arc<Inner>,
    pub(crate) tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Cluster {
    /// Opens the data dir, binds the raft port and starts raft (not
    /// initialised), applying committed commands with `app`.
    pub async fn start(opts: ClusterOptions, app: Arc<dyn App>) -> Result<Self, StartError> {
        let db = storage::open_data_dir(&opts.data_dir, opts.node_id, opts.cache_bytes)?;
        // After the data dir check: a secret is never created in a directory
        // that is not this node's.
        let (keyring, secret_file) = match (&opts.secret, &opts.secret_file) {
            (Some(s), _) => (Keyring::fixed(s.clone()), None),
            (None, Some(f)) => (Keyring::new(SecretSet::read_file(f)?), Some(f.clone())),
            (None, None) => {
                let (_, created) = ClusterSecret::load_or_create(&opts.data_dir)?;
                let f = opts.data_dir.join(SECRET_FILE);
                if created {
                    tracing::warn!(
                        file = %f.display(),
                        "created a new cluster secret: give this file to every node that joins \
                         (node file `cluster_secret_file`) and to admins (`--secret-file`)"
                    );
                }
                (Keyring::new(SecretSet::read_file(&f)?), Some(f))
            }
        };
        let listener = TcpListener::bind(&opts.raft_bind)
            .await
            .map_err(|source| StartError::Bind {
                addr: opts.raft_bind.clone(),
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: opts.raft_bind.clone(),
            source,
        })?;
        let secret_poll = opts.secret_poll;
        let running = boot::boot(opts, app.clone(), db, keyring.clone(), addr).await?;
        let current = Arc::new(std::sync::RwLock::new(running));
        let server = crate::network::server::serve(
            listener,
            Arc::new(boot::Current(current.clone())),
            keyring.clone(),
        );
        let watch = secret_file.clone().map(|f| keyring.watch_file(f, secret_poll));
        Ok(Self {
            shared: Arc::new(Shared {
                current,
                server,
                watch,
                rebuilding: tokio::sync::Mutex::new(()),
                app,
                keyring,
                secret_file,
            }),
        })
    }

    /// The raft instance in service now.
    fn inner(&self) -> Arc<Inner> {
        self.shared
            .current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .inner
            .clone()
    }

    /// Why raft stopped on this node, as a write would be refused
    /// ([`ProposeError::Storage`] after a storage error, `Fatal` after a
    /// shutdown or a panic); `None` while it runs.
    pub fn stopped(&self) -> Option<ProposeError> {
        let inner = self.inner();
        let state = inner.raft.metrics().borrow().running_state.clone();
        state.err().map(|f| inner.stopped_error(&f, false))
    }

    /// Replaces a stopped raft instance by a new one on the same data dir and
    /// raft address, as a restart of the process would: the database is
    /// reopened if sled itself failed (sled refuses every write after an I/O
    /// error), the log and state are read back, and this node rejoins its
    /// cluster as before. Clones of this handle use the new instance.
    pub async fn rebuild(&self) -> Result<(), StartError> {
        let _one = self.shared.rebuilding.lock().await;
        let old = self.inner();
        let _ = old.raft.shutdown().await;
        tracing::debug!("rebuild: old raft shut down");
        let tasks = std::mem::take(
            &mut self
                .shared
                .current
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .tasks,
        );
        for t in &tasks {
            t.abort();
        }
        for t in tasks {
            let _ = t.await;
        }
        tracing::debug!("rebuild: old tasks stopped");
        let healthy = old
            .db
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .filter(|db| db.flush().is_ok());
        let db = match healthy {
            Some(db) => db,
            None => {
                // sled keeps its first I/O error and refuses every write
                // after it, and it locks its files: every handle on the old
                // store must go before it can be opened again.
                *old.view.write().unwrap_or_else(|p| p.into_inner()) = View::detached();
                storage::reopen(&old.opts.data_dir, old.id, REOPEN_WAIT).await?
            }
        };
        tracing::debug!("rebuild: store open");
        let opts = old.opts.clone();
        let hook = old
            .transfer_hook
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let keyring = self.shared.keyring.clone();
        let running = boot::boot(opts, self.shared.app.clone(), db, keyring, old.addr).await?;
        *running
            .inner
            .transfer_hook
            .write()
            .unwrap_or_else(|p| p.into_inner()) = hook;
        drop(old);
        *self.shared.current.write().unwrap_or_else(|p| p.into_inner()) = running;
        Ok(())
    }

    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.inner().id
    }

    /// The bound raft address (useful when the port was 0).
    pub fn raft_addr(&self) -> SocketAddr {
        self.inner().addr
    }

    /// The cluster secret this node proves now (for the node's own signed
    /// requests between members); it may change on a rotation, so it is
    /// fetched for each use, not kept.
    pub fn secret(&self) -> ClusterSecret {
        self.shared.keyring.dial()
    }

    /// Every secret this node accepts now, and their changes (rotation).
    pub fn keyring(&self) -> &Keyring {
        &self.shared.keyring
    }

    /// Re-reads the secret file now (the node's SIGHUP), logged and counted
    /// like the watcher's reloads; false when the secret is fixed.
    pub fn reload_secret(&self) -> bool {
        match &self.shared.secret_file {
            Some(f) => {
                self.shared.keyring.reload_logged(f);
                true
            }
            None => false,
        }
    }

    /// This node's advertised addresses.
    pub fn node_info(&self) -> NodeInfo {
        self.inner().self_info()
    }

    /// The openraft handle, for callers needing what this API does not offer.
    pub fn raft(&self) -> Raft {
        self.inner().raft.clone()
    }

    /// Whether the cluster was initialised (as this node sees it).
    pub async fn is_initialized(&self) -> bool {
        self.inner().raft.is_initialized().await.unwrap_or(false)
    }

    /// Initialises a cluster of `members` (empty: this node plus configured peers).
    pub async fn initialize(&self, members: Vec<(NodeId, NodeInfo)>) -> Result<String, AdminError> {
        self.inner().init(members).await
    }

    /// Proposes an encoded command; returns its encoded response once a
    /// majority committed it and this cluster applied it.
    pub async fn propose(&self, cmd: Vec<u8>) -> Result<Vec<u8>, ProposeError> {
        let inner = self.inner();
        match inner.propose(cmd.clone()).await {
            Err(ProposeError::Fatal { reason, node }) if reason == proposer::STOPPED => {
                // Still queued when a rebuild stopped its instance, so never
                // proposed: once more on the new instance, if there is one.
                drop(self.shared.rebuilding.lock().await);
                let now = self.inner();
                if Arc::ptr_eq(&now, &inner) {
                    return Err(ProposeError::Fatal { reason, node });
                }
                now.propose(cmd).await
            }
            r => r,
        }
    }

    /// Answers an encoded query through the leader after confirming its
    /// leadership (never stale).
    pub async fn read_linearizable(&self, query: &[u8]) -> Result<Vec<u8>, ReadError> {
        self.inner().read_linearizable(query).await
    }

    /// This node's local state, possibly stale on a follower.
    pub fn read_local_possibly_stale(&self) -> View {
        self.inner()
            .view
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// This node's view of the cluster.
    pub async fn status(&self) -> NodeStatus {
        self.inner().status().await
    }

    /// Runs an admin request as if it arrived on the raft port.
    pub async fn admin(&self, req: AdminRequest) -> Result<AdminResponse, AdminError> {
        self.inner().admin(req, true).await
    }

    /// The leader as this node sees it, with its addresses.
    pub fn leader(&self) -> Option<(NodeId, NodeInfo)> {
        self.inner().leader()
    }

    /// Whether this node leads under a lease (see `lease.rs`): a majority
    /// confirmed it recently enough that no other node can have been
    /// elected since. A leader cut off from the others loses the lease
    /// within the shortest election timeout, before a new leader can be
    /// elected: what is done only under the lease (sending to carriers) is
    /// never done by two leaders at once.
    pub fn leads_with_lease(&self) -> bool {
        let inner = self.inner();
        let leads = inner.raft.metrics().borrow().current_leader == Some(inner.id);
        leads && inner.lease.valid()
    }

    /// Sets what this node quiesces before a planned transfer away from it.
    pub fn set_transfer_hook(&self, hook: Arc<dyn TransferHook>) {
        *self
            .inner()
            .transfer_hook
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Some(hook);
    }

    /// Stops raft and the raft port.
    pub async fn shutdown(&self) {
        let _ = self.inner().raft.shutdown().await;
        self.shared.server.abort();
        if let Some(w) = &self.shared.watch {
            w.abort();
        }
        let current = self.shared.current.read().unwrap_or_else(|p| p.into_inner());
        for t in current.tasks.iter() {
            t.abort();
        }
    }
}

impl Inner {
    pub(crate) fn self_info(&self) -> NodeInfo {
        NodeInfo {
            raft_addr: self.addr.to_string(),
            http_addr: self.opts.http_addr.clone(),
        }
    }

    fn members(&self) -> BTreeMap<NodeId, NodeInfo> {
        let m = self.raft.metrics().borrow().membership_config.clone();
        m.nodes().map(|(id, n)| (*id, n.clone())).collect()
    }

    /// The leader as this node sees it, with its address.
    pub(crate) fn leader(&self) -> Option<(NodeId, NodeInfo)> {
        let leader = self.raft.metrics().borrow().current_leader?;
        let info = self.members().get(&leader).cloned()?;
        Some((leader, info))
    }

    fn quorum_stale_ms(&self) -> u64 {
        self.opts.election_timeout_ms.1 * 2
    }

    /// Writes on this node only if it leads; the caller forwards otherwise.
    pub(crate) async fn write_local(
        &self,
        cmd: Proposal,
        timeout: Duration,
    ) -> Result<Applied, WriteRefusal> {
        // A raft stopped on a storage error also stops acking: check this
        // first, or the operator is told of a lost majority.
        if let Err(fatal) = &self.raft.metrics().borrow().running_state {
            return Err(WriteRefusal::Failed(self.stopped_error(fatal, false)));
        }
        let since_ack = self.raft.metrics().borrow().millis_since_quorum_ack;
        if let Some(ms) = since_ack {
            if ms > self.quorum_stale_ms() {
                return Err(WriteRefusal::Failed(ProposeError::NoQuorum {
                    leader: self.id,
                    since_ack_ms: ms,
                }));
            }
        }
        let started = Instant::now();
        let res = tokio::time::timeout(timeout, self.raft.client_write(cmd)).await;
        metrics::histogram!("smsgw_raft_commit_seconds").record(started.elapsed().as_secs_f64());
        match res {
            Err(_) => Err(WriteRefusal::Failed(ProposeError::Timeout {
                waited_ms: timeout.as_millis() as u64,
            })),
            Ok(Ok(r)) => Ok(r.data),
            Ok(Err(RaftError::APIError(ClientWriteError::ForwardToLeader(f)))) => {
                Err(WriteRefusal::NotLeader {
                    leader: f.leader_id.zip(f.leader_node),
                })
            }
            Ok(Err(RaftError::Fatal(fatal))) => Err(WriteRefusal::Failed(self.stopped_error(&fatal, true))),
            Ok(Err(e)) => Err(WriteRefusal::Failed(ProposeError::Fatal {
                node: self.id,
                reason: e.to_string(),
            })),
        }
    }

    /// The refusal for a raft stopped by `fatal`; `in_flight`: it stopped
    /// while the write was being proposed (which may then have committed).
    fn stopped_error(&self, fatal: &openraft::error::Fatal<NodeId>, in_flight: bool) -> ProposeError {
        match fatal {
            openraft::error::Fatal::StorageError(e) => {
                let reason = format!("{e} ({e:?})");
                ProposeError::Storage {
                    node: self.id,
                    full: crate::error::is_disk_full(&reason),
                    reason: e.to_string(),
                    may_have_committed: in_flight,
                }
            }
            other => ProposeError::Fatal {
                node: self.id,
                reason: other.to_string(),
            },
        }
    }

    /// Answers `query` from the local state through the app.
    pub(crate) fn query_local(&self, query: &[u8]) -> Result<Vec<u8>, ApplyError> {
        let view = self.view.read().unwrap_or_else(|p| p.into_inner()).clone();
        self.app.query(&view, query)
    }

    pub(crate) async fn read_linearizable(&self, query: &[u8]) -> Result<Vec<u8>, ReadError> {
        // A stopped raft answers nothing, and logs an error per call.
        if let Err(fatal) = &self.raft.metrics().borrow().running_state {
            return Err(ReadError::Admin(AdminError::Raft(
                self.stopped_error(fatal, false).to_string(),
            )));
        }
        let deadline = Instant::now() + self.opts.propose_timeout;
        loop {
            if Instant::now() >= deadline {
                return Err(ReadError::Admin(AdminError::NoLeader));
            }
            match self.leader() {
                // Confirming leadership sends heartbeats, which would renew
                // the voters' lease and keep them from electing the target
                // of a transfer in progress: wait for its outcome instead.
                Some((id, _)) if id == self.id && self.transferring.load(Ordering::SeqCst) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Some((id, _)) if id == self.id => match self.raft.ensure_linearizable().await {
                    Ok(_) => return Ok(self.query_local(query)?),
                    Err(e) => tracing::debug!(error = %e, "linearizable read: leadership not confirmed"),
                },
                Some((_, info)) => {
                    let req = RpcRequest::AdminForwarded(AdminRequest::Read {
                        query: query.to_vec(),
                        linearizable: true,
                    });
                    let remaining = deadline.saturating_duration_since(Instant::now());
                    if let Ok(RpcResponse::Admin(Ok(AdminResponse::Read(r)))) =
                        self.client.call(&info.raft_addr, &req, remaining).await
                    {
                        return Ok(r);
                    }
                }
                None => {}
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
