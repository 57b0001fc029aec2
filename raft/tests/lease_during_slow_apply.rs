//! The leader lease is about leadership only: a state machine that stalls
//! on one apply (a snapshot being recorded, a spill) must not lapse it,
//! since no other node can be elected meanwhile. It used to lapse, pausing
//! every carrier send for as long as the apply took.

use std::sync::Arc;
use std::time::{Duration, Instant};

use smsgw_raft::{App, ApplyError, Cluster, ClusterOptions, ClusterSecret, Tx, View};

/// How long the command `stall` holds the state machine: longer than the
/// lease (the shortest election timeout, 500 ms).
const STALL: Duration = Duration::from_millis(1500);

/// Applies nothing; `stall` blocks its apply for [`STALL`].
struct Slow;

impl App for Slow {
    fn apply(&self, _tx: &mut Tx<'_>, _index: u64, command: &[u8]) -> Result<Vec<u8>, ApplyError> {
        if command == b"stall" {
            std::thread::sleep(STALL);
        }
        Ok(Vec::new())
    }

    fn query(&self, _view: &View, _query: &[u8]) -> Result<Vec<u8>, ApplyError> {
        Ok(Vec::new())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_leader_keeps_its_lease_while_its_state_machine_is_slow_to_apply() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut opts = ClusterOptions::new(1, dir.path().join("n1"), "127.0.0.1:0");
    opts.secret = Some(ClusterSecret::generate());
    let node = Cluster::start(opts, Arc::new(Slow)).await.expect("start");
    node.initialize(vec![(node.id(), node.node_info())])
        .await
        .expect("initialize");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !node.leads_with_lease() {
        assert!(Instant::now() < deadline, "no lease within 20 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    node.propose(b"warm".to_vec()).await.expect("first proposal");

    let stalled = tokio::spawn({
        let node = node.clone();
        async move { node.propose(b"stall".to_vec()).await }
    });
    // Sampled through most of the stall, after the lease it held before
    // would have run out.
    let started = Instant::now();
    let mut lapsed = Vec::new();
    while started.elapsed() < STALL - Duration::from_millis(200) {
        if !node.leads_with_lease() {
            lapsed.push(started.elapsed().as_millis());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stalled
        .await
        .expect("join")
        .expect("the stalled proposal commits");
    node.shutdown().await;
    assert!(
        lapsed.is_empty(),
        "the lease lapsed during a slow apply, at these ms: {lapsed:?}"
    );
}
