//! Three real `smsgw` processes: writes from every node, kill -9 the leader,
//! writes continue, the old leader rejoins and catches up, nothing committed
//! is lost; then a minority refuses writes with a clear error.

mod cluster_support;

use std::time::Duration;

use cluster_support::*;

#[test]
fn three_nodes_survive_leader_kill_and_refuse_without_majority() {
    let root = tempfile::tempdir().unwrap();
    let (mut nodes, addrs) = start_cluster(root.path(), 3);
    let refs: Vec<&str> = addrs.iter().map(String::as_str).collect();
    wait_leader(&refs, Duration::from_secs(10));

    // Writes from every node.
    for (i, a) in addrs.iter().enumerate() {
        let out = cli_ok(&[
            "cluster",
            "propose-test",
            "--addr",
            a,
            "--prefix",
            &format!("w{i}"),
            "--count",
            "100",
        ]);
        assert!(out.contains("committed 100"), "{out}");
    }
    let status = cli_ok(&["cluster", "status", "--addr", &addrs[1]]);
    assert!(status.contains("Leader"), "{status}");

    // Kill -9 the leader; a new one is elected and writes continue.
    let old = wait_leader(&refs, Duration::from_secs(5));
    let old_idx = nodes.iter().position(|n| n.id == old).unwrap();
    nodes[old_idx].kill9();
    let survivors: Vec<&str> = addrs
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != old_idx)
        .map(|(_, a)| a.as_str())
        .collect();
    let new = wait_leader(&survivors, Duration::from_secs(15));
    assert_ne!(new, old);
    let out = cli_ok(&[
        "cluster",
        "propose-test",
        "--addr",
        survivors[0],
        "--prefix",
        "after",
        "--count",
        "200",
    ]);
    assert!(out.contains("committed 200"), "{out}");

    // Restart the old leader: it rejoins and catches up.
    nodes[old_idx].restart();
    wait_parts(&addrs[old_idx], 500, Duration::from_secs(20));
    for (p, n) in [("w0", 100), ("w1", 100), ("w2", 100), ("after", 200)] {
        for a in &addrs {
            cli_ok(&[
                "cluster",
                "check-test",
                "--addr",
                a,
                "--prefix",
                p,
                "--count",
                &n.to_string(),
            ]);
        }
    }

    // Kill two: the survivor refuses writes with a clear error.
    let leader = wait_leader(&refs, Duration::from_secs(10));
    let keep = nodes.iter().position(|n| n.id != leader).unwrap();
    for (i, n) in nodes.iter_mut().enumerate() {
        if i != keep {
            n.kill9();
        }
    }
    let out = cli(&[
        "cluster",
        "propose-test",
        "--addr",
        &addrs[keep],
        "--prefix",
        "minority",
        "--count",
        "1",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a minority accepted a write");
    assert!(
        stderr.contains("no leader") || stderr.contains("no quorum") || stderr.contains("not committed"),
        "unclear error: {stderr}"
    );
}
