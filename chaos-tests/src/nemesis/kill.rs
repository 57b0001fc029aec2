//! kill -9 of a node (leader, follower or any) and its restart on the same
//! addresses and data dir: a crash with no shutdown, then recovery from disk.

use super::{Injected, Undo};
use crate::cluster::Cluster;
use crate::error::{ChaosError, Result};

pub(super) async fn inject(c: &mut Cluster, (id, role): (u64, &str)) -> Result<Injected> {
    let node = c.node_mut(id).ok_or_else(|| missing(id))?;
    node.kill9().await;
    Ok(Injected {
        detail: format!("kill -9 node {id} ({role})"),
        undo: Undo::Restart(id),
    })
}

pub(super) async fn heal(c: &mut Cluster, id: u64) -> Result<()> {
    c.node_mut(id).ok_or_else(|| missing(id))?.restart().await
}

fn missing(id: u64) -> ChaosError {
    ChaosError::Command {
        what: format!("find node {id}"),
        detail: "no such node".into(),
    }
}
