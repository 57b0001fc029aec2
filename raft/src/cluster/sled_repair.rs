//! Start-up repair of sled's own page-table snapshot (`snap.*` files in the
//! database directory; not raft's snapshot). sled 0.34 writes it as
//! `snap.LSN.generating`, syncs it and renames it to `snap.LSN`; on a full
//! disk the write fails and leaves an empty or partial `.generating` file,
//! which sled's next open reads first (it sorts highest) and refuses with
//! "empty/corrupt snapshot file found". That file is only an index over the
//! log: sled rebuilds it from the last complete snapshot, or from the start
//! of its log, so an unfinished one is removed. A complete snapshot that
//! cannot be read is damage, not an interrupted write: it is left in place
//! and the store refused. Moving it aside once made sled rebuild from a log
//! that was itself damaged, keep what preceded the damage and start, which
//! the durable mark (written at most every 500 ms) did not always catch.
//! This module must never touch the log (`db`, `blobs`) nor any complete
//! snapshot.

use std::path::{Path, PathBuf};

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
    fn a_store_that_misses_committed_entries_is_refused_by_the_durable_mark() {
        let dir = tempfile::tempdir().expect("tempdir");
        written(dir.path());
        // The mark says entry 5 was committed and flushed; the log is empty
        // (what sled leaves when it drops a damaged part of its file).
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
