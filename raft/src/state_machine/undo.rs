//! A point-in-time read of the state tree while applies go on, for a
//! snapshot. sled 0.34 has no snapshot iterator, and pausing every apply
//! for the whole pass stalled commits for seconds once the state held
//! millions of rows (`bench e2e`: p99 from 70 to 250 ms, then 190 requests
//! failed while a 2.5 GB state was written out). Instead, while a pass
//! runs, apply hands every key it is about to write to [`Undo::before_write`]
//! first, which keeps the key's value as it was when the pass began (once
//! per key). The pass reads the live tree in key order and, for a key
//! apply has touched, writes the kept value instead ([`Undo::visit`]);
//! rows deleted before the pass reached them come out at the end
//! ([`Undo::finish`]). The file is then exactly the state at the moment
//! the pass was registered, which is between two applies.
//!
//! What it must never do: let a write reach the tree before its key's old
//! value is kept (the order apply keeps), or grow without bound: past
//! [`MAX_KEPT_BYTES`] apply waits for the pass to end, which is the old
//! pause, bounded in memory.

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex};

/// Bytes of kept values (with keys and a per-entry overhead) past which
/// apply waits for the pass instead of keeping more.
pub(crate) const MAX_KEPT_BYTES: usize = 256 * 1024 * 1024;
const ENTRY_OVERHEAD: usize = 64;

/// One key apply wrote during the pass: its value when the pass began
/// (`None`: absent then), and whether the pass has written it out.
struct Kept {
    value: Option<sled::IVec>,
    written: bool,
}

#[derive(Default)]
struct Inner {
    kept: BTreeMap<Vec<u8>, Kept>,
    /// The last key the pass wrote: a key at or before it that had not
    /// been touched was written with its live value, which was the old one.
    cursor: Option<Vec<u8>>,
    bytes: usize,
    done: bool,
}

/// The old values of one snapshot pass.
#[derive(Default)]
pub(crate) struct Undo {
    inner: Mutex<Inner>,
    ended: Condvar,
}

impl Undo {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Called by apply before it writes `keys` to `tree`: keeps each key's
    /// current value unless one is kept already. Waits for the pass to end
    /// instead when the kept values are over [`MAX_KEPT_BYTES`].
    pub(crate) fn before_write<'k>(
        &self,
        tree: &sled::Tree,
        keys: impl Iterator<Item = &'k [u8]>,
    ) -> Result<(), sled::Error> {
        let mut g = self.lock();
        while !g.done && g.bytes > MAX_KEPT_BYTES {
            g = self.ended.wait(g).unwrap_or_else(|p| p.into_inner());
        }
        if g.done {
            return Ok(());
        }
        for k in keys {
            if g.kept.contains_key(k) {
                continue;
            }
            let value = tree.get(k)?;
            let written = g.cursor.as_deref().is_some_and(|c| k <= c);
            g.bytes += k.len() + value.as_ref().map_or(0, |v| v.len()) + ENTRY_OVERHEAD;
            g.kept.insert(k.to_vec(), Kept { value, written });
        }
        Ok(())
    }

    /// The value to write for `key`, which the pass read as `live`: the
    /// kept one if apply touched the key (none if it was absent then).
    pub(crate) fn visit(&self, key: &[u8], live: sled::IVec) -> Option<sled::IVec> {
        let mut g = self.lock();
        let out = match g.kept.get_mut(key) {
            Some(k) => {
                k.written = true;
                k.value.clone()
            }
            None => Some(live),
        };
        g.cursor = Some(key.to_vec());
        out
    }

    /// Ends the pass: no more values are kept, apply no longer waits, and
    /// the rows that were there when it began but were deleted before it
    /// reached them are returned (in key order).
    pub(crate) fn finish(&self) -> Vec<(Vec<u8>, sled::IVec)> {
        let mut g = self.lock();
        g.done = true;
        let kept = std::mem::take(&mut g.kept);
        g.bytes = 0;
        drop(g);
        self.ended.notify_all();
        kept.into_iter()
            .filter(|(_, k)| !k.written)
            .filter_map(|(key, k)| k.value.map(|v| (key, v)))
            .collect()
    }

    /// Bytes kept so far (for the log line of a pass).
    pub(crate) fn kept_bytes(&self) -> usize {
        self.lock().bytes
    }
}

/// The pass in progress on a state machine, if any: apply asks it before
/// every write, an install waits for it to end. Clones share it.
#[derive(Clone, Default)]
pub(crate) struct Passes {
    current: std::sync::Arc<(Mutex<Option<std::sync::Arc<Undo>>>, Condvar)>,
}

impl Passes {
    fn slot(&self) -> std::sync::MutexGuard<'_, Option<std::sync::Arc<Undo>>> {
        self.current.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a new pass (after the one running, if any, ended). Called
    /// between two applies, which is the moment the pass reads.
    pub(crate) fn begin(&self) -> std::sync::Arc<Undo> {
        let mut g = self.slot();
        while g.is_some() {
            g = self.current.1.wait(g).unwrap_or_else(|p| p.into_inner());
        }
        let undo = std::sync::Arc::new(Undo::default());
        *g = Some(undo.clone());
        undo
    }

    /// The pass apply must keep old values for.
    pub(crate) fn active(&self) -> Option<std::sync::Arc<Undo>> {
        self.slot().clone()
    }

    /// Ends `undo`'s pass (see [`Undo::finish`]) and returns its leftover
    /// rows; a pass already ended returns none.
    pub(crate) fn end(&self, undo: &std::sync::Arc<Undo>) -> Vec<(Vec<u8>, sled::IVec)> {
        let rows = undo.finish();
        let mut g = self.slot();
        if g.as_ref().is_some_and(|u| std::sync::Arc::ptr_eq(u, undo)) {
            *g = None;
        }
        drop(g);
        self.current.1.notify_all();
        rows
    }

    /// Waits until no pass runs (an install switches the tree under it).
    pub(crate) fn wait_idle(&self) {
        let mut g = self.slot();
        while g.is_some() {
            g = self.current.1.wait(g).unwrap_or_else(|p| p.into_inner());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Undo;

    fn put(t: &sled::Tree, u: &Undo, k: &str, v: Option<&str>) {
        u.before_write(t, std::iter::once(k.as_bytes())).unwrap();
        match v {
            Some(v) => t.insert(k, v).map(|_| ()).unwrap(),
            None => t.remove(k).map(|_| ()).unwrap(),
        }
    }

    /// The pass run by hand, with writes between its steps: what it writes
    /// out is the tree as it was when it began.
    #[test]
    fn a_pass_with_writes_between_its_reads_sees_the_tree_as_it_began() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let t = db.open_tree("sm").unwrap();
        for k in ["a", "b", "c", "d", "e"] {
            t.insert(k, format!("{k}0").as_bytes()).unwrap();
        }
        let u = Undo::default();
        let mut out = Vec::new();
        let mut it = t.iter();
        // Before the pass reads anything: change a key ahead, delete one
        // ahead, add one.
        put(&t, &u, "b", Some("b1"));
        put(&t, &u, "d", None);
        put(&t, &u, "bb", Some("new"));
        for step in 0.. {
            let Some(row) = it.next() else { break };
            let (k, v) = row.unwrap();
            if let Some(v) = u.visit(&k, v) {
                out.push((k.to_vec(), v.to_vec()));
            }
            if step == 1 {
                // Behind the cursor (already written) and ahead of it.
                put(&t, &u, "a", Some("a2"));
                put(&t, &u, "e", None);
                put(&t, &u, "c", Some("c2"));
            }
        }
        for (k, v) in u.finish() {
            out.push((k, v.to_vec()));
        }
        out.sort();
        let want: Vec<(Vec<u8>, Vec<u8>)> = ["a", "b", "c", "d", "e"]
            .iter()
            .map(|k| (k.as_bytes().to_vec(), format!("{k}0").into_bytes()))
            .collect();
        assert_eq!(out, want);
        // After the pass, writes are not kept any more.
        put(&t, &u, "z", Some("z"));
        assert!(u.finish().is_empty());
    }
}
