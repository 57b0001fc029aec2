//! `cluster status`: asks one node for the membership, then each member for
//! its own indexes, and prints a table. It must never fail because one member
//! is down: that member is shown as unreachable.

use std::time::Duration;

use anyhow::bail;
use smsgw_raft::{admin_call, AdminRequest, AdminResponse, ClusterSecret, NodeStatus};

async fn status_of(secret: &ClusterSecret, addr: &str) -> Result<NodeStatus, String> {
    match admin_call(secret, addr, AdminRequest::Status, Duration::from_secs(2)).await {
        Ok(AdminResponse::Status(s)) => Ok(*s),
        Ok(other) => Err(format!("unexpected answer {other:?}")),
        Err(e) => Err(e.to_string()),
    }
}

fn idx(i: Option<u64>) -> String {
    i.map(|i| i.to_string()).unwrap_or_else(|| "-".into())
}

pub async fn run(secret: &ClusterSecret, addr: &str) -> anyhow::Result<()> {
    let me = match status_of(secret, addr).await {
        Ok(s) => s,
        Err(e) => bail!("{e}"),
    };
    if !me.initialized {
        println!(
            "node {} at {} is not part of an initialised cluster",
            me.id, me.raft_addr
        );
        return Ok(());
    }
    println!(
        "leader: {}   term: {}   (as seen by node {})",
        idx(me.leader),
        me.term,
        me.id
    );
    let leader_last = match me.leader {
        Some(l) if l == me.id => me.last_log_index,
        Some(l) => {
            let laddr = me
                .voters
                .iter()
                .chain(&me.learners)
                .find(|(id, _)| *id == l)
                .map(|(_, n)| n.raft_addr.clone());
            match laddr {
                Some(a) => status_of(secret, &a).await.ok().and_then(|s| s.last_log_index),
                None => None,
            }
        }
        None => None,
    };
    println!(
        "{:<6} {:<8} {:<22} {:<10} {:>10} {:>10} {:>8} {:>10}",
        "id", "role", "raft", "state", "last_log", "applied", "lag", "snapshot"
    );
    let members = me
        .voters
        .iter()
        .map(|m| (m, "voter"))
        .chain(me.learners.iter().map(|m| (m, "learner")));
    for ((id, info), role) in members {
        match status_of(secret, &info.raft_addr).await {
            Ok(s) => {
                let lag = match (leader_last, s.applied_index) {
                    (Some(l), Some(a)) => l.saturating_sub(a).to_string(),
                    _ => "-".into(),
                };
                println!(
                    "{:<6} {:<8} {:<22} {:<10} {:>10} {:>10} {:>8} {:>10}",
                    id,
                    role,
                    info.raft_addr,
                    s.state,
                    idx(s.last_log_index),
                    idx(s.applied_index),
                    lag,
                    idx(s.snapshot_index)
                );
            }
            Err(e) => println!("{:<6} {:<8} {:<22} unreachable: {e}", id, role, info.raft_addr),
        }
    }
    Ok(())
}
