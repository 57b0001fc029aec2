//! Three real nodes sharing one carrier simulator (`smsgw sim --ephemeral`,
//! its own process): a live TPS change reaches the leader's metrics without
//! any reconnect; POSTs to a follower are delivered; killing the leader
//! with -9 mid-load loses nothing (duplicates only for parts in flight);
//! planned switchovers mid-load send nothing twice.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::sim_cluster::{apply, cluster, leader_index, metric, Sim, KEY};
use common::{cli, http};
use serde_json::json;

#[test]
fn config_apply_changes_tps_live_without_reconnecting() {
    let sim = Sim::start();
    let nodes = cluster(&sim, 100);
    let logins = sim.counts()["logins_ok"].as_u64().expect("logins");
    assert!(logins >= 3, "every node logged in: {logins}");
    apply(&nodes, &sim, 37);
    let leader = &nodes[leader_index(&nodes)];
    let deadline = Instant::now() + Duration::from_secs(10);
    while metric(leader, "smsgw_carrier_tps_ceiling{carrier=\"cm\"}") != Some(37.0) {
        assert!(Instant::now() < deadline, "tps 37 not in the leader's metrics");
        std::thread::sleep(Duration::from_millis(100));
    }
    // A message still goes through, and nobody logged in again.
    let r = nodes[0].post(KEY, &json!({"to": ["13800138000"], "text": "after the change"}));
    assert_eq!(r.status, 202, "{:?}", r.body);
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        sim.counts()["logins_ok"].as_u64(),
        Some(logins),
        "no session reconnected"
    );
}

#[test]
fn leader_killed_mid_load_loses_nothing() {
    let sim = Sim::start();
    let mut nodes = cluster(&sim, 2000);
    let li = leader_index(&nodes);
    let fi = (li + 1) % 3;
    let follower_http = nodes[fi].http.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let (accepted, clients) = load(&follower_http, 0, 8, &stop);
    let wait_for = |n: usize| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while accepted.lock().unwrap_or_else(|p| p.into_inner()).len() < n {
            assert!(Instant::now() < deadline, "load stalled");
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    wait_for(300);
    let _ = nodes[li].child.kill(); // SIGKILL
    let _ = nodes[li].child.wait();
    let killed_at = accepted.lock().unwrap_or_else(|p| p.into_inner()).len();
    wait_for(killed_at + 300);
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().expect("client");
    }
    let accepted = accepted.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let survivor = &nodes[fi];
    // Every message reaches DELIVERED. A report the old leader received
    // but had not committed at the kill was never acknowledged to the
    // carrier (acks follow the commit), so the carrier re-delivers it to
    // the new leader once the old link closes.
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut pending: Vec<&(String, String)> = accepted.iter().collect();
    let status = |id: &str| {
        survivor
            .call("GET", &format!("/v1/messages/{id}"), Some(KEY), None)
            .body
    };
    loop {
        pending.retain(|(id, _)| status(id)["status"] != "DELIVERED");
        if pending.is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            for (i, n) in nodes.iter().enumerate() {
                let err = n.stderr.lock().unwrap_or_else(|p| p.into_inner()).clone();
                let _ = std::fs::write(
                    std::env::temp_dir().join(format!("gateway_cluster-node{}.log", i + 1)),
                    err,
                );
            }
            let left_submitted = pending
                .iter()
                .filter(|(id, _)| status(id)["status"] == "SUBMITTED")
                .count();
            eprintln!("simulator counts: {}", sim.counts());
            panic!(
                "{} of {} accepted messages not delivered ({left_submitted} left SUBMITTED), e.g. {:?}",
                pending.len(),
                accepted.len(),
                status(&pending[0].0)
            );
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    let lost_reports = pending.len();
    eprintln!("simulator counts: {}", sim.counts());
    let subs = http(&sim.control, "GET", "/submits?limit=1000000", None, None);
    let mut by_dest: HashMap<String, u64> = HashMap::new();
    for s in subs.body.as_array().expect("submits") {
        *by_dest
            .entry(s["destination"].as_str().unwrap_or("").to_string())
            .or_default() += 1;
    }
    let mut dups = 0;
    for (_, to) in &accepted {
        let n = by_dest.get(to).copied().unwrap_or(0);
        assert!(n >= 1, "{to} never reached the carrier");
        dups += n - 1;
    }
    // Parts the new leader queued with no committed carrier id: those in
    // flight at the kill are among them, and only they may go twice.
    let resent: f64 = nodes
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != li)
        .filter_map(|(_, n)| metric(n, "smsgw_failover_resent_parts_total"))
        .sum();
    let awaiting: f64 = nodes
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != li)
        .filter_map(|(_, n)| metric(n, "smsgw_failover_awaiting_parts_total"))
        .sum();
    eprintln!(
        "failover: {} accepted ({} before the kill), {lost_reports} left SUBMITTED, the rest DELIVERED; duplicate submits: {dups}; \
         parts resent by the new leader (no committed carrier id): {resent}; taken over awaiting their report: {awaiting}",
        accepted.len(),
        killed_at
    );
    assert!(
        dups as f64 <= resent,
        "only parts with no committed carrier id at the kill go twice: {dups} > {resent}"
    );
    // One session of window 16 on the old leader, plus the answers it had
    // not committed yet (one reconciler batch).
    assert!(dups <= 16 + 8, "duplicates bounded by the window: {dups}");
    drop(nodes.remove(li));
}

/// What a load recorded: (id, destination) of every accepted message.
type Accepted = Arc<Mutex<Vec<(String, String)>>>;

/// `clients` clients posting one message per request to `http_addr` until
/// `stop`, to destinations of their own (`tag` tells loads apart); every
/// 202 is recorded as (id, destination).
fn load(
    http_addr: &str,
    tag: usize,
    clients: usize,
    stop: &Arc<AtomicBool>,
) -> (Accepted, Vec<std::thread::JoinHandle<()>>) {
    let accepted: Accepted = Arc::default();
    let mut handles = Vec::new();
    for c in 0..clients {
        let (acc, stop, http_addr) = (accepted.clone(), stop.clone(), http_addr.to_string());
        handles.push(std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let to = format!("137{tag}{c}{i:06}");
                i += 1;
                let body = json!({"to": [to], "text": "cluster drill"}).to_string();
                let r = http(
                    &http_addr,
                    "POST",
                    "/v1/messages",
                    Some(KEY),
                    Some(body.as_bytes()),
                );
                if r.status == 202 {
                    let id = r.body["messages"][0]["id"].as_str().unwrap_or("").to_string();
                    acc.lock().unwrap_or_else(|p| p.into_inner()).push((id, to));
                } else {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        }));
    }
    (accepted, handles)
}

#[test]
fn planned_switchovers_mid_load_send_nothing_twice() {
    let sim = Sim::start();
    let nodes = cluster(&sim, 2000);
    let stop = Arc::new(AtomicBool::new(false));
    // Load through every node in turn, so some writes are forwarded.
    let mut accepted_all = Vec::new();
    let mut handles_all = Vec::new();
    for (k, n) in nodes.iter().enumerate() {
        let (acc, handles) = load(&n.http, k, 3, &stop);
        accepted_all.push(acc);
        handles_all.extend(handles);
    }
    let count = |accs: &[Accepted]| {
        accs.iter()
            .map(|a| a.lock().unwrap_or_else(|p| p.into_inner()).len())
            .sum::<usize>()
    };
    let wait_more = |n: usize| {
        let target = count(&accepted_all) + n;
        let deadline = Instant::now() + Duration::from_secs(30);
        while count(&accepted_all) < target {
            assert!(Instant::now() < deadline, "load stalled");
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    wait_more(200);
    let mut retried = 0;
    for round in 0..3 {
        // A transfer can still time out with "node N was not elected" under
        // load (an open defect of the transfer itself, see ARCHITECTURE.md):
        // the old leader then dispatches again, so a retry keeps what this
        // test is about, that a switchover sends nothing twice.
        let mut attempt = 0;
        let to = loop {
            let li = leader_index(&nodes);
            let to = (li + 1) % 3;
            let (ok, out, err) = cli(
                nodes[0].dir.path(),
                &[
                    "cluster",
                    "transfer-leader",
                    "--to",
                    &(to + 1).to_string(),
                    "--addr",
                    &nodes[li].raft,
                ],
            );
            if ok {
                break to;
            }
            attempt += 1;
            eprintln!(
                "transfer {round} to node {}, attempt {attempt}: {out}{err}",
                to + 1
            );
            if attempt == 3 {
                for (i, n) in nodes.iter().enumerate() {
                    let log = n.stderr.lock().unwrap_or_else(|p| p.into_inner()).clone();
                    for l in log
                        .lines()
                        .filter(|l| l.contains("switchover") || l.contains("drain"))
                    {
                        eprintln!("node {}: {}", i + 1, &l[..l.len().min(400)]);
                    }
                }
                panic!("transfer {round} failed 3 times");
            }
            retried += 1;
            std::thread::sleep(Duration::from_secs(1));
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while leader_index(&nodes) != to {
            assert!(Instant::now() < deadline, "node {} did not take over", to + 1);
            std::thread::sleep(Duration::from_millis(50));
        }
        wait_more(200);
    }
    stop.store(true, Ordering::Relaxed);
    for h in handles_all {
        h.join().expect("client");
    }
    let accepted: Vec<(String, String)> = accepted_all
        .iter()
        .flat_map(|a| a.lock().unwrap_or_else(|p| p.into_inner()).clone())
        .collect();
    // Everything reaches the carrier, each exactly once.
    let deadline = Instant::now() + Duration::from_secs(40);
    let by_dest = loop {
        let subs = http(&sim.control, "GET", "/submits?limit=1000000", None, None);
        let mut by_dest: HashMap<String, u64> = HashMap::new();
        for s in subs.body.as_array().expect("submits") {
            *by_dest
                .entry(s["destination"].as_str().unwrap_or("").to_string())
                .or_default() += 1;
        }
        if accepted.iter().all(|(_, to)| by_dest.contains_key(to)) {
            break by_dest;
        }
        assert!(
            Instant::now() < deadline,
            "not every accepted message reached the carrier"
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    let dups: u64 = accepted
        .iter()
        .map(|(_, to)| by_dest.get(to).copied().unwrap_or(0).saturating_sub(1))
        .sum();
    eprintln!(
        "switchover: {} accepted across 3 planned transfers ({retried} retried); duplicate submits: {dups}",
        accepted.len()
    );
    if dups > 0 {
        for (i, n) in nodes.iter().enumerate() {
            let log = n.stderr.lock().unwrap_or_else(|p| p.into_inner()).clone();
            for l in log
                .lines()
                .filter(|l| l.contains("drain") || l.contains("lease") || l.contains("leadership"))
            {
                eprintln!("node {}: {}", i + 1, &l[..l.len().min(300)]);
            }
        }
    }
    assert_eq!(dups, 0, "a planned switchover sent {dups} parts twice");
    // Each transfer paused its old leader's dispatch, and the metric says so.
    let pauses: f64 = nodes
        .iter()
        .filter_map(|n| metric(n, "smsgw_dispatch_pauses_total{reason=\"switchover\"}"))
        .sum();
    assert!(
        pauses >= 3.0,
        "{pauses} switchover pauses counted for 3 transfers"
    );
}
