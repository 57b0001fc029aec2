//! Where the cluster secret comes from. The CLI (every command that talks to
//! a raft port) looks, in order, at `--secret-file`, `SMSGW_CLUSTER_SECRET`
//! (the hex secret itself) and `./smsgw-data/cluster-secret`, so the
//! no-config node and the CLI run from the same directory need nothing.
//! A node uses `--secret-file`, then the node file's `cluster_secret_file`,
//! then `DATA_DIR/cluster-secret`, created at its first start. A node
//! re-reads its file when it changes (and on SIGHUP), so the secret can be
//! rotated without a restart (docs/SECURITY.md); the CLI dials with the
//! file's first line.
//!
//! It must never print the secret, and never create one for the CLI: a
//! secret the cluster does not hold is useless and would hide the mistake.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use smsgw_raft::network::secret::SECRET_FILE;
use smsgw_raft::ClusterSecret;

/// The variable holding the secret (hex) for the CLI.
pub const SECRET_ENV: &str = "SMSGW_CLUSTER_SECRET";

/// The secret the CLI proves to a node.
pub fn for_cli(file: Option<&Path>) -> anyhow::Result<ClusterSecret> {
    if let Some(f) = file {
        return ClusterSecret::read_file(f).context("authentication failed: cannot read --secret-file");
    }
    if let Ok(v) = std::env::var(SECRET_ENV) {
        return ClusterSecret::from_hex(&v, SECRET_ENV).context("authentication failed");
    }
    let default = Path::new("./smsgw-data").join(SECRET_FILE);
    if default.exists() {
        return ClusterSecret::read_file(&default).context("authentication failed");
    }
    bail!(
        "authentication failed: no cluster secret: give --secret-file FILE, set {SECRET_ENV}, \
         or run from the directory that holds smsgw-data/{SECRET_FILE}"
    )
}

/// Checks the secret file a node was given by the operator before anything
/// starts, and returns it for raft to read and watch (rotation); `None`: its
/// own in the data dir (read, or created by raft at the first start once the
/// data dir is known to be this node's).
pub fn for_node(given: Option<&Path>) -> anyhow::Result<Option<PathBuf>> {
    if let Some(f) = given {
        smsgw_raft::SecretSet::read_file(f).context("the cluster secret file")?;
    }
    Ok(given.map(Path::to_path_buf))
}

/// `--secret-file` as the CLI got it.
pub type SecretFile = Option<PathBuf>;
