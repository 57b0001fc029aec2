//! Exports raft's own metrics as `smsgw_raft_*` through the `metrics` facade
//! by watching openraft's metrics channel. It must never block raft: it only
//! reads the watch channel.

use crate::types::Raft;

/// Spawns the exporter; it ends when raft shuts down.
pub fn spawn_exporter(raft: Raft) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut rx = raft.metrics();
        let mut last_leader = None;
        loop {
            {
                let m = rx.borrow_and_update();
                metrics::gauge!("smsgw_raft_term").set(m.current_term as f64);
                metrics::gauge!("smsgw_raft_is_leader").set(if m.current_leader == Some(m.id) {
                    1.0
                } else {
                    0.0
                });
                metrics::gauge!("smsgw_raft_last_log_index").set(m.last_log_index.unwrap_or(0) as f64);
                metrics::gauge!("smsgw_raft_applied_index")
                    .set(m.last_applied.map(|l| l.index).unwrap_or(0) as f64);
                metrics::gauge!("smsgw_raft_snapshot_index")
                    .set(m.snapshot.map(|l| l.index).unwrap_or(0) as f64);
                metrics::gauge!("smsgw_raft_purged_index").set(m.purged.map(|l| l.index).unwrap_or(0) as f64);
                if m.current_leader != last_leader {
                    if m.current_leader.is_some() {
                        metrics::counter!("smsgw_raft_leader_changes_total").increment(1);
                    }
                    last_leader = m.current_leader;
                }
            }
            if rx.changed().await.is_err() {
                return;
            }
        }
    })
}
