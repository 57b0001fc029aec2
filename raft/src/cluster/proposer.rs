//! Proposal batching. Every `propose` on a node goes through one proposer
//! task: it waits for a free in-flight slot, then takes every proposal queued
//! meanwhile (up to a count and a size, optionally lingering a little for
//! more) and proposes them as ONE raft entry (a [`Proposal`] of several) on the
//! leader, or forwards them as one [`RpcRequest::ClientWriteBatch`] to it.
//! The leader feeds forwarded batches into its own proposer, so writes from
//! every node share its entries. Each caller gets its own response.
//!
//! Why: openraft 0.9 appends each client write as its own `append` call and
//! waits for that call's flush inside its core loop (`append_to_log`), so
//! every entry costs one fsync in series. One entry per batch makes that one
//! fsync per batch. It must never answer a caller before the entry holding
//! its command is committed on a majority and applied.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::{mpsc, oneshot, Semaphore};

use super::Inner;
use crate::app::{Applied, Proposal};
use crate::error::{ProposeError, RpcError};
use crate::network::{RpcRequest, RpcResponse, WriteRefusal};
use crate::types::NodeId;

/// How the proposer groups concurrent proposals into raft entries.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// Most commands in one entry.
    pub max_commands: usize,
    /// Most (approximate) bytes of commands in one entry. Keep it under sled's
    /// blob threshold (about segment size / 4 = 128 KiB): larger values go to
    /// one blob file each, and runs with such entries hung twice at shutdown
    /// inside sled's flush (not understood yet).
    pub max_bytes: usize,
    /// Batches proposed or forwarded at once; while all are out, proposals queue
    /// up and leave together as the next batch.
    pub max_in_flight: usize,
    /// How long a batch waits for more proposals when another batch is still
    /// in flight (the node is busy); an idle node proposes at once.
    pub linger: Duration,
    /// Most proposals waiting for a batch (local and forwarded together).
    /// Past it a proposal is refused at once with [`ProposeError::Backlog`]
    /// instead of growing memory: the API answers 429 and nothing of that
    /// request was accepted.
    pub max_queued: usize,
}

impl Default for BatchOptions {
    fn default() -> Self {
        Self {
            max_commands: 1024,
            max_bytes: 96 * 1024,
            max_in_flight: 2,
            linger: Duration::from_millis(1),
            max_queued: DEFAULT_MAX_QUEUED,
        }
    }
}

/// [`BatchOptions::max_queued`] by default: about 16 full batches.
pub const DEFAULT_MAX_QUEUED: usize = 16 * 1024;

/// Why a queued proposal was dropped unproposed: its raft instance was
/// stopped (shutdown, or replaced by a rebuild).
pub(crate) const STOPPED: &str = "the proposer stopped";

/// One queued proposal.
pub(crate) struct Item {
    cmd: Vec<u8>,
    deadline: Instant,
    /// Forwarded by a peer: written here if this node leads, never forwarded again.
    forwarded: bool,
    tx: oneshot::Sender<Result<Vec<u8>, WriteRefusal>>,
}

/// The sending side of the proposer queue (bounded).
pub(crate) type Queue = mpsc::Sender<Item>;
type Rx = mpsc::Receiver<Item>;

/// A new proposer queue of at most `max_queued` proposals.
pub(crate) fn channel(max_queued: usize) -> (Queue, Rx) {
    mpsc::channel(max_queued.max(1))
}

/// Runs the proposer of `inner` until the queue closes or the task is aborted.
pub(crate) fn spawn(inner: Arc<Inner>, mut rx: Rx) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let opts = inner.opts.batch.clone();
        let slots = Arc::new(Semaphore::new(opts.max_in_flight.max(1)));
        // A proposal that would have taken its batch past the entry bound
        // starts the next one.
        let mut carried: Option<Item> = None;
        loop {
            let Ok(slot) = slots.clone().acquire_owned().await else {
                return;
            };
            let first = match carried.take() {
                Some(it) => it,
                None => match rx.recv().await {
                    Some(it) => it,
                    None => return,
                },
            };
            let busy = slots.available_permits() + 1 < opts.max_in_flight.max(1);
            let linger = if busy { opts.linger } else { Duration::ZERO };
            let (items, next) = collect(&mut rx, first, &opts, linger).await;
            carried = next;
            metrics::histogram!("smsgw_raft_proposal_batch_commands").record(items.len() as f64);
            let inner = inner.clone();
            tokio::spawn(async move {
                inner.run_batch(items).await;
                drop(slot);
            });
        }
    })
}

/// Room in an entry for what its commands are wrapped in (log id, entry
/// kind, a length prefix per command).
const ENTRY_FRAMING: usize = 4 * 1024;
const COMMAND_FRAMING: usize = 10;

/// The proposals of one batch, and the one that would have taken it past
/// [`MAX_ENTRY_BYTES`](crate::entry_size::MAX_ENTRY_BYTES) (it starts the next).
async fn collect(
    rx: &mut Rx,
    first: Item,
    opts: &BatchOptions,
    linger: Duration,
) -> (Vec<Item>, Option<Item>) {
    let until = tokio::time::Instant::now() + linger;
    let bound = crate::entry_size::MAX_ENTRY_BYTES - ENTRY_FRAMING;
    let mut bytes = first.cmd.len() + COMMAND_FRAMING;
    let mut items = vec![first];
    while items.len() < opts.max_commands && bytes < opts.max_bytes {
        let next = match rx.try_recv() {
            Ok(it) => it,
            Err(TryRecvError::Disconnected) => break,
            Err(TryRecvError::Empty) if linger.is_zero() => break,
            Err(TryRecvError::Empty) => match tokio::time::timeout_at(until, rx.recv()).await {
                Ok(Some(it)) => it,
                _ => break,
            },
        };
        if bytes + next.cmd.len() + COMMAND_FRAMING > bound {
            return (items, Some(next));
        }
        bytes += next.cmd.len() + COMMAND_FRAMING;
        items.push(next);
    }
    (items, None)
}

/// One batch counted in [`Inner::writing`] until dropped.
struct Writing<'a>(&'a std::sync::atomic::AtomicUsize);

impl<'a> Writing<'a> {
    fn enter(n: &'a std::sync::atomic::AtomicUsize) -> Self {
        n.fetch_add(1, Ordering::SeqCst);
        Writing(n)
    }
}

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn answer(items: Vec<Item>, result: Result<Vec<u8>, WriteRefusal>) {
    for it in items {
        let _ = it.tx.send(result.clone());
    }
}

impl Inner {
    /// Queues `cmd` and waits for its own response (forwarding to the leader as needed).
    pub(crate) async fn propose(&self, cmd: Vec<u8>) -> Result<Vec<u8>, ProposeError> {
        let timeout = self.opts.propose_timeout;
        match self.enqueue(cmd, false).await {
            Ok(r) => Ok(r),
            Err(WriteRefusal::Failed(e)) => Err(e),
            Err(WriteRefusal::NotLeader { .. }) => Err(ProposeError::NoLeader {
                waited_ms: timeout.as_millis() as u64,
            }),
        }
    }

    /// Writes commands forwarded by a peer through this node's proposer, one result each.
    pub(crate) async fn write_forwarded(&self, cmds: Vec<Vec<u8>>) -> Vec<Result<Vec<u8>, WriteRefusal>> {
        futures::future::join_all(cmds.into_iter().map(|c| self.enqueue(c, true))).await
    }

    async fn enqueue(&self, cmd: Vec<u8>, forwarded: bool) -> Result<Vec<u8>, WriteRefusal> {
        let (tx, rx) = oneshot::channel();
        let item = Item {
            cmd,
            deadline: Instant::now() + self.opts.propose_timeout,
            forwarded,
            tx,
        };
        let stopped = || {
            WriteRefusal::Failed(ProposeError::Fatal {
                node: self.id,
                reason: STOPPED.into(),
            })
        };
        match self.proposals.try_send(item) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                metrics::counter!("smsgw_raft_proposals_refused_total", "reason" => "backlog").increment(1);
                return Err(WriteRefusal::Failed(ProposeError::Backlog {
                    node: self.id,
                    queued: self.opts.batch.max_queued as u64,
                }));
            }
            Err(mpsc::error::TrySendError::Closed(_)) => return Err(stopped()),
        }
        rx.await.unwrap_or_else(|_| Err(stopped()))
    }

    /// Proposes `items` as one entry (or forwards them), retrying while no leader
    /// is known or the leader moved, until each item's deadline.
    async fn run_batch(&self, mut items: Vec<Item>) {
        let mut last_leader: Option<NodeId> = None;
        loop {
            let now = Instant::now();
            let waited_ms = self.opts.propose_timeout.as_millis() as u64;
            let (expired, live): (Vec<_>, Vec<_>) = items.into_iter().partition(|it| it.deadline <= now);
            let err = match last_leader {
                None => ProposeError::NoLeader { waited_ms },
                Some(_) => ProposeError::Timeout { waited_ms },
            };
            answer(expired, Err(WriteRefusal::Failed(err)));
            items = live;
            let Some(latest) = items.iter().map(|it| it.deadline).max() else {
                return;
            };
            let remaining = latest - now;
            let leader = self.leader();
            let leads = matches!(&leader, Some((id, _)) if *id == self.id);
            // Counted before the check (SeqCst on both sides): either the
            // transfer sees this batch and waits for it, or this batch sees
            // the transfer and does not write.
            let writing = Writing::enter(&self.writing);
            if leads && !self.transferring.load(Ordering::SeqCst) {
                let cmds = items.iter().map(|it| it.cmd.clone()).collect();
                #[cfg(feature = "fault-injection")]
                tokio::time::sleep(crate::fault::proposal_delay()).await;
                match self.write_local_batch(cmds, remaining).await {
                    Ok(resps) => {
                        for (it, r) in items.into_iter().zip(resps) {
                            let _ = it.tx.send(Ok(r));
                        }
                        return;
                    }
                    Err(WriteRefusal::Failed(e)) => return answer(items, Err(WriteRefusal::Failed(e))),
                    Err(WriteRefusal::NotLeader { leader }) => {
                        items = self.refuse_forwarded(items, leader);
                    }
                }
            } else {
                drop(writing);
                let hint = leader.clone().filter(|(id, _)| *id != self.id);
                items = self.refuse_forwarded(items, hint.clone());
                if let (Some((_, info)), false) = (hint, items.is_empty()) {
                    items = self.forward(&info.raft_addr, items, remaining).await;
                }
            }
            last_leader = leader.map(|(id, _)| id);
            if items.is_empty() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Answers the forwarded items "not the leader" (they are never forwarded
    /// again); returns the others.
    fn refuse_forwarded(&self, items: Vec<Item>, leader: Option<(NodeId, crate::NodeInfo)>) -> Vec<Item> {
        let (forwarded, own): (Vec<_>, Vec<_>) = items.into_iter().partition(|it| it.forwarded);
        answer(forwarded, Err(WriteRefusal::NotLeader { leader }));
        own
    }

    /// Forwards `items` to the leader at `addr`; returns those to retry.
    async fn forward(&self, addr: &str, items: Vec<Item>, timeout: Duration) -> Vec<Item> {
        let cmds = || items.iter().map(|it| it.cmd.clone()).collect::<Vec<_>>();
        let req = RpcRequest::ClientWriteBatch(cmds());
        let results = match self.client.call(addr, &req, timeout).await {
            Ok(RpcResponse::ClientWriteBatch(r)) if r.len() == items.len() => r,
            // A leader of an older build closes the connection on a request it
            // cannot decode: forward one by one as it understands.
            Err(RpcError::Closed { .. }) => self.forward_singly(addr, cmds(), timeout).await,
            Ok(_) => return items,
            Err(e) => {
                tracing::debug!(error = %e, "forwarding writes to the leader failed");
                return items;
            }
        };
        let mut retry = Vec::new();
        for (it, r) in items.into_iter().zip(results) {
            match r {
                Err(WriteRefusal::NotLeader { .. }) => retry.push(it),
                r => {
                    let _ = it.tx.send(r);
                }
            }
        }
        retry
    }

    async fn forward_singly(
        &self,
        addr: &str,
        cmds: Vec<Vec<u8>>,
        timeout: Duration,
    ) -> Vec<Result<Vec<u8>, WriteRefusal>> {
        let calls = cmds.into_iter().map(|cmd| async move {
            match self
                .client
                .call(addr, &RpcRequest::ClientWrite(cmd), timeout)
                .await
            {
                Ok(RpcResponse::ClientWrite(r)) => r,
                _ => Err(WriteRefusal::NotLeader { leader: None }),
            }
        });
        futures::future::join_all(calls).await
    }

    /// Writes `cmds` as one entry on this node if it leads.
    pub(crate) async fn write_local_batch(
        &self,
        cmds: Vec<Vec<u8>>,
        timeout: Duration,
    ) -> Result<Vec<Vec<u8>>, WriteRefusal> {
        let n = cmds.len();
        let Applied(rs) = self.write_local(Proposal(cmds), timeout).await?;
        if rs.len() == n {
            Ok(rs)
        } else {
            Err(WriteRefusal::Failed(ProposeError::Fatal {
                node: self.id,
                reason: format!(
                    "an entry of {n} commands was answered with {} responses",
                    rs.len()
                ),
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(bytes: usize) -> Item {
        let (tx, _) = oneshot::channel();
        Item {
            cmd: vec![0; bytes],
            deadline: Instant::now(),
            forwarded: false,
            tx,
        }
    }

    #[tokio::test]
    async fn a_proposal_that_would_take_an_entry_past_the_bound_starts_the_next_batch() {
        let opts = BatchOptions::default();
        let (q, mut rx) = channel(8);
        let big = crate::entry_size::MAX_ENTRY_BYTES - 64 * 1024;
        for b in [90 * 1024, big, 10] {
            assert!(q.try_send(item(b)).is_ok());
        }
        let first = rx.recv().await.expect("queued");
        let (items, next) = collect(&mut rx, first, &opts, Duration::ZERO).await;
        assert_eq!(items.len(), 1);
        let next = next.expect("the big one is carried");
        assert_eq!(next.cmd.len(), big);
        // It starts the next batch, which closes once over max_bytes.
        let (items, next) = collect(&mut rx, next, &opts, Duration::ZERO).await;
        assert_eq!((items.len(), next.is_none()), (1, true));
        let (items, _) = collect(&mut rx, item(10), &opts, Duration::ZERO).await;
        assert_eq!(items.len(), 2, "small ones still share an entry");
    }
}
