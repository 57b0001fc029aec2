//! Snapshots of the state tree as files in the node's snapshot directory
//! (see [`super::snapfile`]): built by streaming the tree to a file in the
//! build's own task while applies go on, reading the state as of the
//! build's start through [`super::undo`]; sent by openraft in chunks from that file, received
//! into a file and installed by streaming it into a fresh tree in bounded
//! batches, then switching to that tree with one atomic write of the
//! `state-tree` record. It must never hold the state in memory, never mix
//! keys of the old and the new state, and never leave the old state
//! damaged when an install stops half-way (a crash before the switch
//! leaves the old tree named, and the next open drops the unfinished one).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use openraft::{ErrorVerb, RaftSnapshotBuilder, StorageError};
use serde::{Deserialize, Serialize};

use super::snapfile::{SnapFileError, SnapReader, SnapWriter};
use super::undo::{Passes, Undo};
use super::{keys, sm_err};
use crate::codec;
use crate::types::{LogId, NodeId, SnapshotMeta, StoredMembership, TypeConfig};

/// Format 1: the whole state encoded in one sled value (read once, to
/// convert it to a file).
const KEY_V1: &[u8] = b"current";
/// The current snapshot: its meta and file name.
const KEY_CURRENT: &[u8] = b"current-v2";
/// The name of the tree holding the state (default [`DEFAULT_TREE`]).
pub(crate) const KEY_STATE_TREE: &[u8] = b"state-tree";
pub(crate) const DEFAULT_TREE: &str = "sm";
/// Prefix of the trees an install fills before it switches to one.
const INSTALL_PREFIX: &str = "sm-";
/// Batches written between two flushes during an install (4 MiB of
/// [`BATCH_BYTES`](crate::reclaim::BATCH_BYTES) batches).
const FLUSH_EVERY_BATCHES: u64 = 64;

/// Format 1 as stored (kept only to convert it).
#[derive(Deserialize)]
struct StoredV1 {
    meta: SnapshotMeta,
    data: Vec<u8>,
}

#[derive(Deserialize)]
struct BodyV1 {
    format: u32,
    kv: Vec<(Vec<u8>, Vec<u8>)>,
}

/// The current snapshot as recorded in the `snapshot` tree.
#[derive(Serialize, Deserialize)]
struct Current {
    meta: SnapshotMeta,
    file: String,
}

/// Where snapshot files live, and the lock that orders "current" updates
/// between a build (its own task) and an install.
#[derive(Clone)]
pub(crate) struct Files {
    pub(crate) dir: PathBuf,
    pub(crate) snapshots: sled::Tree,
    pub(crate) counter: Arc<AtomicU64>,
    lock: Arc<std::sync::Mutex<()>>,
    /// Size of the current snapshot file (0: none), for the trigger that
    /// spaces snapshots by the log written since (`cluster::snapshots`).
    pub(crate) bytes: Arc<AtomicU64>,
}

fn other(e: impl std::fmt::Display) -> sled::Error {
    sled::Error::Io(std::io::Error::other(e.to_string()))
}

impl Files {
    pub(crate) fn new(dir: PathBuf, snapshots: sled::Tree) -> Self {
        Self {
            dir,
            snapshots,
            counter: Arc::new(AtomicU64::new(0)),
            lock: Arc::new(std::sync::Mutex::new(())),
            bytes: Arc::default(),
        }
    }

    pub(crate) fn next(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::Relaxed) + 1
    }

    fn current(&self) -> Result<Option<Current>, sled::Error> {
        match self.snapshots.get(KEY_CURRENT)? {
            None => Ok(None),
            Some(b) => codec::decode(&b).map(Some).map_err(other),
        }
    }

    /// Makes `file` (in `dir`) the current snapshot unless a newer one is;
    /// with `tree`, also switches the state to that tree in the same
    /// atomic write. Removes the file it replaces.
    fn set_current(&self, meta: &SnapshotMeta, file: &str, tree: Option<&str>) -> Result<bool, sled::Error> {
        let _one = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let old = self.current()?;
        if tree.is_none() {
            if let Some(o) = &old {
                if o.meta.last_log_id > meta.last_log_id {
                    return Ok(false);
                }
            }
        }
        let cur = Current {
            meta: meta.clone(),
            file: file.to_string(),
        };
        let mut batch = sled::Batch::default();
        batch.insert(KEY_CURRENT, codec::encode(&cur).map_err(other)?);
        if let Some(t) = tree {
            batch.insert(KEY_STATE_TREE, t.as_bytes());
        }
        self.snapshots.apply_batch(batch)?;
        self.snapshots.flush()?;
        self.note_size(file);
        if let Some(o) = old {
            if o.file != file {
                let _ = std::fs::remove_file(self.dir.join(o.file));
            }
        }
        Ok(true)
    }

    fn note_size(&self, file: &str) {
        let len = std::fs::metadata(self.dir.join(file)).map_or(0, |m| m.len());
        self.bytes.store(len, Ordering::Relaxed);
    }

    /// At open: drops what an interrupted build or install left (temporary
    /// files, a half-filled tree) and converts a format 1 snapshot.
    pub(crate) fn tidy(&self, db: &sled::Db, state_tree: &str) -> Result<(), sled::Error> {
        std::fs::create_dir_all(&self.dir)?;
        for name in db.tree_names() {
            let n = String::from_utf8_lossy(&name).into_owned();
            // An install's unfinished tree, or the tree a finished install
            // replaced (a crash before it was dropped).
            if (n.starts_with(INSTALL_PREFIX) || n == DEFAULT_TREE) && n != state_tree {
                db.drop_tree(name)?;
            }
        }
        let keep = self.current()?.map(|c| c.file);
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if keep.as_deref() != Some(name.as_str()) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        if let Some(bytes) = self.snapshots.get(KEY_V1)? {
            match self.convert_v1(&bytes) {
                Ok(()) => tracing::info!("the format 1 raft snapshot was converted to a snapshot file"),
                Err(e) => tracing::warn!(
                    "the format 1 raft snapshot could not be read ({e}) and was dropped; \
                     the next snapshot is built from the state"
                ),
            }
            self.snapshots.remove(KEY_V1)?;
        }
        if let Some(cur) = self.current()? {
            self.note_size(&cur.file);
        }
        Ok(())
    }

    fn convert_v1(&self, bytes: &[u8]) -> Result<(), sled::Error> {
        let stored: StoredV1 = codec::decode(bytes).map_err(other)?;
        let body: BodyV1 = codec::decode(&stored.data).map_err(other)?;
        if body.format != 1 {
            return Err(other(format!("unknown snapshot format {}", body.format)));
        }
        let file = file_name(self.next(), &stored.meta.snapshot_id);
        let mut w = SnapWriter::create(&self.dir.join(&file)).map_err(other)?;
        for (k, v) in &body.kv {
            w.put(k, v).map_err(other)?;
        }
        w.finish().map_err(other)?;
        self.set_current(&stored.meta, &file, None)?;
        Ok(())
    }

    /// The current snapshot, opened for reading.
    pub(crate) async fn load_current(&self) -> Result<Option<openraft::Snapshot<TypeConfig>>, sled::Error> {
        let Some(cur) = self.current()? else {
            return Ok(None);
        };
        let f = tokio::fs::File::open(self.dir.join(&cur.file)).await?;
        Ok(Some(openraft::Snapshot {
            meta: cur.meta,
            snapshot: Box::new(f),
        }))
    }
}

fn file_name(n: u64, id: &str) -> String {
    let id: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("snap-{n}-{id}.bin")
}

/// Runs blocking file and sled work without stalling the other tasks of a
/// multi-threaded runtime (a current-thread runtime runs it in place).
pub(crate) fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

/// What a capture wrote: the rows in a temporary file, and the applied
/// index and membership read from the same pass.
struct Captured {
    tmp: PathBuf,
    n: u64,
    applied: Option<LogId>,
    membership: StoredMembership,
}

/// Builds a snapshot of the state as it was when openraft asked for the
/// builder (between two applies), in its own task while applies go on.
pub struct SnapshotBuilder {
    tree: sled::Tree,
    undo: Arc<Undo>,
    passes: Passes,
    files: Files,
}

impl SnapshotBuilder {
    /// Registers a pass over `tree`. Called by openraft from the state
    /// machine's task with `&mut` access, so it sits between two applies;
    /// from here on every apply keeps the old values of what it writes
    /// (see [`super::undo`]), and the file written later is the state of
    /// this moment. sled 0.34 has no point-in-time iterator.
    pub(crate) fn begin(tree: sled::Tree, files: &Files, passes: &Passes) -> Self {
        let tag = format!("{}-{}", std::process::id(), files.next());
        let undo = blocking(|| passes.begin(files.dir.clone(), tag));
        Self {
            tree,
            undo,
            passes: passes.clone(),
            files: files.clone(),
        }
    }
}

impl Drop for SnapshotBuilder {
    /// A builder dropped without building (or after) ends its pass, so apply
    /// never keeps values for nobody.
    fn drop(&mut self) {
        self.passes.end(&self.undo);
    }
}

/// Streams the state as of the pass's start to `tmp`: the live rows in key
/// order, each replaced by its kept old value when apply touched it, and
/// the rows deleted before the pass reached them. Memory stays at the
/// writer's buffer plus the kept values' memory bound (see
/// [`super::undo::Bounds`]).
fn dump(
    tree: &sled::Tree,
    undo: &Arc<Undo>,
    passes: &Passes,
    tmp: &Path,
    n: u64,
) -> Result<Captured, SnapFileError> {
    std::fs::create_dir_all(tmp.parent().unwrap_or(Path::new(".")))?;
    let mut w = SnapWriter::create(tmp)?;
    let mut applied = None;
    let mut membership = StoredMembership::default();
    let bad = |e: codec::CodecError| SnapFileError::Damaged(e.to_string());
    let mut put = |k: &[u8], v: &[u8], w: &mut SnapWriter| -> Result<(), SnapFileError> {
        if k == keys::APPLIED {
            applied = codec::decode::<Option<LogId>>(v).map_err(bad)?;
        } else if k == keys::MEMBERSHIP {
            membership = codec::decode(v).map_err(bad)?;
        }
        w.put(k, v)
    };
    let started = std::time::Instant::now();
    for item in tree.iter() {
        let (k, v) = item.map_err(|e| SnapFileError::Io(std::io::Error::other(e)))?;
        let visit = undo.visit(&k, v)?;
        for (k, v) in &visit.gone {
            put(k, v, &mut w)?;
        }
        if let Some(v) = visit.value {
            put(&k, &v, &mut w)?;
        }
    }
    let ((kept, runs), waited) = (undo.kept(), undo.apply_waited());
    for row in passes.end(undo) {
        let (k, v) = row?;
        put(&k, &v, &mut w)?;
    }
    let rows = w.finish()?;
    // Once per snapshot: a pass over a large state takes tens of seconds,
    // and applies that waited for it held up commits.
    tracing::info!(
        rows,
        secs = started.elapsed().as_secs_f64(),
        kept_bytes = kept,
        kept_runs = runs,
        apply_waited_secs = waited.as_secs_f64(),
        "snapshot pass done"
    );
    Ok(Captured {
        tmp: tmp.to_path_buf(),
        n,
        applied,
        membership,
    })
}

impl RaftSnapshotBuilder<TypeConfig> for SnapshotBuilder {
    async fn build_snapshot(&mut self) -> Result<openraft::Snapshot<TypeConfig>, StorageError<NodeId>> {
        let n = self.files.next();
        let tmp = self.files.dir.join(format!("building-{n}.tmp"));
        let (tree, undo, passes) = (&self.tree, &self.undo, &self.passes);
        let captured = blocking(|| dump(tree, undo, passes, &tmp, n));
        let c = captured.map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            sm_err(ErrorVerb::Read, std::io::Error::other(e.to_string()))
        })?;
        let c = &c;
        let snapshot_id = match &c.applied {
            Some(l) => format!("{}-{}-{}", l.leader_id, l.index, c.n),
            None => format!("none-{}", c.n),
        };
        let meta = SnapshotMeta {
            last_log_id: c.applied,
            last_membership: c.membership.clone(),
            snapshot_id,
        };
        let file = file_name(c.n, &meta.snapshot_id);
        let path = self.files.dir.join(&file);
        std::fs::rename(&c.tmp, &path).map_err(|e| sm_err(ErrorVerb::Write, e))?;
        let files = self.files.clone();
        let kept =
            blocking(|| files.set_current(&meta, &file, None)).map_err(|e| sm_err(ErrorVerb::Write, e))?;
        let f = tokio::fs::File::open(&path)
            .await
            .map_err(|e| sm_err(ErrorVerb::Read, e))?;
        if !kept {
            // A newer snapshot was installed meanwhile: this one is only
            // handed to openraft (the open file stays readable).
            let _ = std::fs::remove_file(&path);
        }
        metrics::counter!("smsgw_raft_snapshots_built_total").increment(1);
        Ok(openraft::Snapshot {
            meta,
            snapshot: Box::new(f),
        })
    }
}

/// Installs the received snapshot `input` described by `meta`: checks and
/// keeps it as the current snapshot file, streams it into a fresh tree,
/// then switches the state to that tree. Returns the new tree.
pub(crate) fn install(
    db: &sled::Db,
    files: &Files,
    meta: &SnapshotMeta,
    input: std::fs::File,
) -> Result<sled::Tree, InstallError> {
    let n = files.next();
    let file = file_name(n, &meta.snapshot_id);
    let path = files.dir.join(&file);
    super::snapfile::verify_copy(input, &path)?;
    let name = format!("{INSTALL_PREFIX}{n}-{}", std::process::id());
    let tree = db.open_tree(&name)?;
    tree.clear()?;
    let mut reader = SnapReader::new(std::fs::File::open(&path)?)?;
    let mut batch = sled::Batch::default();
    let (mut bytes, mut rows) = (0, 0);
    let mut batches = 0u64;
    while let Some((k, v)) = reader.next_row()? {
        bytes += k.len() + v.len();
        rows += 1;
        batch.insert(k, v);
        if bytes >= crate::reclaim::BATCH_BYTES {
            crate::reclaim::apply_batch(&tree, std::mem::take(&mut batch), rows)?;
            (bytes, rows) = (0, 0);
            batches += 1;
            // sled keeps written pages in memory until a flush.
            if batches.is_multiple_of(FLUSH_EVERY_BATCHES) {
                db.flush()?;
            }
        }
    }
    batch.insert(keys::APPLIED, codec::encode(&meta.last_log_id)?);
    batch.insert(keys::MEMBERSHIP, codec::encode(&meta.last_membership)?);
    crate::reclaim::apply_batch(&tree, batch, rows + 2)?;
    db.flush()?;
    files.set_current(meta, &file, Some(&name))?;
    Ok(tree)
}

/// Why an install failed (the old state stays in force).
#[derive(Debug, thiserror::Error)]
pub(crate) enum InstallError {
    #[error(transparent)]
    File(#[from] SnapFileError),
    #[error("snapshot install: {0}")]
    Io(#[from] std::io::Error),
    #[error("snapshot install: {0}")]
    Sled(#[from] sled::Error),
    #[error("snapshot install: {0}")]
    Codec(#[from] codec::CodecError),
}

/// The name of the tree that holds the state in `snapshots`' database.
pub(crate) fn state_tree_name(snapshots: &sled::Tree) -> Result<String, sled::Error> {
    Ok(match snapshots.get(KEY_STATE_TREE)? {
        Some(b) => String::from_utf8_lossy(&b).into_owned(),
        None => DEFAULT_TREE.to_string(),
    })
}
