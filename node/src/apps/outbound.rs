//! Events to one receiving session, whatever its protocol: each event is
//! written as the protocol's deliver PDU (at most [`DELIVER_WINDOW`]
//! unanswered) and its outcome reported to [`super::delivery`] once the
//! application answered it, or as not delivered after [`DELIVER_WAIT`] or
//! when the session ends. It never reports an event delivered that the
//! application did not acknowledge.
//!
//! One map per session holds what waits for an answer; the answer settles
//! its entry directly, and one sweeper task per session settles the ones
//! past their time (no task or timer per delivered event).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use smsgw_state::events::Event;
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};

use super::hub::Outbound;

/// Most deliver PDUs of one session waiting for their answer.
pub const DELIVER_WINDOW: usize = 64;
/// How long a deliver PDU may wait for its answer before it counts as not delivered.
pub const DELIVER_WAIT: Duration = Duration::from_secs(10);
/// How often the sweeper looks for deliveries past [`DELIVER_WAIT`].
const SWEEP: Duration = Duration::from_millis(500);

/// A deliver PDU waiting for its answer.
struct Waiting {
    done: oneshot::Sender<bool>,
    deadline: Instant,
    /// Its place in the session's delivery window.
    _slot: OwnedSemaphorePermit,
}

/// Deliver PDUs waiting for their answer, by sequence number.
#[derive(Default)]
pub struct Pending {
    waiting: Mutex<HashMap<u32, Waiting>>,
    /// Acknowledged deliveries (for `GET /v1/admin/sessions`).
    delivered: Arc<AtomicU64>,
}

impl Pending {
    /// The pending deliveries of a session counting into `delivered`.
    pub fn new(delivered: Arc<AtomicU64>) -> Arc<Pending> {
        Arc::new(Pending {
            waiting: Mutex::default(),
            delivered,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u32, Waiting>> {
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The application answered sequence `seq` (`ok`: with success).
    pub fn answered(&self, seq: u32, ok: bool) {
        let Some(w) = self.lock().remove(&seq) else {
            return;
        };
        if ok {
            self.delivered.fetch_add(1, Ordering::Relaxed);
        }
        let _ = w.done.send(ok);
    }

    /// Everything still waiting counts as not delivered (the session ended).
    pub fn clear(&self) {
        let all: Vec<Waiting> = self.lock().drain().map(|(_, w)| w).collect();
        for w in all {
            let _ = w.done.send(false);
        }
    }

    /// Settles the deliveries past their time as not delivered.
    fn expire(&self, now: Instant) {
        let mut map = self.lock();
        let old: Vec<u32> = map
            .iter()
            .filter(|(_, w)| w.deadline <= now)
            .map(|(s, _)| *s)
            .collect();
        let gone: Vec<Waiting> = old.iter().filter_map(|s| map.remove(s)).collect();
        drop(map);
        for w in gone {
            let _ = w.done.send(false);
        }
    }
}

/// Writes the events handed to a session until its queue closes; `make`
/// gives an event's sequence number and PDU (`None`: the protocol cannot
/// carry it; it is skipped as done, never retried forever).
pub async fn deliver_loop<P: Send + 'static>(
    mut rx: mpsc::Receiver<Outbound>,
    out: mpsc::Sender<P>,
    pending: Arc<Pending>,
    mut make: impl FnMut(&Event) -> Option<(u32, P)>,
) {
    let window = Arc::new(Semaphore::new(DELIVER_WINDOW));
    let sweeper = {
        let pending = Arc::downgrade(&pending);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(SWEEP);
            loop {
                tick.tick().await;
                let Some(p) = pending.upgrade() else { return };
                p.expire(Instant::now());
            }
        })
    };
    while let Some(ob) = rx.recv().await {
        let Ok(slot) = window.clone().acquire_owned().await else {
            break;
        };
        let Some((n, pdu)) = make(&ob.event) else {
            tracing::warn!(
                seq = ob.event.seq,
                "event cannot be written in this protocol; skipped"
            );
            let _ = ob.done.send(true);
            continue;
        };
        let w = Waiting {
            done: ob.done,
            deadline: Instant::now() + DELIVER_WAIT,
            _slot: slot,
        };
        pending.lock().insert(n, w);
        if out.send(pdu).await.is_err() {
            break;
        }
    }
    sweeper.abort();
}
