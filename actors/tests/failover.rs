//! A new leader takes over messages an old leader started (MemoryStore +
//! simulator): parts whose carrier id was committed are not submitted
//! again and their reports, which the carrier sends after the old leader
//! is gone, are matched; a part whose outcome was committed counts as
//! done; only parts with neither are sent, once.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use smsgw_actors::{
    Event, Gateway, GatewayConfig, MemoryStore, MessageState, PartId, PartOutcome, Priority, Store,
};
use smsgw_protocols::report::ReportState;
use smsgw_simulator::config::ReportPolicy;

fn carrier_id_of(e: &Event, message: u64, seq: u8) -> bool {
    matches!(e, Event::CarrierId { part, .. } if *part == PartId { message, seq })
}

fn delivered(message: u64, seq: u8) -> Event {
    Event::PartDone {
        part: PartId { message, seq },
        outcome: PartOutcome::Reported {
            state: ReportState::Delivered,
            stat: "DELIVRD".into(),
        },
    }
}

#[tokio::test]
async fn a_new_leader_resends_only_parts_without_a_committed_carrier_id() {
    let sim = sim().await;
    // Reports come well after the old leader is gone.
    sim.shared().set_report_policy(ReportPolicy {
        delay_ms: [2500, 2500],
        early_fraction: 0.0,
        ..ReportPolicy::default()
    });
    let store = Arc::new(MemoryStore::new());
    let cfg = || GatewayConfig::simple(vec![carrier(&sim, Protocol::Cmpp, "c1", 1, 16)]);

    // The old leader submits 20 messages (10 and 20 have 3 parts: 24 parts).
    let old = Gateway::start(cfg(), store.clone()).await.expect("old leader");
    wait_sessions(&old, 1).await;
    let started = messages(1, 20, Priority::Normal);
    old.send(started.clone());
    let ids = |s: &MemoryStore| s.count(|e| matches!(e, Event::CarrierId { .. }));
    assert!(
        eventually(Duration::from_secs(5), || ids(&store) == 24).await,
        "carrier ids committed: {}",
        ids(&store)
    );
    old.stop().await;
    assert_eq!(all_records(&sim).len(), 24);

    // What the crash left: two carrier ids never committed (1.1 and 10.2,
    // in flight), a report committed for 5.1 (its message not closed yet)
    // and for 20.1.
    store.drop_events(|e| carrier_id_of(e, 1, 1) || carrier_id_of(e, 10, 2));
    store
        .propose_batch(vec![delivered(5, 1), delivered(20, 1)])
        .await
        .expect("commit");

    // The new leader: the started messages and 10 it never sent (21..30;
    // 30 has 3 parts: 12 parts).
    let fresh = messages(21, 10, Priority::Normal);
    let mut all = started.clone();
    all.extend(fresh.iter().cloned());
    store.set_pending(all.clone());
    let new = Gateway::start(cfg(), store.clone()).await.expect("new leader");
    wait_sessions(&new, 1).await;
    new.set_leader(true).await.expect("leader");

    // 5's report was recorded before the failover: it is finished at once,
    // long before any report can come.
    assert!(
        eventually(Duration::from_secs(1), || store.message_states().contains_key(&5)).await,
        "message 5 finished from its recorded report"
    );
    let states = wait_done(&store, &all, Duration::from_secs(20)).await;
    assert!(
        all.iter()
            .all(|m| states.get(&m.id) == Some(&MessageState::Delivered)),
        "{states:?}"
    );

    // Sent twice: only the parts whose carrier id was lost.
    for m in &all {
        let parts = if m.text.chars().count() > 70 { 3 } else { 1 };
        let twice = usize::from(m.id == 1 || m.id == 10);
        assert_eq!(
            records_to(&sim, &m.destination).len(),
            parts + twice,
            "message {}",
            m.id
        );
    }
    let d = new.dispatch_stats().await.expect("dispatcher");
    // 1.1 + 10.2 + the 12 fresh parts; 24 - 2 lost - 2 reported awaited.
    assert_eq!((d.failover_resent, d.failover_awaiting), (14, 20), "{d:?}");
    let st = new.reconcile_stats().await.expect("reconciler");
    // 20 awaited + 2 resent + 12 fresh; the old ids of 1.1 and 10.2 and
    // the second reports of 5.1 and 20.1 wait (held) and match nothing here.
    assert_eq!(
        (st.matched, st.unmatched, st.resumed_awaiting),
        (34, 0, 20),
        "{st:?}"
    );
    assert_eq!((st.tracked_messages, st.awaiting_reports), (0, 0), "{st:?}");
    eprintln!(
        "failover: {} parts resent, {} awaited, {} submits in all",
        d.failover_resent,
        d.failover_awaiting,
        all_records(&sim).len()
    );
    new.stop().await;
}
