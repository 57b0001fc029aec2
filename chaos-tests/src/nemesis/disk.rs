//! Disk full on one node: its data dir is a small tmpfs (the drill mounts
//! one per node when this nemesis is planned; needs root), filled to the
//! last byte with a ballast file, held, then freed and the node restarted:
//! openraft stops a node's raft for good on a storage error, so freeing the
//! space alone does not bring it back (seen in drills: the node stays out
//! until restarted). What the cluster does meanwhile is what is measured.

use std::io::Write;

use super::{Injected, Undo};
use crate::cluster::Cluster;
use crate::error::{ChaosError, Result};

const BALLAST: &str = "chaos-ballast";

/// Root is needed to mount the tmpfs data dirs.
pub(super) fn precheck() -> std::result::Result<(), String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let root = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        == Some("0");
    if root {
        Ok(())
    } else {
        Err("disk-full mounts a tmpfs per node and needs root".into())
    }
}

pub(super) fn inject(c: &mut Cluster, (id, role): (u64, &str)) -> Result<Injected> {
    let node = c.node_mut(id).ok_or_else(|| missing(id))?;
    let path = node.dir.join(BALLAST);
    let mut f =
        std::fs::File::create(&path).map_err(|e| ChaosError::io(format!("create {}", path.display()), e))?;
    let chunk = vec![0u8; 1 << 20];
    let mut written = 0u64;
    // Until the filesystem says no: ENOSPC is the point.
    loop {
        match f.write(&chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => written += n as u64,
        }
    }
    let _ = f.sync_all();
    Ok(Injected {
        detail: format!(
            "node {id} ({role}) data dir full ({} MB of ballast)",
            written >> 20
        ),
        undo: Undo::FreeDisk(id),
    })
}

pub(super) async fn heal(c: &mut Cluster, id: u64) -> Result<()> {
    let node = c.node_mut(id).ok_or_else(|| missing(id))?;
    let path = node.dir.join(BALLAST);
    std::fs::remove_file(&path).map_err(|e| ChaosError::io(format!("remove {}", path.display()), e))?;
    node.restart().await
}

fn missing(id: u64) -> ChaosError {
    ChaosError::Command {
        what: format!("find node {id}"),
        detail: "no such node".into(),
    }
}
