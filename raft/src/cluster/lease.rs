//! The leader lease: while this node leads, a task confirms its leadership
//! with a quorum round (`get_read_log_id`) every few heartbeats and keeps
//! "round started + shortest election timeout" as the end of the lease.
//! No other node can be elected before that moment (followers wait at
//! least that long after the heartbeat that round sent), so work done only
//! under the lease is never done by two leaders at once.
//!
//! openraft's `millis_since_quorum_ack` is not used for this: it is
//! computed when metrics are reported, so on a leader cut off from the
//! others it can stay small forever. The lease must never be extended by
//! anything but a confirmed round.
//!
//! Nor is `ensure_linearizable`: after the same round it waits for this
//! node's state machine to apply up to the commit index, so an apply that
//! stalls (a snapshot being recorded, a spill) lapsed the lease and paused
//! sending though no other node could be elected. The lease is about
//! leadership only.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::Inner;

/// When this node's lease ends (`None`: it holds none).
#[derive(Default)]
pub(crate) struct Lease(Mutex<Option<Instant>>);

impl Lease {
    pub(crate) fn valid(&self) -> bool {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some_and(|until| Instant::now() < until)
    }

    fn set(&self, until: Option<Instant>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = until;
    }
}

/// Renews `inner`'s lease while it leads, until the task is aborted.
pub(crate) fn spawn(inner: Arc<Inner>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let every = Duration::from_millis(inner.opts.heartbeat_ms.max(10) * 2);
        let length = Duration::from_millis(inner.opts.election_timeout_ms.0);
        loop {
            let (leads, stopped) = {
                let m = inner.raft.metrics();
                let m = m.borrow();
                (m.current_leader == Some(inner.id), m.running_state.is_err())
            };
            // A stopped raft keeps its last metrics (still "leader"), and
            // every call into it logs an error: no rounds until rebuilt.
            let leads = leads && !stopped;
            // A confirming round is a heartbeat: during a planned transfer
            // it would keep the voters from electing the target.
            let transferring = inner.transferring.load(std::sync::atomic::Ordering::Acquire);
            if leads && !transferring {
                let started = Instant::now();
                // Not confirmed in time: the lease runs out on its own.
                if let Ok(Ok(_)) = tokio::time::timeout(length, inner.raft.get_read_log_id()).await {
                    inner.lease.set(Some(started + length));
                }
            } else {
                inner.lease.set(None);
            }
            tokio::time::sleep(every).await;
        }
    })
}
