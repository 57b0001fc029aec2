//! A delivery report is answered to the carrier only once the fact derived
//! from it is committed: while the store refuses every proposal the report
//! stays unacknowledged, and it is recorded once the store is back.

mod common;

use std::time::Duration;

use common::*;
use smsgw_actors::{Event, Gateway, Priority};

/// Waits until the reconciler's stats satisfy `f`.
async fn wait_stats(
    gw: &Gateway,
    limit: Duration,
    f: impl Fn(&smsgw_actors::reconcile::ReconcileStats) -> bool,
) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if gw.reconcile_stats().await.is_some_and(|s| f(&s)) {
            return true;
        }
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_report_is_acknowledged_only_after_its_commit() {
    let sim = sim().await;
    let (gw, store) = gateway(&sim, carrier(&sim, Protocol::Cmpp, "c1", 1, 16)).await;
    // Every proposal fails until released.
    store.fail_next(1_000_000);
    let msgs = messages(1, 1, Priority::Normal);
    gw.send(msgs.clone());
    // The report came and was matched, but nothing is committed: its answer waits.
    assert!(
        wait_stats(&gw, Duration::from_secs(5), |s| s.matched == 1
            && s.acks_pending == 1)
        .await,
        "report matched and waiting for its commit: {:?}",
        gw.reconcile_stats().await
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(store.message_states().is_empty(), "nothing committed yet");
    assert_eq!(
        gw.reconcile_stats().await.map(|s| s.acks_pending),
        Some(1),
        "still unanswered"
    );
    // The store is back: committed, then answered.
    store.fail_next(0);
    let states = wait_done(&store, &msgs, Duration::from_secs(5)).await;
    assert!(states
        .values()
        .all(|s| *s == smsgw_actors::MessageState::Delivered));
    assert!(
        wait_stats(&gw, Duration::from_secs(5), |s| s.acks_pending == 0).await,
        "answered after the commit"
    );
    assert_eq!(
        store.count(|e| matches!(e, Event::PartDone { .. })),
        1,
        "recorded once"
    );
    assert_eq!(store.count(|e| matches!(e, Event::MessageDone { .. })), 1);
    gw.stop().await;
}
