//! Issue 9's remainder, through real processes: retention (closed
//! messages, MOs and client_refs leave the state of every node once past
//! their window; newer ones stay; a client_ref reused after expiry makes a
//! new message).

mod common;

use std::time::{Duration, Instant};

use common::sim_cluster::{carrier, leader_index, metric, Sim, KEY};
use common::{http, start_cluster, Node};
use serde_json::{json, Value};

/// Records and client_refs kept 10 s: long enough to see a newer message
/// stay while an older one goes, short enough for a test.
/// Retention of records and client_refs in this test: long enough that a
/// loaded CI machine sees a message DELIVERED on every node before it goes.
const WINDOW_MS: u64 = 20_000;

fn doc(sim: &Sim) -> String {
    format!(
        "{}[[accounts]]\nname = \"app\"\napi_keys = [\"{KEY}\"]\nservice_codes = [\"1069000\"]\n\n\
         [retention]\nrecords_ms = {WINDOW_MS}\nclient_ref_ms = {WINDOW_MS}\n",
        carrier(sim, 500)
    )
}

/// Every node has a leader and the document; carriers down are allowed
/// (`/readyz` still reports them as a problem).
fn ready(nodes: &[Node]) {
    let deadline = Instant::now() + Duration::from_secs(20);
    for n in nodes {
        loop {
            let r = n.call("GET", "/readyz", None, None);
            let problems = r.body["problems"].as_array().cloned().unwrap_or_default();
            let only_carriers = problems
                .iter()
                .all(|p| p.as_str().is_some_and(|p| p.starts_with("carrier sessions up")));
            if !r.body["leader"].is_null() && only_carriers {
                break;
            }
            assert!(Instant::now() < deadline, "node not ready: {:?}", r.body);
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Waits until the leader's carrier session has logged in, and a moment
/// more: an MO the simulator sends in the first instants of a session is
/// not recorded until the carrier delivers it again (a known gap, issue 9).
fn carrier_up(sim: &Sim) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while sim.counts()["logins_ok"].as_u64().unwrap_or(0) == 0 {
        assert!(Instant::now() < deadline, "the carrier session never logged in");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(1));
}

fn send(node: &Node, to: &str, client_ref: &str) -> (u16, String) {
    let r = node.post(
        KEY,
        &json!({"to": [to], "text": "retention", "client_ref": client_ref}),
    );
    let id = r.body["messages"][0]["id"].as_str().unwrap_or("").to_string();
    (r.status, id)
}

fn status(node: &Node, id: &str) -> (u16, Value) {
    let r = node.call("GET", &format!("/v1/messages/{id}"), Some(KEY), None);
    (r.status, r.body)
}

fn mo_texts(node: &Node) -> Vec<String> {
    let r = node.call("GET", "/v1/records?direction=mo&limit=100", Some(KEY), None);
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|i| i["text"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn mt_ids(node: &Node) -> Vec<String> {
    let r = node.call("GET", "/v1/records?limit=100", Some(KEY), None);
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|i| i["id"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn until(what: &str, secs: u64, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn inject_mo(sim: &Sim, text: &str) {
    let mo = json!({"protocol": "cmpp", "account": sim.login, "from": "13900000009", "to": "1069000777", "text": text});
    let r = http(&sim.control, "POST", "/mo", None, Some(mo.to_string().as_bytes()));
    assert!(r.status < 300, "{:?}", r.body);
}

/// Sends `to` under `client_ref` and waits until every node shows it
/// DELIVERED and `mo` among its MO records.
fn send_and_settle(nodes: &[Node], sim: &Sim, to: &str, client_ref: &str, mo: &str) -> String {
    let (code, id) = send(&nodes[0], to, client_ref);
    assert_eq!(code, 202);
    inject_mo(sim, mo);
    // Every node is watched in each pass: waiting for one node after
    // another let the first message reach its retention on a slow machine.
    let mut delivered = vec![false; nodes.len()];
    let mut has_mo = vec![false; nodes.len()];
    until("delivery and the MO on every node", 30, || {
        for (i, n) in nodes.iter().enumerate() {
            delivered[i] = delivered[i] || status(n, &id).1["status"] == "DELIVERED";
            has_mo[i] = has_mo[i] || mo_texts(n).iter().any(|t| t == mo);
        }
        delivered.iter().chain(&has_mo).all(|d| *d)
    });
    id
}

#[test]
fn expired_records_and_client_refs_leave_every_node_and_newer_ones_stay() {
    let sim = Sim::start();
    let nodes = start_cluster(3);
    common::sim_cluster::apply_text(&nodes, &doc(&sim));
    ready(&nodes);
    carrier_up(&sim);
    let started = Instant::now();

    let old = send_and_settle(&nodes, &sim, "13800000001", "ref-1", "early");
    // Within its window the client_ref answers with the same message.
    let (code, again) = send(&nodes[1], "13800000001", "ref-1");
    assert_eq!(
        (code, again.as_str()),
        (202, old.as_str()),
        "a replay within the window"
    );

    // Half a window later: a newer message and MO.
    std::thread::sleep(Duration::from_millis(WINDOW_MS / 2).saturating_sub(started.elapsed()));
    let newer_at = Instant::now();
    let newer = send_and_settle(&nodes, &sim, "13800000002", "ref-2", "late");

    // The old message, its record row and MO go, on every node.
    for n in &nodes {
        until("the old message to be purged", 40, || status(n, &old).0 == 404);
        until("the old MO to be purged", 10, || {
            !mo_texts(n).iter().any(|t| t == "early")
        });
    }
    let checked_at = newer_at.elapsed();
    assert!(
        checked_at < Duration::from_millis(WINDOW_MS),
        "too slow to tell: the newer message is itself past its window ({checked_at:?})"
    );
    for n in &nodes {
        assert_eq!(status(n, &newer).0, 200, "a message within its window stays");
        let ids = mt_ids(n);
        assert!(ids.contains(&newer) && !ids.contains(&old), "records: {ids:?}");
        assert!(mo_texts(n).iter().any(|t| t == "late"), "a newer MO stays");
    }
    // The expired client_ref is free again: a new message, not a replay.
    let (code, fresh) = send(&nodes[2], "13800000001", "ref-1");
    assert_eq!(code, 202);
    assert_ne!(fresh, old, "an expired client_ref makes a new message");
    // The newer one's client_ref still replays.
    let (_, replay) = send(&nodes[0], "13800000002", "ref-2");
    assert_eq!(replay, newer);

    let li = leader_index(&nodes);
    let purged = metric(&nodes[li], "smsgw_retention_purged_total{kind=\"messages\"}").unwrap_or(0.0);
    assert!(purged >= 1.0, "the leader counts what it purged: {purged}");
}

/// The simulator as carrier `cm` at `address` (a dead port: carrier down).
fn carrier_at(sim: &Sim, address: &str) -> String {
    carrier(sim, 500).replace(&sim.cmpp, address)
}

/// One node whose account `app` (key `KEY`) has a backlog cap of `cap`,
/// with its carrier down (a dead port); the accounts' part of the document,
/// to apply again with the carrier up.
fn capped_with_carrier_down(cap: usize) -> (Sim, Vec<Node>, String) {
    let sim = Sim::start();
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_addr = dead.local_addr().unwrap().to_string();
    drop(dead);
    let nodes = start_cluster(1);
    let accounts = format!(
        "[[accounts]]\nname = \"app\"\napi_keys = [\"{KEY}\"]\n\n[backlog]\nper_account = 1000\n[backlog.accounts]\napp = {cap}\n"
    );
    common::sim_cluster::apply_text(&nodes, &format!("{}{accounts}", carrier_at(&sim, &dead_addr)));
    ready(&nodes);
    (sim, nodes, accounts)
}

#[test]
fn a_full_backlog_answers_429_with_retry_after_and_loses_nothing_accepted() {
    const CAP: usize = 30;
    let (sim, nodes, accounts) = capped_with_carrier_down(CAP);
    let node = &nodes[0];

    // Carrier down: the backlog grows to the cap, then 429.
    let mut accepted = Vec::new();
    let mut refused = 0;
    for i in 0..CAP + 10 {
        let r = node.post(KEY, &json!({"to": [format!("1380000{i:04}")], "text": "backlog"}));
        match r.status {
            202 => accepted.push(r.body["messages"][0]["id"].as_str().unwrap_or("").to_string()),
            429 => {
                assert_eq!(r.code(), "backlog_full", "{:?}", r.body);
                assert!(r.headers.contains("retry-after: 5"), "{}", r.headers);
                refused += 1;
            }
            s => panic!("unexpected {s}: {:?}", r.body),
        }
    }
    assert_eq!((accepted.len(), refused), (CAP, 10));
    for id in &accepted {
        assert_eq!(status(node, id).1["status"], "QUEUED");
    }
    // A batch that would pass the cap is refused whole.
    let many: Vec<String> = (0..5).map(|i| format!("1390000{i:04}")).collect();
    assert_eq!(node.post(KEY, &json!({"to": many, "text": "x"})).status, 429);

    // The carrier comes back: everything accepted is delivered, and the
    // account is taken again.
    common::sim_cluster::apply_text(&nodes, &format!("{}{accounts}", carrier(&sim, 500)));
    for id in &accepted {
        until("the backlog to drain", 60, || {
            status(node, id).1["status"] == "DELIVERED"
        });
    }
    let r = node.post(KEY, &json!({"to": ["13800009999"], "text": "after"}));
    assert_eq!(r.status, 202, "{:?}", r.body);
}

#[test]
fn a_job_waits_while_its_account_is_at_its_backlog_cap_and_goes_when_it_drains() {
    const CAP: usize = 12;
    let (sim, nodes, accounts) = capped_with_carrier_down(CAP);
    let node = &nodes[0];

    // Carrier down: 8 unfinished, and a job of 6 due now would make 14.
    for i in 0..8 {
        let r = node.post(KEY, &json!({"to": [format!("1380000{i:04}")], "text": "backlog"}));
        assert_eq!(r.status, 202, "{:?}", r.body);
    }
    let to: Vec<String> = (0..6).map(|i| format!("1390000{i:04}")).collect();
    let now = (chrono::Utc::now() + chrono::Duration::seconds(1)).to_rfc3339();
    let r = node.post(KEY, &json!({"to": to, "text": "job", "send_at": now}));
    assert_eq!(r.status, 202, "{:?}", r.body);
    let job = r.body["job"].as_u64().expect("a job");
    let job_status = || node.call("GET", &format!("/v1/jobs/{job}"), Some(KEY), None).body;
    let waits = || metric(node, "smsgw_job_backpressure_waits_total{reason=\"account_cap\"}").unwrap_or(0.0);
    until("the runner to hold the job at the cap", 20, || waits() >= 3.0);
    let held = job_status();
    assert_eq!(
        (held["status"].as_str(), held["accepted"].as_u64()),
        (Some("SCHEDULED"), Some(0)),
        "{held}"
    );
    // The account's own requests still get what room is left.
    let r = node.post(KEY, &json!({"to": ["13700000001"], "text": "room"}));
    assert_eq!(r.status, 202, "{:?}", r.body);

    // The carrier comes back: the backlog drains, the job goes, all of it
    // is delivered.
    common::sim_cluster::apply_text(&nodes, &format!("{}{accounts}", carrier(&sim, 500)));
    until("the job to be delivered", 60, || {
        job_status()["by_status"]["DELIVERED"] == 6
    });
    assert_eq!(job_status()["status"], "DONE");
}

/// `clients` threads posting one message per request to `http_addr` until
/// `stop`; the count of 202s.
fn load(
    http_addr: &str,
    tag: usize,
    clients: usize,
    stop: &std::sync::Arc<std::sync::atomic::AtomicBool>,
    accepted: &std::sync::Arc<std::sync::atomic::AtomicUsize>,
) -> Vec<std::thread::JoinHandle<()>> {
    use std::sync::atomic::Ordering;
    (0..clients)
        .map(|c| {
            let (stop, acc, addr) = (stop.clone(), accepted.clone(), http_addr.to_string());
            std::thread::spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let body = json!({"to": [format!("137{tag}{c}{i:06}")], "text": "transfer"}).to_string();
                    let r = http(&addr, "POST", "/v1/messages", Some(KEY), Some(body.as_bytes()));
                    if r.status == 202 {
                        acc.fetch_add(1, Ordering::Relaxed);
                    } else {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                }
            })
        })
        .collect()
}

/// Issue 9's "timed out: node 1 was not elected": planned transfers under
/// load, round after round, each must elect its target the first time.
#[test]
fn planned_transfers_under_load_elect_their_target_every_time() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;
    let sim = Sim::start();
    let nodes = common::sim_cluster::cluster(&sim, 2000);
    let stop = Arc::new(AtomicBool::new(false));
    let accepted = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    for (k, n) in nodes.iter().enumerate() {
        clients.extend(load(&n.http, k, 3, &stop, &accepted));
    }
    let wait_more = |n: usize| {
        let target = accepted.load(Ordering::Relaxed) + n;
        let deadline = Instant::now() + Duration::from_secs(30);
        while accepted.load(Ordering::Relaxed) < target {
            assert!(Instant::now() < deadline, "load stalled");
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    wait_more(100);
    let mut failures = Vec::new();
    const ROUNDS: usize = 6;
    for round in 0..ROUNDS {
        let li = leader_index(&nodes);
        let to = (li + 1) % 3;
        let started = Instant::now();
        let (ok, out, err) = common::cli(
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
        eprintln!(
            "transfer {round}: node {} -> {}: {} in {:?}",
            li + 1,
            to + 1,
            if ok { "ok" } else { "FAILED" },
            started.elapsed()
        );
        if !ok {
            failures.push(format!("transfer {round} to node {}: {out}{err}", to + 1));
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while leader_index(&nodes) == li && !ok {
            if Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        wait_more(100);
    }
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().expect("client");
    }
    if !failures.is_empty() {
        for (i, n) in nodes.iter().enumerate() {
            let log = n.stderr.lock().unwrap_or_else(|p| p.into_inner()).clone();
            for l in log.lines().filter(|l| {
                ["vote", "elect", "transfer", "switchover", "lease"]
                    .iter()
                    .any(|w| l.contains(w))
            }) {
                eprintln!("node {}: {}", i + 1, &l[..l.len().min(400)]);
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
