//! A session's window slot is freed when its submit's result is committed,
//! not when the carrier answers (over real sockets, the simulator as the
//! carrier): with the store's commits held, a session sends one window and
//! no more; while commits trickle in, what the carrier holds never exceeds
//! the committed results by more than one window; once all is committed,
//! the whole window is free again. That is what bounds the
//! repeats after a kill -9 of the leader (the new leader sends again what
//! was sent and not committed). Before, a slot freed at the answer and
//! the session sent everything while the commits waited.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use futures::future::BoxFuture;
use smsgw_actors::model::{OutboundMessage, PartId};
use smsgw_actors::{Event, Gateway, GatewayConfig, MemoryStore, PartOutcome, Priority, Store, StoreError};
use tokio::sync::watch;

const WINDOW: usize = 8;

/// A [`MemoryStore`] whose commits wait while the gate is closed, and then
/// take `delay_ms` each.
struct Gated {
    inner: Arc<MemoryStore>,
    open: watch::Receiver<bool>,
    delay_ms: AtomicU64,
}

impl Store for Gated {
    fn propose_batch(&self, events: Vec<Event>) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let mut open = self.open.clone();
            let _ = open.wait_for(|o| *o).await;
            let d = self.delay_ms.load(Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(d)).await;
            self.inner.propose_batch(events).await
        })
    }

    fn pending_messages(&self) -> BoxFuture<'_, Result<Vec<OutboundMessage>, StoreError>> {
        self.inner.pending_messages()
    }

    fn find_part<'a>(
        &'a self,
        carrier: &'a str,
        carrier_msg_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<PartId>, StoreError>> {
        self.inner.find_part(carrier, carrier_msg_id)
    }
}

/// Submit results committed: carrier ids and failures.
fn committed(store: &MemoryStore) -> usize {
    store.count(|e| {
        matches!(
            e,
            Event::CarrierId { .. }
                | Event::PartDone {
                    outcome: PartOutcome::SubmitFailed(_),
                    ..
                }
        )
    })
}

#[tokio::test]
async fn a_session_never_has_more_than_a_window_sent_and_not_committed() {
    let sim = sim().await;
    let store = Arc::new(MemoryStore::new());
    let (gate, open) = watch::channel(false);
    let gated = Arc::new(Gated {
        inner: store.clone(),
        open,
        delay_ms: AtomicU64::new(0),
    });
    let gw = Gateway::start(
        GatewayConfig::simple(vec![carrier(&sim, Protocol::Cmpp, "c1", 1, WINDOW)]),
        gated.clone(),
    )
    .await
    .expect("gateway starts");
    wait_sessions(&gw, 1).await;

    // 60 messages, 6 of them in 3 parts: 72 parts, nine windows.
    let msgs = messages(1, 60, Priority::Normal);
    gw.send(msgs.clone());

    // Commits held: one window goes out, answered, and nothing more.
    assert!(
        eventually(Duration::from_secs(5), || all_records(&sim).len() >= WINDOW).await,
        "the first window was not sent: {}",
        all_records(&sim).len()
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    let sent = all_records(&sim).len();
    assert_eq!(committed(&store), 0);
    assert_eq!(
        sent, WINDOW,
        "with no result committed the session sent {sent}, over its window of {WINDOW}"
    );

    // Commits of 40 ms each: the carrier never holds more than a window
    // beyond what is committed (sent is read first: commits only grow).
    gated.delay_ms.store(40, Ordering::Relaxed);
    gate.send_replace(true);
    let mut worst = 0usize;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let sent = all_records(&sim).len();
        let done = committed(&store);
        worst = worst.max(sent.saturating_sub(done));
        assert!(
            sent <= done + WINDOW,
            "{sent} parts at the carrier, {done} results committed: over one window of {WINDOW}"
        );
        if done >= 72 || tokio::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    println!("most sent and not committed: {worst} (window {WINDOW})");
    wait_done(&store, &msgs, Duration::from_secs(30)).await;
    assert_received_once(&sim, &msgs);

    // Every slot came back: with commits held again, a whole window (and
    // no more) goes out once more.
    gate.send_replace(false);
    let before = all_records(&sim).len();
    let more = messages(101, 20, Priority::Normal);
    gw.send(more.clone());
    assert!(
        eventually(Duration::from_secs(5), || all_records(&sim).len()
            >= before + WINDOW)
        .await,
        "slots were lost: {} sent of a window of {WINDOW}",
        all_records(&sim).len() - before
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(all_records(&sim).len() - before, WINDOW);
    gate.send_replace(true);
    wait_done(&store, &more, Duration::from_secs(30)).await;
    gw.stop().await;
}
