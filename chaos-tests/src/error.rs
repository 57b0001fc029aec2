//! The harness's one error type. Drills report what failed to start or to
//! answer; a violation of the cluster's promises is never an error here but
//! a verdict of the [`crate::checker`].

use std::path::PathBuf;

/// What went wrong while setting up or steering a drill.
#[derive(Debug, thiserror::Error)]
pub enum ChaosError {
    #[error("the smsgw binary was not found at {0} (set SMSGW_BIN, or run `cargo build -p smsgw`)")]
    NoBinary(PathBuf),
    #[error("cannot spawn {what}: {source}")]
    Spawn { what: String, source: std::io::Error },
    #[error("{what}: {source}")]
    Io { what: String, source: std::io::Error },
    #[error("node {node} did not print its ready line within {secs} s")]
    NotReady { node: u64, secs: u64 },
    #[error("{what} failed: {detail}")]
    Command { what: String, detail: String },
    #[error("timed out after {secs} s waiting for {what}")]
    Timeout { what: String, secs: u64 },
    #[error("the simulator did not start: {0}")]
    Simulator(String),
    #[error("HTTP {addr}{path}: {detail}")]
    Http {
        addr: String,
        path: String,
        detail: String,
    },
}

impl ChaosError {
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        ChaosError::Io {
            what: what.into(),
            source,
        }
    }
}

pub type Result<T> = std::result::Result<T, ChaosError>;
