//! The proposer's queue is bounded: past `max_queued` waiting proposals a
//! write is refused at once with `ProposeError::Backlog` (the API's 429
//! `backlog_full`), and every write that was answered Ok is applied.

use smsgw_raft::{Cluster, ClusterOptions, ClusterSecret, ProposeError};
use smsgw_state::{propose, read_linearizable, Command, Domain, MtPart, Query, QueryResult, Response};

fn accept(id: usize) -> Command {
    Command::AcceptBatch {
        request_id: None,
        messages: vec![MtPart {
            id: format!("{id}.0"),
            account: "a".into(),
            to: "1".into(),
            parts: 1,
            payload: vec![1; 200],
            accepted_at_ms: 0,
            queue: None,
        }],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_proposal_queue_refuses_at_once_and_loses_nothing_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = ClusterOptions::new(1, dir.path().join("n1"), "127.0.0.1:0");
    opts.secret = Some(ClusterSecret::generate());
    opts.batch.max_queued = 8;
    opts.batch.max_commands = 4;
    opts.batch.max_in_flight = 1;
    let node = Cluster::start(opts, Domain::app()).await.unwrap();
    node.initialize(vec![(node.id(), node.node_info())])
        .await
        .unwrap();
    propose(&node, &accept(0)).await.unwrap();

    const WRITES: usize = 400;
    let tasks: Vec<_> = (1..=WRITES)
        .map(|i| {
            let node = node.clone();
            tokio::spawn(async move { propose(&node, &accept(i)).await })
        })
        .collect();
    let (mut accepted, mut refused) = (0u64, 0u64);
    for t in tasks {
        match t.await.unwrap() {
            Ok(Response::Accepted { ids, .. }) => accepted += ids.len() as u64,
            Err(ProposeError::Backlog { node: 1, queued: 8 }) => refused += 1,
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert!(refused > 0, "400 writes at once never filled a queue of 8");
    assert_eq!(accepted + refused, WRITES as u64);
    match read_linearizable(&node, &Query::Counts).await.unwrap() {
        QueryResult::Counts { parts, .. } => assert_eq!(parts, accepted + 1, "every Ok write applied"),
        other => panic!("{other:?}"),
    }
    // The queue drains: the next write goes through.
    propose(&node, &accept(WRITES + 1)).await.unwrap();
    node.shutdown().await;
}
