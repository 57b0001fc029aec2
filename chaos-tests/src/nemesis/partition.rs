//! A network partition: one node cut from every other both ways on the raft
//! links (through the link proxies), then healed. With three nodes this is
//! also the clean split (one against two). The isolated node keeps its
//! carrier session and its HTTP API, as a node cut off from its peers but
//! not from the world would.

use super::{Injected, Undo};
use crate::cluster::Cluster;
use crate::error::Result;

pub(super) fn inject(c: &mut Cluster, (id, role): (u64, &str)) -> Result<Injected> {
    c.net.isolate(id, &c.ids());
    Ok(Injected {
        detail: format!("partition node {id} ({role}) from the others"),
        undo: Undo::HealNet,
    })
}
