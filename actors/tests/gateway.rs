//! The actors end to end against the simulator over TCP: every message
//! received once with its text and destination, every report reconciled.

mod common;

use std::time::Duration;

use common::*;
use smsgw_actors::{MessageState, Priority};
use smsgw_simulator::config::ReportPolicy;

async fn send_and_reconcile(p: Protocol) {
    let sim = sim().await;
    let (gw, store) = gateway(&sim, carrier(&sim, p, "c1", 2, 16)).await;
    let msgs = messages(1, 300, Priority::Normal);
    gw.send(msgs.clone());
    let states = wait_done(&store, &msgs, Duration::from_secs(20)).await;
    assert!(
        states.values().all(|s| *s == MessageState::Delivered),
        "{p}: {states:?}"
    );
    assert_received_once(&sim, &msgs);
    let st = gw.reconcile_stats().await.unwrap();
    // 270 short + 30 three-part messages.
    assert_eq!(st.matched, 270 + 90, "{p}: {st:?}");
    assert_eq!(
        (st.unmatched, st.tracked_messages, st.awaiting_reports),
        (0, 0, 0),
        "{p}: {st:?}"
    );
    assert!(
        store.batches() < 360,
        "{p}: results are batched ({} batches)",
        store.batches()
    );
    gw.stop().await;
}

#[tokio::test]
async fn cmpp_messages_received_once_and_reconciled() {
    send_and_reconcile(Protocol::Cmpp).await;
}

#[tokio::test]
async fn sgip_messages_received_once_and_reconciled() {
    send_and_reconcile(Protocol::Sgip).await;
}

#[tokio::test]
async fn smgp_messages_received_once_and_reconciled() {
    send_and_reconcile(Protocol::Smgp).await;
}

#[tokio::test]
async fn smpp_messages_received_once_and_reconciled() {
    send_and_reconcile(Protocol::Smpp).await;
}

#[tokio::test]
async fn early_reports_are_matched() {
    for p in [Protocol::Cmpp, Protocol::Sgip, Protocol::Smgp, Protocol::Smpp] {
        let sim = sim().await;
        sim.shared().set_report_policy(ReportPolicy {
            delay_ms: [0, 0],
            early_fraction: 1.0,
            ..ReportPolicy::default()
        });
        let (gw, store) = gateway(&sim, carrier(&sim, p, "c1", 1, 16)).await;
        let msgs = messages(1, 100, Priority::Normal);
        gw.send(msgs.clone());
        let states = wait_done(&store, &msgs, Duration::from_secs(10)).await;
        assert!(states.values().all(|s| *s == MessageState::Delivered), "{p}");
        let st = gw.reconcile_stats().await.unwrap();
        assert_eq!(st.matched, 90 + 30, "{p}: {st:?}");
        assert_eq!(st.unmatched, 0, "{p}");
        // SGIP reports travel on the carrier's own link, so only some
        // overtake their response; on the others every one does.
        if p != Protocol::Sgip {
            assert_eq!(st.early, 90 + 30, "{p}: {st:?}");
        }
        eprintln!("{p}: {} of 120 reports arrived before their response", st.early);
        gw.stop().await;
    }
}

#[tokio::test]
async fn failed_reports_make_the_long_message_fail() {
    let sim = sim().await;
    sim.shared().set_report_policy(ReportPolicy {
        delay_ms: [0, 2],
        mix: smsgw_simulator::config::OutcomeMix {
            delivered: 0,
            undeliverable: 1,
            expired: 0,
            rejected: 0,
        },
        early_fraction: 0.0,
    });
    let (gw, store) = gateway(&sim, carrier(&sim, Protocol::Cmpp, "c1", 1, 16)).await;
    let msgs = messages(10, 1, Priority::Normal);
    gw.send(msgs.clone());
    let states = wait_done(&store, &msgs, Duration::from_secs(10)).await;
    assert_eq!(states[&10], MessageState::Undeliverable);
    let parts =
        store.count(|e| matches!(e, smsgw_actors::Event::PartDone { part, .. } if part.message == 10));
    assert_eq!(parts, 3);
    gw.stop().await;
}

#[tokio::test]
async fn no_report_by_the_deadline_expires() {
    let sim = sim().await;
    set_faults(
        &sim,
        smsgw_simulator::faults::FaultSettings {
            stop_reports: true,
            ..Default::default()
        },
    );
    let mut spec = carrier(&sim, Protocol::Smgp, "c1", 1, 16);
    spec.cfg.session.tick = Duration::from_millis(10);
    let store = std::sync::Arc::new(smsgw_actors::MemoryStore::new());
    let mut cfg = smsgw_actors::GatewayConfig::simple(vec![spec]);
    cfg.reconciler.sweep_every = Duration::from_millis(20);
    let gw = smsgw_actors::Gateway::start(cfg, store.clone()).await.unwrap();
    wait_sessions(&gw, 1).await;
    let mut msgs = messages(10, 2, Priority::Normal);
    for m in &mut msgs {
        m.valid_until = std::time::Instant::now() + Duration::from_millis(300);
    }
    gw.send(msgs.clone());
    let states = wait_done(&store, &msgs, Duration::from_secs(5)).await;
    assert!(states.values().all(|s| *s == MessageState::Expired), "{states:?}");
    let st = gw.reconcile_stats().await.unwrap();
    assert_eq!(st.expired, 4, "{st:?}");
    assert_eq!(st.awaiting_reports, 0);
    gw.stop().await;
}
