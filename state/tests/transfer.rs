//! Planned leader transfer under a steady write load (in-process 3-node
//! cluster): every transfer must elect its target the first time. Before
//! the fix, a batch the proposer had started before the transfer began
//! could land on the old leader after the target had caught up; the old
//! leader and the other voter then held a longer log than the target and
//! refused its votes until the transfer timed out ("node N was not
//! elected").

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
async fn every_planned_transfer_under_load_elects_its_target_first_time() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = three_nodes(dir.path()).await;
    propose(&nodes[0], &accept(0)).await.unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicU64::new(1));
    let mut writers = Vec::new();
    for w in 0..24usize {
        let (node, stop, next) = (nodes[w % 3].clone(), stop.clone(), next.clone());
        writers.push(tokio::spawn(async move {
            let mut ok = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let id = next.fetch_add(1, Ordering::Relaxed);
                if propose(&node, &accept(id)).await.is_ok() {
                    ok += 1;
                }
            }
            ok
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut failures = Vec::new();
    const TRANSFERS: usize = 8;
    for round in 0..TRANSFERS {
        let leader = nodes[0].status().await.leader.expect("a leader");
        let to = leader % 3 + 1;
        let from = &nodes[(leader - 1) as usize];
        match from.admin(AdminRequest::TransferLeader { to }).await {
            Ok(_) => {}
            Err(e) => failures.push(format!("transfer {round} {leader} -> {to}: {e}")),
        }
        // Writes go on between transfers.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut written = 0;
    for w in writers {
        written += w.await.unwrap();
    }
    eprintln!("{TRANSFERS} transfers under load, {written} writes; failures: {failures:?}");
    assert!(written > 100, "the load did not run: {written} writes");
    assert!(failures.is_empty(), "{failures:?}");
    for n in &nodes {
        n.shutdown().await;
    }
}
