//! Issue 18: a follower whose disk fails (the test-only fault switch makes
//! its raft log appends fail as on a full disk) falls behind without taking
//! the cluster down, and catches up by itself, without a restart, when the
//! fault clears.

mod common;

use std::time::{Duration, Instant};

use common::*;

#[test]
fn a_follower_with_a_full_disk_falls_behind_and_catches_up_when_space_returns() {
    let mut nodes = start_cluster(3);
    let leader_id = wait_leader(&nodes, Duration::from_secs(10));
    let leader = nodes.iter().position(|n| n.id == leader_id).expect("the leader");
    nodes[leader].propose_test("a", 200, 5);
    let f = nodes.iter().position(|n| n.id != leader_id).expect("a follower");
    nodes[f].wait_parts(200, Duration::from_secs(10));

    let fault = nodes[f].data().join("test-storage-fault");
    std::fs::write(&fault, "raft-full\nfree=1048576\n").unwrap();
    // The node reads its fault switch every second.
    std::thread::sleep(Duration::from_millis(1500));
    // The other two still commit.
    nodes[leader].propose_test("b", 300, 5);
    std::thread::sleep(Duration::from_millis(500));
    let behind = nodes[f].local_parts();
    assert!(
        behind < 500,
        "the follower kept up with a failing disk: {behind} parts"
    );

    std::fs::remove_file(&fault).unwrap();
    nodes[f].wait_parts(500, Duration::from_secs(30));
    assert!(
        nodes[f].child.try_wait().expect("wait").is_none(),
        "the follower did not restart"
    );
    // And it takes writes again as a member: the cluster commits with it.
    let deadline = Instant::now() + Duration::from_secs(10);
    while nodes[f].status().is_none_or(|s| s.leader.is_none()) {
        assert!(Instant::now() < deadline, "the follower sees no leader");
        std::thread::sleep(Duration::from_millis(100));
    }
    nodes[f].propose_test("c", 50, 5);
    nodes[f].wait_parts(550, Duration::from_secs(10));
}
