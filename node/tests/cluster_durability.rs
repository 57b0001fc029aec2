//! Single-node durability across kill -9, and snapshot catch-up of a node
//! added after thousands of entries were purged.

mod common;

use std::time::{Duration, Instant};

use common::*;

#[test]
fn single_node_keeps_every_write_across_kill_9() {
    let mut nodes = start_cluster(1);
    nodes[0].propose_test("d", 500, 5);
    nodes[0].restart();
    wait_leader(&nodes, Duration::from_secs(10));
    nodes[0].check_test("d", 500);
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
