//! Start-up repair of sled's own page-table snapshot (`snap.*` files in the
//! database directory; not raft's snapshot). sled 0.34 writes it as
//! `snap.LSN.generating`, syncs it and renames it to `snap.LSN`; on a full
//! disk the write fails and leaves an empty or partial `.generating` file,
//! which sled's next open reads first (it sorts highest) and refuses with
//! "empty/corrupt snapshot file found". That file is only an index over the
//! log: sled rebuilds it from the last complete snapshot, or from the start
//! of its log, so an unfinished one is removed, and a complete one that
//! cannot be read is moved aside (never deleted) for a rebuild from the log.
//! What was rebuilt is then checked against the durable mark by
//! `cluster::verify`: this module must never touch the log (`db`, `blobs`)
//! nor decide on its own that a rebuild lost nothing.

use std::path::{Path, PathBuf};

/// Where an unreadable sled snapshot is moved, in the node's data dir
/// (outside the database directory, so sled no longer sees it).
pub(crate) const QUARANTINE: &str = "sled-snapshot-quarantine";

fn snapshot_files(db_path: &Path) -> std::io::Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(db_path) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        // The same selection as sled's `get_snapshot_files`.
        if name.starts_with("snap.") && !name.ends_with(".in___motion") {
            out.push(entry.path());
        }
    }
    out.sort();
    Ok(out)
}

/// Removes every `snap.*.generating` file under `db_path`: sled renames a
/// snapshot once it is fully written and synced, so such a file is one whose
/// write failed (a full disk) or was cut by a crash, and sled's state never
/// depended on it. Returns the files removed.
pub(crate) fn remove_unfinished(db_path: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    for path in snapshot_files(db_path)? {
        if path.to_string_lossy().ends_with(".generating") {
            std::fs::remove_file(&path)?;
            removed.push(path);
        }
    }
    Ok(removed)
}

/// The unfinished `snap.*.generating` files under `db_path` (listed, not
/// touched: for `smsgw node check`, which writes nothing).
pub(crate) fn unfinished(db_path: &Path) -> Vec<PathBuf> {
    snapshot_files(db_path)
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".generating"))
        .collect()
}

/// Whether `db_path` holds any sled snapshot file.
pub(crate) fn has_snapshots(db_path: &Path) -> bool {
    snapshot_files(db_path).is_ok_and(|f| !f.is_empty())
}

/// Moves every sled snapshot file under `db_path` into `data_dir/QUARANTINE/`
/// so that sled rebuilds its page table from its log. Returns where they went.
pub(crate) fn quarantine(db_path: &Path, data_dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let files = snapshot_files(db_path)?;
    if files.is_empty() {
        return Ok(Vec::new());
    }
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let to_dir = data_dir.join(QUARANTINE).join(stamp.to_string());
    std::fs::create_dir_all(&to_dir)?;
    let mut moved = Vec::new();
    for path in files {
        let Some(name) = path.file_name() else { continue };
        let to = to_dir.join(name);
        std::fs::rename(&path, &to)?;
        moved.push(to);
    }
    Ok(moved)
}

#[cfg(test)]
mod tests {
    use super::super::storage::{inspect_data_dir, open_data_dir, StorageOpenError};
    use super::*;

    const N: u64 = 3_000;

    /// Opens the data dir as a node start does, waiting out the file lock
    /// of the store dropped just before: sled's own threads let go of it a
    /// moment after the last handle (seen on a loaded machine).
    fn open(dir: &Path) -> Result<sled::Db, StorageOpenError> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            match open_data_dir(dir, 7, super::super::storage::DEFAULT_CACHE_BYTES) {
                Err(StorageOpenError::Locked { .. }) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                other => return other,
            }
        }
    }

    /// A data dir written through the store: `N` values in `sm` and the raft
    /// log entries' keys in `log`, flushed, then closed.
    fn written(dir: &Path) -> PathBuf {
        let db = open(dir).expect("open");
        let sm = db.open_tree("sm").expect("sm");
        for i in 0..N {
            sm.insert(
                format!("m/{i:08}"),
                format!("message {i} {}", "x".repeat(200)).as_bytes(),
            )
            .expect("insert");
        }
        db.flush().expect("flush");
        drop(sm);
        drop(db);
        // A second open makes sled write its page-table snapshot.
        let db = open(dir).expect("reopen");
        db.flush().expect("flush");
        drop(db);
        dir.join("store-v2.sled")
    }

    fn all_there(dir: &Path) {
        let db = open(dir).expect("open after repair");
        let sm = db.open_tree("sm").expect("sm");
        for i in 0..N {
            let v = sm
                .get(format!("m/{i:08}"))
                .expect("read")
                .expect("every value kept");
            assert!(v.starts_with(format!("message {i} ").as_bytes()));
        }
    }

    #[test]
    fn an_empty_generating_snapshot_left_by_a_full_disk_is_removed_and_nothing_is_lost() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db_path = written(dir.path());
        let snaps = snapshot_files(&db_path).expect("list");
        let last = snaps.last().expect("sled wrote a snapshot");
        // What a failed write leaves: the next name, empty.
        let unfinished = PathBuf::from(format!("{}.generating", last.display()));
        std::fs::File::create(&unfinished).expect("empty snapshot");
        // `node check` writes nothing: it names the file and the way out.
        match inspect_data_dir(dir.path()) {
            Err(StorageOpenError::Corrupt { reason, .. }) => {
                assert!(reason.contains("unfinished"), "{reason}")
            }
            other => panic!("inspected: {:?}", other.map(|_| ())),
        }
        assert!(unfinished.exists());
        all_there(dir.path());
        assert!(!unfinished.exists());
        assert!(inspect_data_dir(dir.path()).is_ok());
    }

    #[test]
    fn an_unreadable_complete_snapshot_is_moved_aside_and_the_log_rebuilds_everything() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db_path = written(dir.path());
        for snap in snapshot_files(&db_path).expect("list") {
            std::fs::write(&snap, b"short").expect("truncate");
        }
        all_there(dir.path());
        let kept = std::fs::read_dir(dir.path().join(QUARANTINE))
            .expect("quarantine")
            .count();
        assert_eq!(kept, 1);
    }

    #[test]
    fn a_rebuild_that_misses_committed_entries_is_refused_by_the_durable_mark() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db_path = written(dir.path());
        for snap in snapshot_files(&db_path).expect("list") {
            std::fs::write(&snap, b"").expect("empty");
        }
        // The mark says entry 5 was committed and flushed; the log is empty.
        std::fs::write(
            dir.path().join(super::super::storage::DURABLE_MARK),
            b"committed 5\n",
        )
        .expect("mark");
        match open(dir.path()) {
            Err(StorageOpenError::Corrupt { reason, .. }) => {
                assert!(reason.contains("lost data"), "{reason}")
            }
            other => panic!("opened: {:?}", other.map(|_| ())),
        }
    }
}
