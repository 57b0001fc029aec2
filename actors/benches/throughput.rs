//! Messages per second from queue to submit response to report reconciled,
//! one node against the in-process simulator with no TPS ceiling and
//! immediate reports. Prints the figure and the process's CPU use (the
//! simulator runs in the same process, so its CPU is included).
//!
//! `cargo bench -p smsgw-actors --bench throughput [-- PROTOCOL N SESSIONS WINDOW]`

use std::sync::Arc;
use std::time::{Duration, Instant};

use smsgw_actors::{
    CarrierConfig, CarrierSpec, Gateway, GatewayConfig, MemoryStore, OutboundMessage, Priority, Protocol,
};
use smsgw_simulator::config::ReportPolicy;
use smsgw_simulator::{SimConfig, Simulator};

/// User + system CPU seconds of this process so far.
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may contain spaces).
    let rest = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 (1-based), 12 and 13 here.
    (ticks(11) + ticks(12)) / 100.0
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let proto = match args.first().map(String::as_str) {
        Some("sgip") => Protocol::Sgip,
        Some("smgp") => Protocol::Smgp,
        Some("smpp") => Protocol::Smpp,
        _ => Protocol::Cmpp,
    };
    let n: u64 = args.get(1).and_then(|v| v.parse().ok()).unwrap_or(50_000);
    let sessions: usize = args.get(2).and_then(|v| v.parse().ok()).unwrap_or(4);
    let window: usize = args.get(3).and_then(|v| v.parse().ok()).unwrap_or(64);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run(proto, n, sessions, window));
}

async fn run(proto: Protocol, n: u64, sessions: usize, window: usize) {
    let mut sc = SimConfig::for_tests();
    sc.reports = ReportPolicy {
        delay_ms: [0, 0],
        ..ReportPolicy::default()
    };
    sc.max_records = 0;
    let sim = Simulator::start(sc).await.expect("simulator");
    let (sp, login) = match proto {
        Protocol::Cmpp => (Protocol::Cmpp, "900001"),
        Protocol::Sgip => (Protocol::Sgip, "900001"),
        Protocol::Smgp => (Protocol::Smgp, "90000001"),
        Protocol::Smpp => (Protocol::Smpp, "smsgw"),
    };
    let mut acct = sim.shared().account(sp, login).expect("account");
    acct.window = window;
    sim.shared().update_account(acct);
    let addr = sim.addr(sp).expect("listener").to_string();
    let mut cfg = CarrierConfig::new("c1", &addr, login, "secret");
    cfg.sessions = sessions;
    cfg.session.window = window;
    let store = Arc::new(MemoryStore::new());
    let gw = Gateway::start(
        GatewayConfig::simple(vec![CarrierSpec::new(proto, cfg)]),
        store.clone(),
    )
    .await
    .expect("gateway");
    if proto == Protocol::Sgip {
        let at = gw.sgip_addr("c1");
        let mut a = sim.shared().account(sp, login).expect("account");
        a.sgip_sp_addr = at;
        sim.shared().update_account(a);
    }
    while gw.dispatch_stats().await.is_none_or(|s| s.sessions_up < sessions) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let msgs: Vec<OutboundMessage> = (1..=n)
        .map(|i| {
            OutboundMessage::new(
                i,
                "bench",
                Priority::Normal,
                "10658899",
                &format!("139{i:08}"),
                "benchmark message",
                Duration::from_secs(600),
            )
        })
        .collect();
    let cpu0 = cpu_secs();
    let t0 = Instant::now();
    gw.send(msgs);
    loop {
        let st = gw.reconcile_stats().await.expect("stats");
        if st.messages_done >= n {
            break;
        }
        if t0.elapsed() > Duration::from_secs(300) {
            eprintln!("gave up: {st:?}");
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let secs = t0.elapsed().as_secs_f64();
    let cpu = cpu_secs() - cpu0;
    let st = gw.reconcile_stats().await.expect("stats");
    println!(
        "{proto}: {n} messages, {sessions} sessions x window {window}: {secs:.2} s, {:.0} msg/s queue->response->report reconciled; CPU {cpu:.2} s ({:.0} % of one core, simulator included); matched {} unmatched {} store batches {}",
        n as f64 / secs,
        100.0 * cpu / secs,
        st.matched,
        st.unmatched,
        store.batches()
    );
    gw.stop().await;
}
