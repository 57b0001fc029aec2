//! Drives sled's memory reclamation after a batch write.
//!
//! sled 0.34 writes a batch under one crossbeam-epoch pin and hands the
//! memory of every page version it replaces to crossbeam's global
//! collector. That collector frees a bounded number of objects per
//! collection and collects only on some pins, and a batch is one pin
//! however many keys it writes: with big batches and few reads in between
//! (a snapshot install, a follower applying a backlog, a log purge) the
//! garbage outran it and stayed. 150 MiB of 20-byte values at scattered
//! keys in 64 KiB batches ended at 8.2 GiB of RSS after 102 s; with eight
//! collections after each batch, at 693 MiB after 54 s (reproduced outside
//! the node: rows inserted with `sled::Tree::apply_batch`, `VmRSS` read
//! after).
//!
//! It must never be called while this thread holds a sled guard or
//! iterator: it pins the thread itself.

/// Objects one collection frees at most, counted low (crossbeam 0.9 frees
/// up to 8 bags of 64 per collection; a key may leave several behind).
const KEYS_PER_COLLECTION: usize = 128;

/// Collects garbage after a batch that wrote `keys` keys: one collection
/// per [`KEYS_PER_COLLECTION`] keys, at least one.
pub(crate) fn after_batch(keys: usize) {
    for _ in 0..keys / KEYS_PER_COLLECTION + 1 {
        crossbeam_epoch::pin().flush();
    }
}
