//! Three real `smsgw` processes: writes from every node, kill -9 the leader,
//! writes continue, the old leader rejoins and catches up, nothing committed
//! is lost; then a minority refuses writes with a clear error.

mod common;

use std::time::Duration;

use common::*;

#[test]
fn three_nodes_survive_leader_kill_and_refuse_without_majority() {
    let mut nodes = start_cluster(3);
    wait_leader(&nodes, Duration::from_secs(10));

    // Writes from every node.
    for (i, n) in nodes.iter().enumerate() {
        n.propose_test(&format!("w{i}"), 100, 10);
    }
    let status = cli_ok(
        nodes[1].dir.path(),
        &["cluster", "status", "--addr", &nodes[1].raft],
    );
    assert!(status.contains("Leader"), "{status}");

    // Kill -9 the leader; a new one is elected and writes continue.
    let old = wait_leader(&nodes, Duration::from_secs(5));
    let old_idx = nodes
        .iter()
        .position(|n| n.id == old)
        .expect("the leader is one of them");
    nodes[old_idx].kill9();
    // The killed node does not answer, so the leader found is another.
    let new = wait_leader(&nodes, Duration::from_secs(15));
    assert_ne!(new, old);
    let survivor = nodes.iter().position(|n| n.id != old).expect("a survivor");
    nodes[survivor].propose_test("after", 200, 10);

    // Restart the old leader: it rejoins and catches up.
    nodes[old_idx].restart();
    nodes[old_idx].wait_parts(500, Duration::from_secs(20));
    for (p, count) in [("w0", 100), ("w1", 100), ("w2", 100), ("after", 200)] {
        for n in &nodes {
            n.check_test(p, count);
        }
    }

    // Kill two: the survivor refuses writes with a clear error.
    let leader = wait_leader(&nodes, Duration::from_secs(10));
    let keep = nodes.iter().position(|n| n.id != leader).expect("a follower");
    for (i, n) in nodes.iter_mut().enumerate() {
        if i != keep {
            n.kill9();
        }
    }
    let (ok, _, stderr) = nodes[keep].try_propose_test("minority", 1, 1);
    assert!(!ok, "a minority accepted a write");
    assert!(
        stderr.contains("no leader") || stderr.contains("no quorum") || stderr.contains("not committed"),
        "unclear error: {stderr}"
    );
}
