//! How raft writes sled batches: a bounded size, and a collection of
//! sled's garbage after each one (and after the log's appends and
//! flushes, which are not batches).
//!
//! sled 0.34 writes a batch under one crossbeam-epoch pin and hands the
//! memory of every page version it replaces to crossbeam's global
//! collector. That collector frees a bounded number of objects per
//! collection and collects only on some pins, and a batch is one pin
//! however many keys it writes: with big batches and few reads in between
//! (a snapshot install, a follower applying a backlog, a log purge) the
//! garbage outran it and stayed. Reproduced outside the node (rows
//! inserted with `sled::Tree::apply_batch`, `VmRSS` read after): 150 MiB of
//! rows at scattered keys peaked at 3.8 GiB in 1 MiB batches, 1.4 GiB in
//! 256 KiB and 342 MiB in 64 KiB, which also ran fastest; 150 MiB of
//! 20-byte values in 64 KiB batches still ended at 8.2 GiB after 102 s,
//! and with eight collections after each batch at 693 MiB after 54 s.
//!
//! It must never be called while this thread holds a sled guard or
//! iterator: it pins the thread itself.

/// Key and value bytes past which a writer closes its sled batch and
/// starts the next (apply: after a whole entry; install: after a row).
pub(crate) const BATCH_BYTES: usize = 64 * 1024;

/// Objects one collection frees at most, counted low (crossbeam 0.9 frees
/// up to 8 bags of 64 per collection; a key may leave several behind).
const KEYS_PER_COLLECTION: usize = 128;

/// Applies `batch`, which writes `keys` keys, to `tree`, then collects
/// garbage: one collection per [`KEYS_PER_COLLECTION`] keys, at least one.
pub(crate) fn apply_batch(tree: &sled::Tree, batch: sled::Batch, keys: usize) -> sled::Result<()> {
    tree.apply_batch(batch)?;
    collect(keys);
    Ok(())
}

/// Collects the garbage `keys` writes left: one collection per
/// [`KEYS_PER_COLLECTION`] keys, at least one.
pub(crate) fn collect(keys: usize) {
    for _ in 0..keys / KEYS_PER_COLLECTION + 1 {
        crossbeam_epoch::pin().flush();
    }
}
