//! A point-in-time read of the state tree while applies go on, for a
//! snapshot. sled 0.34 has no snapshot iterator, and pausing every apply
//! for the whole pass stalled commits for seconds once the state held
//! millions of rows (`bench e2e`: p99 from 70 to 250 ms, then 190 requests
//! failed while a 2.5 GB state was written out). Instead, while a pass
//! runs, apply hands every key it is about to write to [`Undo::before_write`]
//! first, which keeps the key's value as it was when the pass began (once
//! per key, and only for keys the pass has not reached yet). The pass
//! reads the live tree in key order and, for a key apply has touched,
//! writes the kept value instead ([`Undo::visit`]);
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
pub(crate) const MAX_KEPT_BYTES: usize = 64 * 1024 * 1024;
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
    /// How long applies waited for this pass (over the bound), and since
    /// when one waits now.
    waited: std::time::Duration,
    waiting_since: Option<std::time::Instant>,
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
    /// current value unless one is kept already or the pass has gone past
    /// the key (it wrote the key's value as it began, and its iterator
    /// never comes back). Waits for the pass to end instead when the kept
    /// values are over [`MAX_KEPT_BYTES`].
    pub(crate) fn before_write<'k>(
        &self,
        tree: &sled::Tree,
        keys: impl Iterator<Item = &'k [u8]>,
    ) -> Result<(), sled::Error> {
        let mut g = self.lock();
        if !g.done && g.bytes > MAX_KEPT_BYTES {
            let started = std::time::Instant::now();
            g.waiting_since = Some(started);
            while !g.done && g.bytes > MAX_KEPT_BYTES {
                g = self.ended.wait(g).unwrap_or_else(|p| p.into_inner());
            }
            let waited = started.elapsed();
            g.waiting_since = None;
            g.waited += waited;
            // Each wait is an apply (and every commit behind it) held up.
            metrics::histogram!("smsgw_raft_snapshot_apply_wait_seconds").record(waited.as_secs_f64());
        }
        if g.done {
            return Ok(());
        }
        for k in keys {
            // Behind the cursor there is nothing left to protect: keeping
            // those keys too (every row apply adds to a table the pass has
            // finished) filled the bound early and stalled applies while a
            // pass of gigabytes went on.
            if g.cursor.as_deref().is_some_and(|c| k <= c) || g.kept.contains_key(k) {
                continue;
            }
            let value = tree.get(k)?;
            g.bytes += k.len() + value.as_ref().map_or(0, |v| v.len()) + ENTRY_OVERHEAD;
            g.kept.insert(
                k.to_vec(),
                Kept {
                    value,
                    written: false,
                },
            );
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

    /// How long applies have waited for this pass so far, the wait going
    /// on included (the pass reads it before it ends, which ends the wait).
    pub(crate) fn apply_waited(&self) -> std::time::Duration {
        let g = self.lock();
        g.waited + g.waiting_since.map_or(std::time::Duration::ZERO, |t| t.elapsed())
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

    /// Rows written behind the pass cost it nothing: only keys it has yet
    /// to reach are kept, so a long pass over a big state does not fill
    /// the bound with rows added to tables it has finished.
    #[test]
    fn writes_behind_the_pass_are_not_kept() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let t = db.open_tree("sm").unwrap();
        for k in ["a", "m", "z"] {
            t.insert(k, "0").unwrap();
        }
        let u = Undo::default();
        let mut it = t.iter();
        let (k, v) = it.next().unwrap().unwrap();
        assert!(u.visit(&k, v).is_some());
        let (k, v) = it.next().unwrap().unwrap();
        assert!(u.visit(&k, v).is_some());
        // The pass has written "a" and "m": new rows and changes up to "m"
        // are behind it.
        for k in ["a", "b", "c", "l", "m"] {
            put(&t, &u, k, Some("1"));
        }
        assert_eq!(u.kept_bytes(), 0);
        // Ahead of it, a key is kept once.
        put(&t, &u, "n", Some("1"));
        put(&t, &u, "n", Some("2"));
        let one = u.kept_bytes();
        assert!(one > 0);
        put(&t, &u, "z", Some("1"));
        assert!(u.kept_bytes() > one);
        // The rest of the pass still writes the state as it began.
        let mut out = Vec::new();
        for row in it {
            let (k, v) = row.unwrap();
            if let Some(v) = u.visit(&k, v) {
                out.push((String::from_utf8(k.to_vec()).unwrap(), v.to_vec()));
            }
        }
        assert_eq!(out, vec![("z".to_string(), b"0".to_vec())]);
        assert!(u.finish().is_empty());
    }

    /// Over the bound, apply waits for the pass, and the wait is counted
    /// while it goes on: the pass reports it before it ends.
    #[test]
    fn an_apply_over_the_bound_waits_and_the_wait_is_counted_as_it_goes() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let t = db.open_tree("sm").unwrap();
        t.insert("big", vec![0u8; super::MAX_KEPT_BYTES + 1]).unwrap();
        t.insert("small", "0").unwrap();
        let u = std::sync::Arc::new(Undo::default());
        put(&t, &u, "big", Some("1"));
        assert!(u.kept_bytes() > super::MAX_KEPT_BYTES);
        let (t2, u2) = (t.clone(), u.clone());
        let apply = std::thread::spawn(move || put(&t2, &u2, "small", Some("1")));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while u.apply_waited().is_zero() {
            assert!(std::time::Instant::now() < deadline, "apply never waited");
            std::thread::yield_now();
        }
        assert!(!apply.is_finished());
        let left = u.finish();
        apply.join().unwrap();
        // The kept old value of "big" comes out; "small" was written after.
        assert_eq!(left.len(), 1);
        assert_eq!(t.get("small").unwrap().unwrap().as_ref(), b"1");
    }
}
