//! Planned switchover and shrinking, with three real `smsgw` processes:
//! `cluster transfer-leader` moves leadership to the named node and writes go
//! on; `cluster remove` takes a node out and the remaining two keep a quorum;
//! nothing committed is lost on any remaining node.

mod common;

use std::time::Duration;

use common::*;

#[test]
fn transfer_leader_then_remove_a_node() {
    let mut nodes = start_cluster(3);
    let first = wait_leader(&nodes, Duration::from_secs(10));
    nodes[0].propose_test("before", 100, 10);

    // Planned switchover to a follower.
    let target = nodes.iter().find(|n| n.id != first).expect("a follower").id;
    let out = cli_ok(
        nodes[0].dir.path(),
        &[
            "cluster",
            "transfer-leader",
            "--addr",
            &nodes[0].raft,
            "--to",
            &target.to_string(),
        ],
    );
    assert!(out.contains(&target.to_string()), "{out}");
    let now = wait_leader(&nodes, Duration::from_secs(10));
    assert_eq!(now, target, "leadership moved to the named node");
    nodes[2].propose_test("after-transfer", 100, 10);

    // Remove a follower that is not the leader; two voters remain a quorum.
    let gone = nodes.iter().position(|n| n.id != target).expect("a follower");
    let gone_id = nodes[gone].id.to_string();
    let leader = nodes.iter().position(|n| n.id == target).expect("the leader");
    let via = (nodes[leader].dir.path(), nodes[leader].raft.as_str());
    cli_ok(via.0, &["cluster", "remove", "--addr", via.1, "--id", &gone_id]);
    let status = cli_ok(via.0, &["cluster", "status", "--addr", via.1]);
    let members: Vec<&str> = status.lines().filter(|l| l.contains("voter")).collect();
    assert_eq!(members.len(), 2, "{status}");
    nodes[gone].kill9();
    let rest: Vec<&Node> = (0..3).filter(|i| *i != gone).map(|i| &nodes[i]).collect();
    rest[0].propose_test("after-remove", 50, 10);
    for n in &rest {
        for (p, count) in [("before", 100), ("after-transfer", 100), ("after-remove", 50)] {
            n.check_test(p, count);
        }
    }
}
