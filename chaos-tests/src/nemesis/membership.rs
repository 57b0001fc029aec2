//! Membership change under load: a follower is removed from the cluster
//! (`smsgw cluster remove`), killed and its data wiped; at heal a new empty
//! node with the same id and addresses starts and is added back (`smsgw
//! cluster add`: a learner that copies the log or a snapshot, then a
//! voter). Only the product's CLI changes the membership here.

use std::time::{Duration, Instant};

use super::{pick, Injected, Target, Undo};
use crate::cluster::Cluster;
use crate::error::{ChaosError, Result};

/// How long a failed membership command is tried again.
const RETRY_FOR: Duration = Duration::from_secs(30);

pub(super) async fn inject(c: &mut Cluster) -> Result<Injected> {
    let (id, _) = pick(c, Target::Follower).await?;
    through_leader(c, |via| {
        vec![
            "cluster".into(),
            "remove".into(),
            "--addr".into(),
            via,
            "--id".into(),
            id.to_string(),
        ]
    })
    .await?;
    c.node_mut(id).ok_or_else(|| missing(id))?.kill_and_wipe().await?;
    Ok(Injected {
        detail: format!("node {id} (follower) removed, killed and wiped"),
        undo: Undo::Rejoin(id),
    })
}

pub(super) async fn heal(c: &mut Cluster, id: u64) -> Result<()> {
    c.node_mut(id).ok_or_else(|| missing(id))?.start_again().await?;
    let addr = c.membership_addr(id).ok_or_else(|| missing(id))?;
    through_leader(c, |via| {
        vec![
            "cluster".into(),
            "add".into(),
            "--id".into(),
            id.to_string(),
            "--addr".into(),
            addr.clone(),
            "--via".into(),
            via,
        ]
    })
    .await
}

/// Runs a membership command through the leader, again (for up to
/// `RETRY_FOR`) when it fails: under load and faults a leader found a
/// moment ago may be gone, and the node asked then knows none ("has to
/// forward request to: None"), as a long drill showed.
async fn through_leader(c: &Cluster, args: impl Fn(String) -> Vec<String>) -> Result<()> {
    let deadline = Instant::now() + RETRY_FOR;
    loop {
        let leader = c.wait_leader(Duration::from_secs(20)).await?;
        let via = c.raft_addr(leader).ok_or_else(|| missing(leader))?;
        match c.cli(&args(via)).await {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() >= deadline => return Err(e),
            Err(e) => {
                tracing::info!("membership change failed, retrying: {e}");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

fn missing(id: u64) -> ChaosError {
    ChaosError::Command {
        what: format!("find node {id}"),
        detail: "no such node".into(),
    }
}
