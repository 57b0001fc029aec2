//! `smsgw config validate`: checks a node file the way `node start` would.
//! It must never start anything or change the file.

use std::path::PathBuf;

use clap::Subcommand;
use smsgw_config::NodeConfig;

/// Work with configuration files.
#[derive(Subcommand)]
pub enum ConfigCmd {
    /// Check a node file: syntax, unknown keys, node ids, addresses, and that the data dir is writable.
    ///
    /// Errors name the file, the line and the key, e.g.
    /// `node.toml:7: key `peers[1].id`: node id 2 appears twice (first at line 3)`.
    Validate {
        /// The node file (TOML).
        file: PathBuf,
    },
}

pub fn run(cmd: ConfigCmd) -> anyhow::Result<()> {
    match cmd {
        ConfigCmd::Validate { file } => {
            let name = file.display().to_string();
            let cfg = NodeConfig::load(&file)?;
            cfg.check_data_dir_writable(&name)?;
            println!(
                "{name}: ok (node {}, raft {}, data {}, {} peers)",
                cfg.node_id,
                cfg.raft_addr,
                cfg.data_dir.display(),
                cfg.peers.len()
            );
            Ok(())
        }
    }
}
