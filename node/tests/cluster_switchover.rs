//! Planned switchover and shrinking, with three real `smsgw` processes:
//! `cluster transfer-leader` moves leadership to the named node and writes go
//! on; `cluster remove` takes a node out and the remaining two keep a quorum;
//! nothing committed is lost on any remaining node.

mod cluster_support;

use std::time::Duration;

use cluster_support::*;

#[test]
fn transfer_leader_then_remove_a_node() {
    let root = tempfile::tempdir().unwrap();
    let (mut nodes, addrs) = start_cluster(root.path(), 3);
    let refs: Vec<&str> = addrs.iter().map(String::as_str).collect();
    let first = wait_leader(&refs, Duration::from_secs(10));
    let propose = |addr: &str, prefix: &str, n: u32| {
        let out = cli_ok(&[
            "cluster",
            "propose-test",
            "--addr",
            addr,
            "--prefix",
            prefix,
            "--count",
            &n.to_string(),
        ]);
        assert!(out.contains(&format!("committed {n}")), "{out}");
    };
    propose(&addrs[0], "before", 100);

    // Planned switchover to a follower.
    let target = nodes.iter().find(|n| n.id != first).unwrap().id;
    let out = cli_ok(&[
        "cluster",
        "transfer-leader",
        "--addr",
        &addrs[0],
        "--to",
        &target.to_string(),
    ]);
    assert!(out.contains(&target.to_string()), "{out}");
    let now = wait_leader(&refs, Duration::from_secs(10));
    assert_eq!(now, target, "leadership moved to the named node");
    propose(&addrs[2], "after-transfer", 100);

    // Remove a follower that is not the leader; two voters remain a quorum.
    let gone = nodes.iter().position(|n| n.id != target).unwrap();
    let gone_id = nodes[gone].id;
    let target_idx = nodes.iter().position(|n| n.id == target).unwrap();
    cli_ok(&[
        "cluster",
        "remove",
        "--addr",
        &addrs[target_idx],
        "--id",
        &gone_id.to_string(),
    ]);
    let status = cli_ok(&["cluster", "status", "--addr", &addrs[target_idx]]);
    let members: Vec<&str> = status.lines().filter(|l| l.contains("voter")).collect();
    assert_eq!(members.len(), 2, "{status}");
    nodes[gone].kill9();
    let rest: Vec<&str> = (0..3).filter(|i| *i != gone).map(|i| addrs[i].as_str()).collect();
    propose(rest[0], "after-remove", 50);
    for a in &rest {
        for (p, n) in [("before", 100), ("after-transfer", 100), ("after-remove", 50)] {
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
}
