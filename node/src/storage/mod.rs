//! The node's view of its own disk: free space on the data dir's
//! filesystem (sampled every second, statvfs) and the size of the data dir
//! (walked every 10 s, off the request path), exported as
//! `smsgw_storage_free_bytes`, `smsgw_storage_total_bytes` and
//! `smsgw_storage_used_bytes`; the high-water mark (`storage_min_free_mb`)
//! below which new messages are refused with 507 `storage_full` before the
//! storage layer itself fails; and the `/readyz` check saying so.
//!
//! - [`supervise`]: rebuilds raft in-process after it stopped on a storage
//!   error, once the disk has room again.
//! - [`check`]: `smsgw node check`, the offline inspection of a data dir.
//!
//! The request path only reads atomics here: it must never touch the disk.

pub mod check;
pub mod supervise;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::api::ReadyCheck;

/// How often free space is sampled (a statvfs call).
const FREE_EVERY: Duration = Duration::from_secs(1);
/// How often the data dir is walked for its size.
const USED_EVERY: Duration = Duration::from_secs(10);
pub(crate) const MIB: u64 = 1024 * 1024;

/// The data dir's disk as last sampled, and what it means for accepting.
pub struct Disk {
    dir: PathBuf,
    /// The configured high-water mark in bytes (0: off; `None`: the default,
    /// see [`Disk::mark`]).
    min_free: Option<u64>,
    free: AtomicU64,
    total: AtomicU64,
    used: AtomicU64,
    /// Whether `free` was sampled at least once.
    sampled: AtomicBool,
    /// Why raft is stopped on a storage error (set by the supervisor).
    raft_failure: Mutex<Option<String>>,
}

impl Disk {
    /// The disk of `dir`, refusing new messages below `min_free_mb` MiB free
    /// (`None`: the default mark).
    pub fn new(dir: &Path, min_free_mb: Option<u64>) -> Arc<Self> {
        let d = Arc::new(Self {
            dir: dir.to_path_buf(),
            min_free: min_free_mb.map(|mb| mb.saturating_mul(MIB)),
            free: AtomicU64::new(0),
            total: AtomicU64::new(0),
            used: AtomicU64::new(0),
            sampled: AtomicBool::new(false),
            raft_failure: Mutex::new(None),
        });
        d.sample_free();
        d
    }

    /// Samples free space now (and the test fault switch, in test builds).
    fn sample_free(&self) {
        let (free, total) = match (fs2::available_space(&self.dir), fs2::total_space(&self.dir)) {
            (Ok(f), Ok(t)) => (f, t),
            (Err(e), _) | (_, Err(e)) => {
                smsgw_actors::warn_limited!("storage-statvfs", dir = %self.dir.display(), "cannot read free space: {e}");
                return;
            }
        };
        let free = test_fault::free_override(&self.dir).unwrap_or(free);
        self.free.store(free, Ordering::Relaxed);
        self.total.store(total, Ordering::Relaxed);
        self.sampled.store(true, Ordering::Relaxed);
        metrics::gauge!("smsgw_storage_free_bytes").set(free as f64);
        metrics::gauge!("smsgw_storage_total_bytes").set(total as f64);
        metrics::gauge!("smsgw_storage_min_free_bytes").set(self.mark() as f64);
        metrics::gauge!("smsgw_storage_accepting").set(if self.below_mark().is_some() { 0.0 } else { 1.0 });
    }

    fn sample_used(&self) {
        let used = dir_size(&self.dir, 0);
        self.used.store(used, Ordering::Relaxed);
        metrics::gauge!("smsgw_storage_used_bytes").set(used as f64);
    }

    /// Samples the disk until the task is aborted.
    pub fn spawn(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            let mut since_walk = USED_EVERY;
            loop {
                let d = me.clone();
                let walk = since_walk >= USED_EVERY;
                // statvfs and the walk block on the filesystem: never on a
                // runtime thread that serves requests.
                let _ = tokio::task::spawn_blocking(move || {
                    d.sample_free();
                    if walk {
                        d.sample_used();
                    }
                })
                .await;
                since_walk = if walk { FREE_EVERY } else { since_walk + FREE_EVERY };
                tokio::time::sleep(FREE_EVERY).await;
            }
        })
    }

    /// The high-water mark in bytes: as configured, or by default 256 MiB
    /// or a tenth of the filesystem, whichever is less.
    fn mark(&self) -> u64 {
        self.min_free.unwrap_or_else(|| {
            let tenth = self.total.load(Ordering::Relaxed) / 10;
            tenth.min(smsgw_config::DEFAULT_STORAGE_MIN_FREE_MB * MIB)
        })
    }

    /// `Some(message)` while free space is under the high-water mark.
    fn below_mark(&self) -> Option<String> {
        let mark = self.mark();
        if mark == 0 || !self.sampled.load(Ordering::Relaxed) {
            return None;
        }
        let free = self.free.load(Ordering::Relaxed);
        (free < mark).then(|| {
            format!(
                "{} MiB free on the data dir's filesystem ({}), under the node's mark `storage_min_free_mb` = {} MiB",
                free / MIB,
                self.dir.display(),
                mark / MIB
            )
        })
    }

    /// Why new messages are refused now, if they are (never touches the disk).
    pub fn refusal(&self) -> Option<crate::api::ApiError> {
        self.below_mark().map(crate::api::ApiError::StorageFull)
    }

    /// Free bytes as last sampled.
    pub fn free(&self) -> u64 {
        self.free.load(Ordering::Relaxed)
    }

    /// Whether the disk has room again: above the mark, at least `need`
    /// bytes free, no injected fault. When the supervisor may rebuild a raft
    /// stopped on a storage error. Samples free space first, off the
    /// runtime's threads: the periodic sample may predate the write that
    /// filled the disk, and a rebuild on a full disk fails at once (its
    /// reopen also fails the reads of every request meanwhile).
    pub async fn has_room_now(self: &Arc<Self>, need: u64) -> bool {
        let d = self.clone();
        let _ = tokio::task::spawn_blocking(move || d.sample_free()).await;
        self.below_mark().is_none() && self.free() >= need && !test_fault::raft_fault_on()
    }

    /// Records (or clears) why raft is stopped on a storage error.
    pub fn set_raft_failure(&self, why: Option<String>) {
        *self.raft_failure.lock().unwrap_or_else(|p| p.into_inner()) = why;
    }

    /// The `/readyz` check.
    pub fn ready_check(self: &Arc<Self>) -> Arc<dyn ReadyCheck> {
        self.clone()
    }
}

impl ReadyCheck for Disk {
    fn name(&self) -> &str {
        "storage"
    }

    fn check(&self) -> Result<(), String> {
        if let Some(why) = self
            .raft_failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            return Err(format!(
                "raft stopped on a storage error ({why}); the node rebuilds it once the disk has room"
            ));
        }
        match self.below_mark() {
            Some(m) => Err(format!("not accepting new messages: {m}")),
            None => Ok(()),
        }
    }
}

/// Bytes under `path` (files only; symlinks not followed; depth bounded).
pub(crate) fn dir_size(path: &Path, depth: usize) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    let mut total = 0u64;
    for e in entries.flatten() {
        let Ok(meta) = e.metadata() else { continue };
        if meta.is_dir() && depth < 8 {
            total = total.saturating_add(dir_size(&e.path(), depth + 1));
        } else if meta.is_file() {
            total = total.saturating_add(meta.len());
        }
    }
    total
}

/// The storage fault switch of the node's own tests (feature
/// `test-commands`): a file `DATA_DIR/test-storage-fault` holding
/// `free=BYTES` makes the node see that much free space, and `raft-full`
/// makes raft's log appends fail as on a full disk. Without the feature it
/// is never read.
mod test_fault {
    use std::path::Path;

    #[cfg(feature = "test-commands")]
    const FILE: &str = "test-storage-fault";

    #[cfg(feature = "test-commands")]
    pub(super) fn free_override(dir: &Path) -> Option<u64> {
        let text = std::fs::read_to_string(dir.join(FILE)).unwrap_or_default();
        smsgw_raft::fault::set_disk_full(text.lines().any(|l| l.trim() == "raft-full"));
        text.lines()
            .find_map(|l| l.trim().strip_prefix("free="))
            .and_then(|v| v.trim().parse().ok())
    }

    #[cfg(feature = "test-commands")]
    pub(super) fn raft_fault_on() -> bool {
        smsgw_raft::fault::disk_full()
    }

    #[cfg(not(feature = "test-commands"))]
    pub(super) fn free_override(_dir: &Path) -> Option<u64> {
        None
    }

    #[cfg(not(feature = "test-commands"))]
    pub(super) fn raft_fault_on() -> bool {
        false
    }
}
