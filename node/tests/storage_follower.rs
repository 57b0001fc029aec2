//! Issue 18: a follower whose disk fails (the test-only fault switch makes
//! its raft log appends fail as on a full disk) falls behind without taking
//! the cluster down, and catches up by itself, without a restart, when the
//! fault clears.

mod cluster_support;

use std::time::{Duration, Instant};

use cluster_support::*;

#[test]
fn a_follower_with_a_full_disk_falls_behind_and_catches_up_when_space_returns() {
    let root = tempfile::tempdir().unwrap();
    let (mut nodes, addrs) = start_cluster(root.path(), 3);
    let addr_refs: Vec<&str> = addrs.iter().map(String::as_str).collect();
    let leader = wait_leader(&addr_refs, Duration::from_secs(10));
    let propose = |via: &str, prefix: &str, count: &str| {
        let out = cli_ok(&[
            "cluster",
            "propose-test",
            "--addr",
            via,
            "--prefix",
            prefix,
            "--count",
            count,
            "--batch",
            "5",
        ]);
        assert!(out.contains(&format!("committed {count}")), "{out}");
    };
    let leader_addr = addrs[leader as usize - 1].clone();
    propose(&leader_addr, "a", "200");
    let f = nodes.iter().position(|n| n.id != leader).expect("a follower");
    wait_parts(&nodes[f].addr, 200, Duration::from_secs(10));

    std::fs::write(
        nodes[f].dir.join("test-storage-fault"),
        "raft-full\nfree=1048576\n",
    )
    .unwrap();
    // The node reads its fault switch every second.
    std::thread::sleep(Duration::from_millis(1500));
    // The other two still commit.
    propose(&leader_addr, "b", "300");
    std::thread::sleep(Duration::from_millis(500));
    let behind = local_parts(&nodes[f].addr);
    assert!(
        behind < 500,
        "the follower kept up with a failing disk: {behind} parts"
    );

    std::fs::remove_file(nodes[f].dir.join("test-storage-fault")).unwrap();
    wait_parts(&nodes[f].addr, 500, Duration::from_secs(30));
    let child = nodes[f].child.as_mut().expect("running");
    assert!(
        child.try_wait().expect("wait").is_none(),
        "the follower did not restart"
    );
    // And it takes writes again as a member: the cluster commits with it.
    let deadline = Instant::now() + Duration::from_secs(10);
    while status(&nodes[f].addr).is_none_or(|s| s.leader.is_none()) {
        assert!(Instant::now() < deadline, "the follower sees no leader");
        std::thread::sleep(Duration::from_millis(100));
    }
    propose(&nodes[f].addr, "c", "50");
    wait_parts(&nodes[f].addr, 550, Duration::from_secs(10));
}
