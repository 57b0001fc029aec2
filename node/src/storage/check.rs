//! `smsgw node check --data-dir D`: inspects a stopped node's data dir
//! without starting it (nothing is created) and says, for people, whether it
//! is sound, what is damaged (naming the file) and how to recover. It must
//! never remove or move anything itself: the operator decides. (Opening the
//! database lets sled run its own recovery, exactly as a start would.)

use std::path::PathBuf;

use clap::Args;

/// Arguments of `node check`.
#[derive(Args)]
pub struct CheckArgs {
    /// The data dir to check (the node must be stopped).
    #[arg(long)]
    pub data_dir: PathBuf,
}

/// Prints the report; an error (non-zero exit) when the dir is damaged.
pub fn run(args: CheckArgs) -> anyhow::Result<()> {
    let dir = &args.data_dir;
    if !dir.is_dir() {
        anyhow::bail!("{} is not a directory: give the node's data dir", dir.display());
    }
    match smsgw_raft::inspect_data_dir(dir) {
        Ok((node, found)) => {
            println!("data dir {}: node {node}, storage sound", dir.display());
            let range = found
                .log_range
                .map(|(a, b)| format!("{a}..={b}"))
                .unwrap_or_else(|| "none".into());
            let idx = |i: Option<u64>| i.map_or("none".to_string(), |i| i.to_string());
            println!(
                "  raft log: {} entries ({range}); snapshot up to {}; committed {}; applied {}; \
                 durable mark {}",
                found.entries,
                idx(found.purged),
                idx(found.committed),
                idx(found.applied),
                idx(found.durable)
            );
            Ok(())
        }
        Err(e @ smsgw_raft::StorageOpenError::Locked { .. }) => {
            anyhow::bail!("{e}: stop the node before checking its data dir")
        }
        Err(e) => {
            println!("data dir {}: DAMAGED", dir.display());
            println!("  {e}");
            println!(
                "  what can be recovered: a member of a running cluster gets everything back from the others: \
                 stop it, move {} away, start it again with an empty data dir (same node id and cluster secret) \
                 and run `smsgw cluster add` (or remove and re-add it) on a member: the leader sends it a snapshot. \
                 A single-node cluster can only restore a backup of this directory.",
                dir.display()
            );
            anyhow::bail!("the data dir {} is damaged", dir.display())
        }
    }
}
