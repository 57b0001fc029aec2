//! How closely a carrier's TPS ceiling is held over a long run when the
//! carrier accepts everything: the "within ±2 % over a minute".
//!
//! One SMPP carrier (2 sessions, window 16) against the in-process simulator,
//! more messages queued than the ceiling lets through; the rate is measured
//! from the simulator's own arrival times (its ledger), skipping the first
//! second (the bucket starts full). Prints the held rate, its deviation from
//! the ceiling, and the slowest and fastest whole second.
//!
//! `cargo bench -p smsgw-actors --bench tps_hold [-- CEILING SECONDS]`
//! (defaults 500/s for 60 s).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use smsgw_actors::{
    CarrierConfig, CarrierSpec, Gateway, GatewayConfig, MemoryStore, OutboundMessage, Priority, Protocol,
};
use smsgw_simulator::ledger::Filter;
use smsgw_simulator::{SimConfig, Simulator};

fn main() {
    let args: Vec<u64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let ceiling = args.first().copied().unwrap_or(500) as u32;
    let secs = args.get(1).copied().unwrap_or(60);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run(ceiling, secs));
}

async fn run(ceiling: u32, secs: u64) {
    let mut sc = SimConfig::for_tests();
    sc.max_records = (u64::from(ceiling) * (secs + 5)) as usize;
    let sim = Simulator::start(sc).await.expect("simulator");
    let addr = sim.addr(Protocol::Smpp).expect("listener").to_string();
    let mut cfg = CarrierConfig::new("c1", &addr, "smsgw", "secret");
    cfg.sessions = 2;
    cfg.session.window = 16;
    cfg.tps = ceiling;
    let store = Arc::new(MemoryStore::new());
    let gw = Gateway::start(
        GatewayConfig::simple(vec![CarrierSpec::new(Protocol::Smpp, cfg)]),
        store,
    )
    .await
    .expect("gateway");
    while gw.dispatch_stats().await.is_none_or(|s| s.sessions_up < 2) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let n = u64::from(ceiling) * (secs + 3);
    let msgs: Vec<OutboundMessage> = (1..=n)
        .map(|i| {
            OutboundMessage::new(
                i,
                "bench",
                Priority::Normal,
                "10658899",
                &format!("139{i:08}"),
                "t",
                Duration::from_secs(600),
            )
        })
        .collect();
    gw.send(msgs);
    tokio::time::sleep(Duration::from_secs(secs + 1)).await;
    let recs = sim.shared().ledger.submits(&Filter {
        limit: Some(usize::MAX),
        ..Filter::default()
    });
    gw.stop().await;
    let Some(first) = recs.first().map(|r| r.at_ms) else {
        println!("tps_hold: nothing was sent");
        return;
    };
    // Whole seconds after the first one (the initial burst of a full bucket).
    let start = first + 1000;
    let end = start + secs as i64 * 1000 - 1000;
    let mut per_sec: BTreeMap<i64, u64> = BTreeMap::new();
    let mut counted = 0u64;
    for r in recs.iter().filter(|r| r.at_ms >= start && r.at_ms < end) {
        *per_sec.entry((r.at_ms - start) / 1000).or_default() += 1;
        counted += 1;
    }
    let window_s = (end - start) as f64 / 1000.0;
    let rate = counted as f64 / window_s;
    let dev = 100.0 * (rate - f64::from(ceiling)) / f64::from(ceiling);
    let lo = per_sec.values().min().copied().unwrap_or(0);
    let hi = per_sec.values().max().copied().unwrap_or(0);
    println!(
        "tps_hold: ceiling {ceiling}/s, measured over {window_s:.0} s: {rate:.1}/s ({dev:+.2} %), slowest second {lo}, fastest {hi}, throttled by carrier {}",
        sim.shared().ledger.counts().throttled
    );
}
