//! Single-node durability across kill -9 (after the writes, and in the
//! middle of them), and snapshot catch-up of a node added after thousands
//! of entries were purged.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

#[test]
fn single_node_keeps_every_write_across_kill_9() {
    let mut nodes = start_cluster(1);
    nodes[0].propose_test("d", 500, 5);
    nodes[0].restart();
    wait_leader(&nodes, Duration::from_secs(10));
    nodes[0].check_test("d", 500);
}

/// kill -9 lands while the log is being appended: the node starts again
/// (its store checks out: no hole in the log) with every message it
/// had answered 202 for. Three kills, each at a different moment of the
/// load. A kill keeps what reached the OS, so this is about the order of
/// the log's writes and the start after them, not about a power cut (a
/// build that acknowledged appends before flushing still passed it).
#[test]
fn a_node_killed_while_appending_starts_again_with_every_accepted_message() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    let mut node = Node::start(&[]);
    let key = node.demo_key();
    let accepted = Arc::new(Mutex::new(Vec::<String>::new()));
    for (round, after_ms) in [(0, 300), (1, 700), (2, 1100)] {
        let stop = Arc::new(AtomicBool::new(false));
        let senders: Vec<_> = (0..4)
            .map(|t| {
                let (addr, key, stop, accepted) =
                    (node.http.clone(), key.clone(), stop.clone(), accepted.clone());
                std::thread::spawn(move || {
                    // Bounded in count; the kill ends it sooner.
                    for i in 0..3_000 {
                        if stop.load(Ordering::Relaxed) {
                            return;
                        }
                        let body =
                            json!({"to": [format!("139{round}{t}{i:06}")], "text": "kept"}).to_string();
                        let Ok(r) =
                            try_http(&addr, "POST", "/v1/messages", Some(&key), Some(body.as_bytes()))
                        else {
                            return;
                        };
                        if r.status == 202 {
                            let ids = r.body["messages"].as_array().cloned().unwrap_or_default();
                            let mut a = accepted.lock().unwrap_or_else(|p| p.into_inner());
                            a.extend(ids.iter().filter_map(|m| m["id"].as_str().map(String::from)));
                        }
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(after_ms));
        node.kill9();
        stop.store(true, Ordering::Relaxed);
        for s in senders {
            s.join().expect("sender");
        }
        node.restart();
        let ids = accepted.lock().unwrap_or_else(|p| p.into_inner()).clone();
        assert!(
            !ids.is_empty(),
            "round {round}: nothing was accepted before the kill"
        );
        for id in &ids {
            let g = node.call("GET", &format!("/v1/messages/{id}"), Some(&key), None);
            assert_eq!(
                g.status, 200,
                "round {round}: message {id} after the kill: {:?}",
                g.body
            );
        }
    }
}

#[test]
fn node_added_after_purge_catches_up_by_snapshot() {
    let env = [("SMSGW_SNAPSHOT_EVERY", "500")];
    let n1 = start_cluster_env(1, &[], &env).remove(0);
    n1.propose_test("s", 3000, 1);
    cli_ok(n1.dir.path(), &["cluster", "compact", "--addr", &n1.raft]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while n1.status().and_then(|s| s.purged_index).unwrap_or(0) < 2000 {
        assert!(Instant::now() < deadline, "log not purged: {:?}", n1.status());
        std::thread::sleep(Duration::from_millis(100));
    }
    let n2 = start_member(&n1.secret(), 2, &[], &env);
    let out = cli_ok(
        n1.dir.path(),
        &[
            "cluster", "add", "--id", "2", "--addr", &n2.raft, "--via", &n1.raft,
        ],
    );
    assert!(out.contains("promoted to voter"), "{out}");
    n2.wait_parts(3000, Duration::from_secs(20));
    let s2 = n2.status().expect("status of node 2");
    assert!(
        s2.snapshot_index.unwrap_or(0) >= 2000,
        "node 2 did not install a snapshot: {s2:?}"
    );
    n2.check_test("s", 3000);
}

#[test]
fn bad_config_and_foreign_data_dir_are_refused() {
    let root = tempfile::tempdir().unwrap();
    let cfg = root.path().join("bad.toml");
    std::fs::write(
        &cfg,
        "node_id = 1\n[[peers]]\nid = 2\nraft_addr = \"a:1\"\n[[peers]]\nid = 2\nraft_addr = \"b:1\"\n",
    )
    .unwrap();
    let (ok, _, err) = cli(root.path(), &["config", "validate", cfg.to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("bad.toml:6") && err.contains("peers[1].id"), "{err}");

    let foreign = root.path().join("foreign");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("something.txt"), "not ours").unwrap();
    let cfg = root.path().join("n.toml");
    std::fs::write(
        &cfg,
        format!(
            "node_id = 1\ndata_dir = \"{}\"\nraft_addr = \"127.0.0.1:0\"\nhttp_addr = \"127.0.0.1:0\"\n",
            foreign.display()
        ),
    )
    .unwrap();
    let (ok, _, err) = cli(root.path(), &["node", "start", "--config", cfg.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        err.contains("does not look like an smsgw data dir") && err.contains("foreign"),
        "{err}"
    );
}
