//! Shared test helpers: a simulator on ephemeral ports and handles on its
//! in-process state.
#![allow(dead_code)]

use std::time::Duration;

use smsgw_simulator::config::Account;
use smsgw_simulator::faults::FaultSettings;
use smsgw_simulator::ledger::Filter;
use smsgw_simulator::{SimConfig, Simulator};

pub use smsgw_actors::Protocol;

pub async fn sim() -> Simulator {
    Simulator::start(SimConfig::for_tests())
        .await
        .expect("simulator starts")
}

/// The default simulator login of each protocol.
pub fn login(p: Protocol) -> &'static str {
    match p {
        Protocol::Cmpp | Protocol::Sgip => "900001",
        Protocol::Smgp => "90000001",
        Protocol::Smpp => "smsgw",
    }
}

pub fn addr(sim: &Simulator, p: Protocol) -> String {
    sim.addr(p).expect("listener").to_string()
}

/// Changes the default account of `p`.
pub fn set_account(sim: &Simulator, p: Protocol, f: impl FnOnce(&mut Account)) {
    let mut a = sim.shared().account(p, login(p)).expect("default account");
    f(&mut a);
    sim.shared().update_account(a);
}

pub fn set_faults(sim: &Simulator, f: FaultSettings) {
    sim.shared().faults.set(f);
}

pub fn records_to(sim: &Simulator, destination: &str) -> Vec<smsgw_simulator::ledger::SubmitRecord> {
    sim.shared().ledger.submits(&Filter {
        destination: Some(destination.to_string()),
        limit: Some(10_000),
        ..Filter::default()
    })
}

pub fn all_records(sim: &Simulator) -> Vec<smsgw_simulator::ledger::SubmitRecord> {
    sim.shared().ledger.submits(&Filter {
        limit: Some(10_000_000),
        ..Filter::default()
    })
}

/// Polls `f` every 10 ms until it holds or `limit` passes; returns whether
/// it held.
pub async fn eventually(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if f() {
            return true;
        }
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

use std::collections::HashMap;
use std::sync::Arc;

use smsgw_actors::dispatcher::RouteConfig;
use smsgw_actors::{
    CarrierConfig, CarrierSpec, Gateway, GatewayConfig, MemoryStore, MessageState, OutboundMessage, Priority,
};

/// Test settings of a carrier: quick timers, `sessions` links of `window`.
pub fn carrier(sim: &Simulator, p: Protocol, name: &str, sessions: usize, window: usize) -> CarrierSpec {
    let mut cfg = CarrierConfig::new(name, &addr(sim, p), login(p), "secret");
    cfg.sessions = sessions;
    cfg.session.window = window;
    cfg.session.backoff_min = Duration::from_millis(20);
    cfg.session.backoff_max = Duration::from_millis(300);
    cfg.session.tick = Duration::from_millis(20);
    cfg.session.response_timeout = Duration::from_secs(5);
    CarrierSpec::new(p, cfg)
}

/// A gateway with one carrier of protocol `p` named "c1" behind a
/// catch-all route; SGIP pushes are pointed at the gateway's listener.
pub async fn gateway(sim: &Simulator, spec: CarrierSpec) -> (Gateway, Arc<MemoryStore>) {
    let p = spec.protocol;
    let n = spec.cfg.sessions;
    let store = Arc::new(MemoryStore::new());
    let gw = Gateway::start(GatewayConfig::simple(vec![spec]), store.clone())
        .await
        .expect("gateway starts");
    if p == Protocol::Sgip {
        let at = gw.sgip_addr("c1").expect("sgip listener");
        set_account(sim, p, |a| a.sgip_sp_addr = Some(at));
    }
    wait_sessions(&gw, n).await;
    (gw, store)
}

pub async fn wait_sessions(gw: &Gateway, n: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        if gw.dispatch_stats().await.is_some_and(|s| s.sessions_up >= n) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "sessions never came up");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub fn dest(i: u64) -> String {
    format!("1390{i:07}")
}

/// `n` messages from `first`; every 10th is a 3-part Chinese text.
pub fn messages(first: u64, n: u64, priority: Priority) -> Vec<OutboundMessage> {
    (first..first + n)
        .map(|i| {
            let text = if i % 10 == 0 {
                "长".repeat(150)
            } else {
                format!("msg {i}")
            };
            OutboundMessage::new(
                i,
                "acct",
                priority,
                "10658899",
                &dest(i),
                &text,
                Duration::from_secs(60),
            )
        })
        .collect()
}

/// Waits until every message in `msgs` has a final state.
pub async fn wait_done(
    store: &MemoryStore,
    msgs: &[OutboundMessage],
    limit: Duration,
) -> HashMap<u64, MessageState> {
    let ok = eventually(limit, || {
        let s = store.message_states();
        msgs.iter().all(|m| s.contains_key(&m.id))
    })
    .await;
    let states = store.message_states();
    assert!(
        ok,
        "only {} of {} messages finished",
        msgs.iter().filter(|m| states.contains_key(&m.id)).count(),
        msgs.len()
    );
    states
}

/// Every message reached the simulator exactly once per part, with its text.
pub fn assert_received_once(sim: &Simulator, msgs: &[OutboundMessage]) {
    let mut by_dest: HashMap<String, Vec<smsgw_simulator::ledger::SubmitRecord>> = HashMap::new();
    for r in all_records(sim) {
        by_dest.entry(r.destination.clone()).or_default().push(r);
    }
    for m in msgs {
        let recs = by_dest.get(&m.destination).cloned().unwrap_or_default();
        let mut recs: Vec<_> = recs.into_iter().collect();
        recs.sort_by_key(|r| r.concat.map(|c| c.seq).unwrap_or(1));
        let parts = if m.text.chars().count() > 70 { 3 } else { 1 };
        assert_eq!(
            recs.len(),
            parts,
            "message {} to {}: {} submits",
            m.id,
            m.destination,
            recs.len()
        );
        let text: String = recs.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(text, m.text, "message {}", m.id);
    }
}

pub fn route(primary: &str, backup: Option<&str>) -> RouteConfig {
    RouteConfig {
        name: "r".into(),
        prefixes: vec![String::new()],
        primary: primary.into(),
        backup: backup.map(Into::into),
    }
}
