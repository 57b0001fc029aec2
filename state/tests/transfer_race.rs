//! The planned-transfer race behind issue 9's "timed out: node N was not
//! elected", made deterministic: every batch the leader writes is delayed
//! (fault injection) between the proposer's "may I write" check and
//! openraft, so a batch is in flight when the transfer starts. Before the
//! fix it was appended after the target had caught up and started its
//! campaign: the old leader and the other voter then had a longer log than
//! the target and refused it until the transfer timed out. Its own test
//! binary: the delay is process-wide.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use smsgw_raft::{AdminRequest, Cluster, ClusterOptions, ClusterSecret};
use smsgw_state::{propose, Command, Domain, MtPart};

fn accept(id: u64) -> Command {
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
async fn a_batch_in_flight_when_a_transfer_starts_does_not_stop_the_target_winning() {
    let dir = tempfile::tempdir().unwrap();
    let secret = ClusterSecret::generate();
    let mut nodes = Vec::new();
    for id in 1..=3u64 {
        let mut opts = ClusterOptions::new(id, dir.path().join(format!("n{id}")), "127.0.0.1:0");
        opts.secret = Some(secret.clone());
        nodes.push(Cluster::start(opts, Domain::app()).await.unwrap());
    }
    let members = nodes.iter().map(|n| (n.id(), n.node_info())).collect();
    nodes[0].initialize(members).await.unwrap();
    propose(&nodes[0], &accept(0)).await.unwrap();
    smsgw_raft::fault::set_proposal_delay_ms(400);

    let stop = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicU64::new(1));
    let mut failures = Vec::new();
    for round in 0..3 {
        let leader = nodes[0].status().await.leader.expect("a leader");
        let from = nodes[(leader - 1) as usize].clone();
        // A write on the leader, then the transfer while it is in flight.
        let writer = {
            let (from, next) = (from.clone(), next.clone());
            tokio::spawn(async move { propose(&from, &accept(next.fetch_add(1, Ordering::Relaxed))).await })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        let to = leader % 3 + 1;
        if let Err(e) = from.admin(AdminRequest::TransferLeader { to }).await {
            failures.push(format!("transfer {round} {leader} -> {to}: {e}"));
        }
        assert!(writer.await.unwrap().is_ok() || !failures.is_empty());
        // Whoever leads now, let the cluster settle before the next round.
        tokio::time::sleep(Duration::from_millis(1500)).await;
    }
    stop.store(true, Ordering::Relaxed);
    smsgw_raft::fault::set_proposal_delay_ms(0);
    assert!(failures.is_empty(), "{failures:?}");
    for n in &nodes {
        n.shutdown().await;
    }
}
