//! In-process 3-node cluster: writes from every node, leader transfer, reads.

use std::time::Duration;

use smsgw_raft::{AdminRequest, Cluster, ClusterOptions, ClusterSecret};
use smsgw_state::{propose, read_linearizable, Command, Domain, MtPart, Query, QueryResult};

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
            queue: None,
        }],
    }
}

/// Three nodes in `dir` sharing one secret, formed into one cluster.
async fn three_nodes(dir: &std::path::Path) -> Vec<Cluster> {
    let secret = ClusterSecret::generate();
    let mut nodes = Vec::new();
    for id in 1..=3u64 {
        let mut opts = ClusterOptions::new(id, dir.join(format!("n{id}")), "127.0.0.1:0");
        opts.secret = Some(secret.clone());
        nodes.push(Cluster::start(opts, Domain::app()).await.unwrap());
    }
    let members = nodes.iter().map(|n| (n.id(), n.node_info())).collect();
    nodes[0].initialize(members).await.unwrap();
    nodes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_write_everywhere_and_transfer_leader() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = three_nodes(dir.path()).await;
    for (i, n) in nodes.iter().enumerate() {
        for k in 0..5 {
            propose(n, &accept(&format!("n{i}-{k}"))).await.unwrap();
        }
    }
    let leader = nodes[0].status().await.leader.unwrap();
    let to = if leader == 3 { 2 } else { 3 };
    let msg = nodes[0].admin(AdminRequest::TransferLeader { to }).await.unwrap();
    println!("{msg:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(nodes[0].status().await.leader, Some(to));
    propose(&nodes[1], &accept("after")).await.unwrap();
    for n in &nodes {
        match read_linearizable(n, &Query::Counts).await.unwrap() {
            QueryResult::Counts { parts, .. } => assert_eq!(parts, 16),
            other => panic!("{other:?}"),
        }
    }
    for n in &nodes {
        n.shutdown().await;
    }
}

/// Concurrent proposals from every node share raft entries (the proposer
/// batches them); each caller still gets its own response, and a repeated
/// request id has one effect even inside one entry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_proposals_are_batched_with_their_own_responses() {
    use smsgw_state::Response;
    let dir = tempfile::tempdir().unwrap();
    let nodes = three_nodes(dir.path()).await;
    propose(&nodes[0], &accept("warm")).await.unwrap();
    let mut tasks = Vec::new();
    for k in 0..300usize {
        let node = nodes[k % 3].clone();
        // Every id is proposed twice, from different nodes, at the same time.
        let id = format!("c{}", k / 2);
        tasks.push(tokio::spawn(async move {
            (id.clone(), propose(&node, &accept(&id)).await.unwrap())
        }));
    }
    let mut fresh = std::collections::BTreeSet::new();
    let mut replayed = 0;
    let mut indexes = std::collections::BTreeSet::new();
    for t in tasks {
        match t.await.unwrap() {
            (id, Response::Accepted { ids, index, .. }) => {
                assert_eq!(ids, vec![id.clone()]);
                assert!(fresh.insert(id), "accepted twice");
                indexes.insert(index);
            }
            (_, Response::Replayed(_)) => replayed += 1,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!((fresh.len(), replayed), (150, 150));
    assert!(indexes.len() < 150, "no batching: {} entries", indexes.len());
    for n in &nodes {
        match read_linearizable(n, &Query::Counts).await.unwrap() {
            QueryResult::Counts { parts, .. } => assert_eq!(parts, 151),
            other => panic!("{other:?}"),
        }
    }
    for n in &nodes {
        n.shutdown().await;
    }
}
