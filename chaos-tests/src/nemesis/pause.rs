//! SIGSTOP and SIGCONT of a node: the process keeps its sockets open but
//! answers nothing — a long GC pause or a frozen VM. When it resumes, an old
//! leader must find it was deposed and never act on its stale view.

use super::{Injected, Undo};
use crate::cluster::Cluster;
use crate::error::{ChaosError, Result};

pub(super) fn inject(c: &mut Cluster, (id, role): (u64, &str)) -> Result<Injected> {
    c.node_mut(id).ok_or_else(|| missing(id))?.pause()?;
    Ok(Injected {
        detail: format!("SIGSTOP node {id} ({role})"),
        undo: Undo::Resume(id),
    })
}

pub(super) fn heal(c: &mut Cluster, id: u64) -> Result<()> {
    c.node_mut(id).ok_or_else(|| missing(id))?.resume()
}

fn missing(id: u64) -> ChaosError {
    ChaosError::Command {
        what: format!("find node {id}"),
        detail: "no such node".into(),
    }
}
