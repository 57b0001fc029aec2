//! Clock skew on one node: it is killed and restarted with its wall clock
//! moved by `SKEW_SECS` (ahead or behind, at random) through libfaketime
//! (`LD_PRELOAD`, monotonic clocks left true so timers still work), then
//! restarted again with the true time at heal. Times inside replicated
//! commands come from the proposing node's wall clock, so this shows what a
//! skewed leader does to ids, deadlines and statuses. Needs Debian's
//! `faketime` package; without it the nemesis says so and never runs.

use rand::Rng;

use super::{Injected, Undo};
use crate::cluster::Cluster;
use crate::error::{ChaosError, Result};

const SKEW_SECS: i64 = 90;

/// Where Debian and others put libfaketime (the multi-threaded variant).
const CANDIDATES: [&str; 3] = [
    "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
    "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1",
    "/usr/lib/faketime/libfaketimeMT.so.1",
];

/// The libfaketime library, or why clock skew cannot run here.
pub fn library() -> std::result::Result<&'static str, String> {
    CANDIDATES
        .iter()
        .copied()
        .find(|p| std::path::Path::new(p).is_file())
        .ok_or_else(|| "clock skew needs libfaketime (apt-get install faketime)".to_string())
}

pub(super) async fn inject(c: &mut Cluster, (id, role): (u64, &str)) -> Result<Injected> {
    let lib = library().map_err(|detail| ChaosError::Command {
        what: "clock skew".into(),
        detail,
    })?;
    let skew = if rand::thread_rng().gen_bool(0.5) {
        SKEW_SECS
    } else {
        -SKEW_SECS
    };
    let node = c.node_mut(id).ok_or_else(|| missing(id))?;
    node.env = vec![
        ("LD_PRELOAD".into(), lib.into()),
        ("FAKETIME".into(), format!("{skew:+}s")),
        ("FAKETIME_DONT_FAKE_MONOTONIC".into(), "1".into()),
    ];
    node.restart().await?;
    Ok(Injected {
        detail: format!("node {id} ({role}) restarted with its clock {skew:+} s"),
        undo: Undo::TrueClock(id),
    })
}

pub(super) async fn heal(c: &mut Cluster, id: u64) -> Result<()> {
    let node = c.node_mut(id).ok_or_else(|| missing(id))?;
    node.env.clear();
    node.restart().await
}

fn missing(id: u64) -> ChaosError {
    ChaosError::Command {
        what: format!("find node {id}"),
        detail: "no such node".into(),
    }
}
