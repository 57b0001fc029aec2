//! Where the `smsgw` binary under test is. `env!("CARGO_BIN_EXE_smsgw")`
//! exists only inside the node crate, so a drill is given the path: the
//! running binary itself for `smsgw drill`, `SMSGW_BIN`, or the workspace's
//! `target/debug/smsgw` next to a test executable (built first by
//! [`build_for_tests`]). It must never pick a binary it did not check exists.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{ChaosError, Result};

/// `SMSGW_BIN` if set, else `smsgw` in the cargo profile dir that holds the
/// running executable (`target/debug/deps/x` → `target/debug/smsgw`).
pub fn locate() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("SMSGW_BIN") {
        return exists(PathBuf::from(p));
    }
    let exe = std::env::current_exe().map_err(|e| ChaosError::io("current_exe", e))?;
    let mut dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    if dir.ends_with("deps") {
        dir.pop();
    }
    exists(dir.join("smsgw"))
}

fn exists(p: PathBuf) -> Result<PathBuf> {
    if p.is_file() {
        Ok(p)
    } else {
        Err(ChaosError::NoBinary(p))
    }
}

/// For `cargo test -p smsgw-chaos-tests`: builds `smsgw` (a no-op when it is
/// up to date) with the cargo that runs the tests, then locates it. Skipped
/// when `SMSGW_BIN` names a binary. Built with the `test-commands` feature,
/// as the node's own tests build it: its fault switches (off unless their
/// variable is set) let a drill show the checker catching a broken build.
pub fn build_for_tests() -> Result<PathBuf> {
    if std::env::var_os("SMSGW_BIN").is_some() {
        return locate();
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(&cargo)
        .args([
            "build",
            "-q",
            "-p",
            "smsgw",
            "--bin",
            "smsgw",
            "--features",
            "test-commands",
        ])
        .output()
        .map_err(|source| ChaosError::Spawn {
            what: cargo.clone(),
            source,
        })?;
    if !out.status.success() {
        return Err(ChaosError::Command {
            what: "cargo build -p smsgw".into(),
            detail: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    locate()
}
