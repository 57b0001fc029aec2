//! Window and TPS flow control against the simulator.

mod common;

use std::time::{Duration, Instant};

use common::*;
use smsgw_actors::flow::Aimd;
use smsgw_actors::{MessageState, Priority};
use smsgw_simulator::faults::FaultSettings;

#[tokio::test]
async fn window_is_never_exceeded() {
    let sim = sim().await;
    // The carrier allows 4 unanswered submits and answers each after 50 ms.
    set_account(&sim, Protocol::Cmpp, |a| a.window = 4);
    set_faults(
        &sim,
        FaultSettings {
            delay_ms: 50,
            ..Default::default()
        },
    );
    let (gw, store) = gateway(&sim, carrier(&sim, Protocol::Cmpp, "c1", 1, 4)).await;
    let msgs = messages(1, 100, Priority::Normal);
    gw.send(msgs.clone());
    let states = wait_done(&store, &msgs, Duration::from_secs(20)).await;
    assert!(states.values().all(|s| *s == MessageState::Delivered));
    let c = sim.shared().ledger.counts();
    assert_eq!(c.window_rejected, 0, "window overflowed");
    assert_eq!(c.submits, 90 + 30);
    gw.stop().await;
}

/// Submits per second over the records' span, after the first `skip`.
fn measured_rate(sim: &smsgw_simulator::Simulator, skip: usize) -> f64 {
    let mut at: Vec<i64> = all_records(sim).iter().map(|r| r.at_ms).collect();
    at.sort();
    let at = &at[skip..];
    let span = (at[at.len() - 1] - at[0]) as f64 / 1000.0;
    (at.len() - 1) as f64 / span
}

#[tokio::test]
async fn tps_is_held_near_the_ceiling() {
    let sim = sim().await;
    let mut spec = carrier(&sim, Protocol::Smpp, "c1", 2, 16);
    spec.cfg.tps = 100;
    let (gw, store) = gateway(&sim, spec).await;
    // 250 single-part messages: about 2.5 s at 100/s.
    let msgs: Vec<_> = messages(1, 250, Priority::Normal)
        .into_iter()
        .map(|mut m| {
            m.text = format!("t{}", m.id);
            m
        })
        .collect();
    let t0 = Instant::now();
    gw.send(msgs.clone());
    wait_done(&store, &msgs, Duration::from_secs(10)).await;
    let took = t0.elapsed();
    // Skip the initial burst (a few tokens).
    let rate = measured_rate(&sim, 10);
    eprintln!("tps ceiling 100: held {rate:.1}/s over 250 submits (took {took:?})");
    assert!((90.0..=110.0).contains(&rate), "held {rate:.1}/s (took {took:?})");
    assert_eq!(sim.shared().ledger.counts().throttled, 0);
    gw.stop().await;
}

#[tokio::test]
async fn throttling_backs_off_and_recovers() {
    let sim = sim().await;
    // The carrier allows 50/s; we believe 200/s.
    set_account(&sim, Protocol::Cmpp, |a| a.tps = 50);
    let mut spec = carrier(&sim, Protocol::Cmpp, "c1", 1, 16);
    spec.cfg.tps = 200;
    spec.aimd = Some(Aimd {
        increase_per_sec: 100.0,
        decrease_gap: Duration::from_millis(200),
        ..Aimd::with_ceiling(200)
    });
    let (gw, store) = gateway(&sim, spec).await;
    let bucket = gw.bucket("c1").unwrap();
    let msgs: Vec<_> = messages(1, 150, Priority::Normal)
        .into_iter()
        .map(|mut m| {
            m.text = format!("t{}", m.id);
            m
        })
        .collect();
    gw.send(msgs.clone());
    let mut lowest = f64::MAX;
    let done = eventually(Duration::from_secs(15), || {
        lowest = lowest.min(bucket.rate());
        store.message_states().len() == msgs.len()
    })
    .await;
    assert!(done, "not all sent");
    assert!(store
        .message_states()
        .values()
        .all(|s| *s == MessageState::Delivered));
    let throttled = sim.shared().ledger.counts().throttled;
    assert!(throttled > 0, "the carrier never throttled");
    assert!(lowest < 100.0, "rate never backed off (lowest {lowest})");
    // Nothing lost, nothing twice: throttled parts were requeued.
    assert_received_once(&sim, &msgs);

    // The carrier lifts its limit: the rate climbs back to the ceiling.
    set_account(&sim, Protocol::Cmpp, |a| a.tps = 0);
    let more: Vec<_> = messages(1000, 600, Priority::Normal)
        .into_iter()
        .map(|mut m| {
            m.text = format!("t{}", m.id);
            m
        })
        .collect();
    gw.send(more.clone());
    let recovered = eventually(Duration::from_secs(10), || bucket.rate() >= 200.0).await;
    assert!(recovered, "rate stuck at {}", bucket.rate());
    wait_done(&store, &more, Duration::from_secs(15)).await;
    gw.stop().await;
}

#[tokio::test]
async fn drain_answers_everything_in_flight_and_sends_nothing_more() {
    let sim = sim().await;
    set_faults(
        &sim,
        FaultSettings {
            delay_ms: 100,
            ..Default::default()
        },
    );
    let (gw, store) = gateway(&sim, carrier(&sim, Protocol::Smpp, "c1", 2, 8)).await;
    let msgs = messages(1, 200, Priority::Normal);
    gw.send(msgs.clone());
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(gw.drain(Duration::from_secs(5)).await, "drained");
    let sent = sim.shared().ledger.counts().submits;
    assert!(sent < 200 + 20, "it stopped early ({sent} submits)");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        sim.shared().ledger.counts().submits,
        sent,
        "nothing sent after the drain"
    );
    // Leadership back: the rest goes.
    gw.set_leader(true).await.unwrap();
    wait_done(&store, &msgs, Duration::from_secs(20)).await;
    assert_received_once(&sim, &msgs);
    gw.stop().await;
}
