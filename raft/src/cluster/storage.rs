//! Opening a node's data directory: a `NODE` marker naming the node id, and
//! the sled database under `raft.sled`. It must never start on a directory
//! that belongs to another node or to something else: it refuses and says
//! what it found and where.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::types::NodeId;

const MARKER: &str = "NODE";
const MARKER_PREFIX: &str = "smsgw-node ";
/// The storage format: 2 since the domain moved to `smsgw-state` (entries
/// carry opaque application commands).
const FORMAT: u32 = 2;
/// The committed index last made durable (see `log_store`), next to the
/// database: what a start checks the database against.
pub(crate) const DURABLE_MARK: &str = "store-v2.durable";
/// Where format 1 kept its database.
const OLD_DB: &str = "raft.sled";

/// Why a node's storage could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum StorageOpenError {
    /// The directory could not be created or written.
    #[error("data dir {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The directory holds files that are not an smsgw node's.
    #[error("data dir {path} is not empty and has no {MARKER} file: it does not look like an smsgw data dir (found {found}); use an empty or new directory")]
    Foreign {
        /// The path.
        path: PathBuf,
        /// One entry found there.
        found: String,
    },
    /// The directory belongs to another node id.
    #[error("data dir {path} belongs to node {found}, not node {expected}: use that node's id or another directory")]
    WrongNode {
        /// The path.
        path: PathBuf,
        /// The id in the marker.
        found: String,
        /// The id configured.
        expected: NodeId,
    },
    /// The directory was written by an older build whose stored format this
    /// build does not read.
    #[error("data dir {path} holds {found}, written by an older smsgw (storage format 1); this build uses format {FORMAT}: move it away and start with an empty directory (a member of a running cluster gets its state back by snapshot when it rejoins)")]
    OldFormat {
        /// The path.
        path: PathBuf,
        /// What was found.
        found: String,
    },
    /// Another process (or a handle not yet dropped) holds the database.
    #[error("{} is in use by another process (another smsgw node on this data dir?): {reason}", path.display())]
    Locked {
        /// The path of the database.
        path: PathBuf,
        /// What sled reported.
        reason: String,
    },
    /// The database is unreadable or damaged.
    #[error("{} is damaged: {reason}; this node's copy cannot be trusted: see `smsgw node check --data-dir {}`; \
             to recover, move the data dir away and rejoin the cluster (a member gets the state back by snapshot), \
             or restore a backup", path.display(), path.parent().unwrap_or(path).display())]
    Corrupt {
        /// The path of the database.
        path: PathBuf,
        /// What sled reported.
        reason: String,
    },
}

fn io(path: &Path, source: std::io::Error) -> StorageOpenError {
    StorageOpenError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Bytes of sled's page cache unless the node file says otherwise
/// (`storage_cache_mb`).
pub const DEFAULT_CACHE_BYTES: u64 = 128 << 20;

/// Opens (creating if new) the data directory of node `id`, with a page
/// cache of `cache_bytes`.
pub fn open_data_dir(dir: &Path, id: NodeId, cache_bytes: u64) -> Result<sled::Db, StorageOpenError> {
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let marker = dir.join(MARKER);
    match std::fs::read_to_string(&marker) {
        Ok(text) => {
            let found = text
                .trim()
                .strip_prefix(MARKER_PREFIX.trim_end())
                .map(str::trim)
                .unwrap_or("");
            if found != id.to_string() {
                if found.is_empty() {
                    return Err(StorageOpenError::Foreign {
                        path: dir.to_path_buf(),
                        found: format!("{MARKER} file with {:?}", text.trim()),
                    });
                }
                return Err(StorageOpenError::WrongNode {
                    path: dir.to_path_buf(),
                    found: found.to_string(),
                    expected: id,
                });
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // The operator may place the cluster secret in a new node's
            // data dir before its first start; anything else is foreign.
            let entries = std::fs::read_dir(dir).map_err(|e| io(dir, e))?;
            let mut others = entries.filter(|e| {
                e.as_ref()
                    .map(|e| e.file_name() != crate::network::secret::SECRET_FILE)
                    .unwrap_or(true)
            });
            if let Some(entry) = others.next() {
                let entry = entry.map_err(|e| io(dir, e))?;
                return Err(StorageOpenError::Foreign {
                    path: dir.to_path_buf(),
                    found: entry.file_name().to_string_lossy().into_owned(),
                });
            }
            let mut f = std::fs::File::create(&marker).map_err(|e| io(&marker, e))?;
            writeln!(f, "{MARKER_PREFIX}{id}").map_err(|e| io(&marker, e))?;
            f.sync_all().map_err(|e| io(&marker, e))?;
        }
        Err(e) => return Err(io(&marker, e)),
    }
    if dir.join(OLD_DB).exists() {
        return Err(StorageOpenError::OldFormat {
            path: dir.to_path_buf(),
            found: OLD_DB.into(),
        });
    }
    let db_path = dir.join(format!("store-v{FORMAT}.sled"));
    for removed in super::sled_repair::remove_unfinished(&db_path).map_err(|e| io(&db_path, e))? {
        tracing::warn!(
            file = %removed.display(),
            "removed an unfinished sled page-table snapshot (a write cut by a full disk or a crash); \
             sled rebuilds it from its log, and the durable mark check below proves nothing committed is missing"
        );
    }
    let opened = open_sled(&db_path, cache_bytes)?;
    super::verify::verify(&opened, &db_path, &dir.join(DURABLE_MARK))?;
    Ok(opened)
}

fn open_sled(db_path: &Path, cache_bytes: u64) -> Result<sled::Db, StorageOpenError> {
    let open = || {
        sled::Config::new()
            .path(db_path)
            .cache_capacity(cache_bytes)
            .open()
    };
    match std::panic::catch_unwind(open) {
        Ok(Ok(db)) => Ok(db),
        Ok(Err(e)) => Err(sled_open_error(db_path.to_path_buf(), e)),
        Err(_) => Err(StorageOpenError::Corrupt {
            path: db_path.to_path_buf(),
            reason: "sled panicked while reading it".into(),
        }),
    }
}

/// Inspects the data dir `dir` without starting anything (for `smsgw node
/// check`): the marker, the format, and the database read through (see
/// [`super::verify`]). Returns the node id in the marker and what the
/// database holds. It creates nothing: a missing directory is an error.
pub fn inspect_data_dir(dir: &Path) -> Result<(String, super::Inspection), StorageOpenError> {
    let marker = dir.join(MARKER);
    let text = std::fs::read_to_string(&marker).map_err(|e| io(&marker, e))?;
    let node = text
        .trim()
        .strip_prefix(MARKER_PREFIX.trim_end())
        .map(str::trim)
        .filter(|n| n.parse::<NodeId>().is_ok())
        .ok_or_else(|| StorageOpenError::Corrupt {
            path: marker.clone(),
            reason: format!("the marker holds {:?}, not `{MARKER_PREFIX}ID`", text.trim()),
        })?
        .to_string();
    if dir.join(OLD_DB).exists() {
        return Err(StorageOpenError::OldFormat {
            path: dir.to_path_buf(),
            found: OLD_DB.into(),
        });
    }
    let db_path = dir.join(format!("store-v{FORMAT}.sled"));
    if !db_path.is_dir() {
        return Err(StorageOpenError::Corrupt {
            path: db_path,
            reason: "missing: the node was never started here, or the database was removed".into(),
        });
    }
    let db = match open_sled(&db_path, DEFAULT_CACHE_BYTES) {
        Ok(db) => db,
        Err(StorageOpenError::Corrupt { path, reason }) => {
            let cut = super::sled_repair::unfinished(&path);
            let reason =
                if cut.is_empty() {
                    reason
                } else {
                    format!(
                    "{reason}; sled's page-table snapshot {} is unfinished (a full disk or a crash cut it): \
                     `smsgw node start` removes it and sled rebuilds from its log, then the start checks \
                     the durable mark",
                    cut.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
                )
                };
            return Err(StorageOpenError::Corrupt { path, reason });
        }
        Err(e) => return Err(e),
    };
    let found = super::verify::verify(&db, &db_path, &dir.join(DURABLE_MARK))?;
    Ok((node, found))
}

/// Opens the data dir of node `id` again after a storage failure, waiting
/// (up to `wait`) for the handles of the failed store to be dropped: sled
/// holds a lock on its files as long as any remain.
pub(crate) async fn reopen(
    dir: &Path,
    id: NodeId,
    wait: std::time::Duration,
) -> Result<sled::Db, StorageOpenError> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match open_data_dir(dir, id, DEFAULT_CACHE_BYTES) {
            Err(StorageOpenError::Locked { .. }) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            other => return other,
        }
    }
}

fn sled_open_error(path: PathBuf, e: sled::Error) -> StorageOpenError {
    let reason = e.to_string();
    if reason.contains("could not acquire lock") {
        StorageOpenError::Locked { path, reason }
    } else {
        StorageOpenError::Corrupt { path, reason }
    }
}
