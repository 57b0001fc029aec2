//! Events to one receiving session, whatever its protocol: each event is
//! written as the protocol's deliver PDU (at most [`DELIVER_WINDOW`]
//! unanswered) and its outcome reported to [`super::delivery`] once the
//! application answered it, or as not delivered after [`DELIVER_WAIT`] or
//! when the session ends. It never reports an event delivered that the
//! application did not acknowledge.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use smsgw_state::events::Event;
use tokio::sync::{mpsc, oneshot, Semaphore};

use super::hub::Outbound;

/// Most deliver PDUs of one session waiting for their answer.
pub const DELIVER_WINDOW: usize = 64;
/// How long a deliver PDU may wait for its answer before it counts as not delivered.
pub const DELIVER_WAIT: Duration = Duration::from_secs(10);

/// Deliver PDUs waiting for their answer, by sequence number.
pub type Pending = Arc<Mutex<HashMap<u32, oneshot::Sender<bool>>>>;

/// The application answered sequence `seq` (`ok`: with success).
pub fn answered(pending: &Pending, seq: u32, ok: bool) {
    let waiter = pending.lock().unwrap_or_else(|p| p.into_inner()).remove(&seq);
    if let Some(w) = waiter {
        let _ = w.send(ok);
    }
}

/// Writes the events handed to a session until its queue closes; `make`
/// gives an event's sequence number and PDU (`None`: the protocol cannot
/// carry it; it is skipped as done, never retried forever).
pub async fn deliver_loop<P: Send + 'static>(
    mut rx: mpsc::Receiver<Outbound>,
    out: mpsc::Sender<P>,
    pending: Pending,
    delivered: Arc<AtomicU64>,
    mut make: impl FnMut(&Event) -> Option<(u32, P)>,
) {
    let window = Arc::new(Semaphore::new(DELIVER_WINDOW));
    while let Some(ob) = rx.recv().await {
        let Ok(permit) = window.clone().acquire_owned().await else {
            return;
        };
        let Some((n, pdu)) = make(&ob.event) else {
            tracing::warn!(
                seq = ob.event.seq,
                "event cannot be written in this protocol; skipped"
            );
            let _ = ob.done.send(true);
            continue;
        };
        let (tx, rx_done) = oneshot::channel();
        pending.lock().unwrap_or_else(|p| p.into_inner()).insert(n, tx);
        if out.send(pdu).await.is_err() {
            return;
        }
        let pending = pending.clone();
        let delivered = delivered.clone();
        tokio::spawn(async move {
            let ok = matches!(tokio::time::timeout(DELIVER_WAIT, rx_done).await, Ok(Ok(true)));
            pending.lock().unwrap_or_else(|p| p.into_inner()).remove(&n);
            if ok {
                delivered.fetch_add(1, Ordering::Relaxed);
            }
            let _ = ob.done.send(ok);
            drop(permit);
        });
    }
}
