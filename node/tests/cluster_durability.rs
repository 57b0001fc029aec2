//! Single-node durability across kill -9, and snapshot catch-up of a node
//! added after thousands of entries were purged.

mod cluster_support;

use std::time::Duration;

use cluster_support::*;

#[test]
fn single_node_keeps_every_write_across_kill_9() {
    let root = tempfile::tempdir().unwrap();
    let mut n = Node::start(root.path(), 1, "127.0.0.1:0", true, &[]);
    let out = cli_ok(&[
        "cluster",
        "propose-test",
        "--addr",
        &n.addr,
        "--prefix",
        "d",
        "--count",
        "500",
        "--batch",
        "5",
    ]);
    assert!(out.contains("committed 500"), "{out}");
    n.restart();
    wait_leader(&[n.addr.as_str()], Duration::from_secs(10));
    cli_ok(&[
        "cluster",
        "check-test",
        "--addr",
        &n.addr,
        "--prefix",
        "d",
        "--count",
        "500",
    ]);
}

#[test]
fn node_added_after_purge_catches_up_by_snapshot() {
    let root = tempfile::tempdir().unwrap();
    let env = [("SMSGW_SNAPSHOT_EVERY", "500")];
    let n1 = Node::start(root.path(), 1, "127.0.0.1:0", true, &env);
    let out = cli_ok(&[
        "cluster",
        "propose-test",
        "--addr",
        &n1.addr,
        "--prefix",
        "s",
        "--count",
        "3000",
        "--batch",
        "1",
    ]);
    assert!(out.contains("committed 3000"), "{out}");
    cli_ok(&["cluster", "compact", "--addr", &n1.addr]);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while status(&n1.addr).and_then(|s| s.purged_index).unwrap_or(0) < 2000 {
        assert!(
            std::time::Instant::now() < deadline,
            "log not purged: {:?}",
            status(&n1.addr)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let n2 = Node::start(root.path(), 2, "127.0.0.1:0", false, &env);
    let out = cli_ok(&[
        "cluster", "add", "--id", "2", "--addr", &n2.addr, "--via", &n1.addr,
    ]);
    assert!(out.contains("promoted to voter"), "{out}");
    wait_parts(&n2.addr, 3000, Duration::from_secs(20));
    let s2 = status(&n2.addr).unwrap();
    assert!(
        s2.snapshot_index.unwrap_or(0) >= 2000,
        "node 2 did not install a snapshot: {s2:?}"
    );
    cli_ok(&[
        "cluster",
        "check-test",
        "--addr",
        &n2.addr,
        "--prefix",
        "s",
        "--count",
        "3000",
    ]);
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
    let out = cli(&["config", "validate", cfg.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
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
    let out = cli(&["node", "start", "--config", cfg.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("does not look like an smsgw data dir") && err.contains("foreign"),
        "{err}"
    );
}
