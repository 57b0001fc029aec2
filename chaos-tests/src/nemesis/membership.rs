//! Membership change under load: a follower is removed from the cluster
//! (`smsgw cluster remove`), killed and its data wiped; at heal a new empty
//! node with the same id and addresses starts and is added back (`smsgw
//! cluster add`: a learner that copies the log or a snapshot, then a
//! voter). Only the product's CLI changes the membership here.

use std::time::Duration;

use super::{pick, Injected, Target, Undo};
use crate::cluster::Cluster;
use crate::error::{ChaosError, Result};

pub(super) async fn inject(c: &mut Cluster) -> Result<Injected> {
    let (id, _) = pick(c, Target::Follower).await?;
    let leader = c.wait_leader(Duration::from_secs(20)).await?;
    let via = c.raft_addr(leader).ok_or_else(|| missing(leader))?;
    c.cli(&[
        "cluster".into(),
        "remove".into(),
        "--addr".into(),
        via,
        "--id".into(),
        id.to_string(),
    ])
    .await?;
    c.node_mut(id).ok_or_else(|| missing(id))?.kill_and_wipe().await?;
    Ok(Injected {
        detail: format!("node {id} (follower) removed, killed and wiped"),
        undo: Undo::Rejoin(id),
    })
}

pub(super) async fn heal(c: &mut Cluster, id: u64) -> Result<()> {
    c.node_mut(id).ok_or_else(|| missing(id))?.start_again().await?;
    let leader = c.wait_leader(Duration::from_secs(20)).await?;
    let via = c.raft_addr(leader).ok_or_else(|| missing(leader))?;
    let addr = c.membership_addr(id).ok_or_else(|| missing(id))?;
    c.cli(&[
        "cluster".into(),
        "add".into(),
        "--id".into(),
        id.to_string(),
        "--addr".into(),
        addr,
        "--via".into(),
        via,
    ])
    .await
    .map(|_| ())
}

fn missing(id: u64) -> ChaosError {
    ChaosError::Command {
        what: format!("find node {id}"),
        detail: "no such node".into(),
    }
}
