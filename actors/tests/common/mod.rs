//! Shared test helpers: a simulator on ephemeral ports and handles on its
//! in-process state.
#![allow(dead_code)]

use std::time::Duration;

use smsgw_simulator::config::Account;
use smsgw_simulator::faults::FaultSettings;
use smsgw_simulator::ledger::Filter;
use smsgw_simulator::{Protocol as SimProtocol, SimConfig, Simulator};

pub use smsgw_actors::Protocol;

pub async fn sim() -> Simulator {
    Simulator::start(SimConfig::for_tests())
        .await
        .expect("simulator starts")
}

pub fn sim_protocol(p: Protocol) -> SimProtocol {
    match p {
        Protocol::Cmpp => SimProtocol::Cmpp,
        Protocol::Sgip => SimProtocol::Sgip,
        Protocol::Smgp => SimProtocol::Smgp,
        Protocol::Smpp => SimProtocol::Smpp,
    }
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
    sim.addr(sim_protocol(p)).expect("listener").to_string()
}

/// Changes the default account of `p`.
pub fn set_account(sim: &Simulator, p: Protocol, f: impl FnOnce(&mut Account)) {
    let mut a = sim
        .shared()
        .account(sim_protocol(p), login(p))
        .expect("default account");
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
