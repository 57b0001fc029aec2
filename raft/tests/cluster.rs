//! In-process 3-node cluster: writes from every node, leader transfer, reads.

use std::time::Duration;

use smsgw_raft::{AdminRequest, Cluster, ClusterOptions, Command, MtPart, Query, QueryResult};

fn accept(id: &str) -> Command {
    Command::AcceptBatch {
        request_id: Some(format!("req-{id}")),
        messages: vec![MtPart {
            id: id.into(),
            account: "a".into(),
            to: "1".into(),
            parts: 1,
            payload: vec![1; 200],
            accepted_at_ms: 0,
        }],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_write_everywhere_and_transfer_leader() {
    let dir = tempfile::tempdir().unwrap();
    let mut nodes = Vec::new();
    for id in 1..=3u64 {
        let opts = ClusterOptions::new(id, dir.path().join(format!("n{id}")), "127.0.0.1:0");
        nodes.push(Cluster::start(opts).await.unwrap());
    }
    let members = nodes.iter().map(|n| (n.id(), n.node_info())).collect();
    nodes[0].initialize(members).await.unwrap();
    for (i, n) in nodes.iter().enumerate() {
        for k in 0..5 {
            n.propose(accept(&format!("n{i}-{k}"))).await.unwrap();
        }
    }
    let leader = nodes[0].status().await.leader.unwrap();
    let to = if leader == 3 { 2 } else { 3 };
    let msg = nodes[0].admin(AdminRequest::TransferLeader { to }).await.unwrap();
    println!("{msg:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(nodes[0].status().await.leader, Some(to));
    nodes[1].propose(accept("after")).await.unwrap();
    for n in &nodes {
        match n.read_linearizable(&Query::Counts).await.unwrap() {
            QueryResult::Counts { parts, .. } => assert_eq!(parts, 16),
            other => panic!("{other:?}"),
        }
    }
    for n in &nodes {
        n.shutdown().await;
    }
}
