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
//! rows deleted before the pass reached them come out as the pass goes by
//! them or at the end ([`Undo::finish`]). The file is then exactly the
//! state at the moment the pass was registered, which is between two
//! applies.
//!
//! Kept values past [`Bounds::memory`] are written to a run file
//! ([`super::spill`]) and freed, so a pass of minutes over tens of millions
//! of rows never makes apply wait (a 19 M-row pass kept 67 MB in 80 s and
//! held commits up until it ended, with 243 requests answered 503).
//!
//! What it must never do: let a write reach the tree before its key's old
//! value is kept (the order apply keeps), or grow without bound: past
//! [`Bounds::spill`] bytes on disk (or when a run cannot be written) apply
//! waits for the pass to end, which is the old pause, bounded in memory.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use super::spill::{OldValue, Runs};

/// How much a pass may keep: bytes in memory (keys, values and a
/// per-entry overhead) before they are spilled to a run file, and bytes
/// in run files before apply waits for the pass instead.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bounds {
    pub(crate) memory: usize,
    pub(crate) spill: u64,
}

impl Default for Bounds {
    /// 16 MiB is written out in a few tens of milliseconds (the apply that
    /// spills waits that long); 4 GiB on disk covers a pass of hours at
    /// the rates `bench e2e` reaches.
    fn default() -> Self {
        Self {
            memory: 16 << 20,
            spill: 4 << 30,
        }
    }
}

const ENTRY_OVERHEAD: usize = 64;

fn cost(key: &[u8], old: &OldValue) -> usize {
    key.len() + old.as_ref().map_or(0, |v| v.len()) + ENTRY_OVERHEAD
}

#[derive(Default)]
struct Inner {
    /// Keys apply wrote during the pass, ahead of it, not yet in a run:
    /// each with its value as the pass began (`None`: absent then).
    kept: BTreeMap<Vec<u8>, OldValue>,
    /// Older kept values, in files, once `kept` passed the memory bound.
    runs: Option<Runs>,
    /// A run could not be written: over the memory bound, apply waits.
    spill_failed: bool,
    /// The last key the pass wrote: a key at or before it that had not
    /// been touched was written with its live value, which was the old one.
    cursor: Option<Vec<u8>>,
    bytes: usize,
    done: bool,
    /// How long applies waited for this pass (over the bound), and since
    /// when one waits now.
    waited: Duration,
    waiting_since: Option<Instant>,
}

impl Inner {
    /// Keeps `old` as `key`'s value at the pass's start.
    fn keep(&mut self, key: &[u8], old: OldValue) {
        self.bytes += cost(key, &old);
        self.kept.insert(key.to_vec(), old);
    }

    /// Drops what memory keeps for `key`, and returns it.
    fn forget(&mut self, key: &[u8]) -> Option<OldValue> {
        let old = self.kept.remove(key)?;
        self.bytes -= cost(key, &old);
        Some(old)
    }
}

/// What the pass writes at one key (see [`Undo::visit`]).
pub(crate) struct Visit {
    /// The key's value as the pass began (`None`: the key is new).
    pub(crate) value: Option<sled::IVec>,
    /// Rows below the key that were deleted before the pass reached them.
    pub(crate) gone: Vec<(Vec<u8>, sled::IVec)>,
}

/// The old values of one snapshot pass.
pub(crate) struct Undo {
    inner: Mutex<Inner>,
    ended: Condvar,
    bounds: Bounds,
    /// Where run files go, and the tag that tells this pass's apart.
    dir: PathBuf,
    tag: String,
}

impl Undo {
    pub(crate) fn new(bounds: Bounds, dir: PathBuf, tag: String) -> Self {
        Self {
            inner: Mutex::default(),
            ended: Condvar::new(),
            bounds,
            dir,
            tag,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Called by apply before it writes `keys` to `tree`: keeps each key's
    /// current value unless one is kept already or the pass has gone past
    /// the key (it wrote the key's value as it began, and its iterator
    /// never comes back). Over the memory bound the kept values go to a
    /// run file first; when that is not possible, apply waits for the pass
    /// to end instead.
    pub(crate) fn before_write<'k>(
        &self,
        tree: &sled::Tree,
        keys: impl Iterator<Item = &'k [u8]>,
    ) -> Result<(), sled::Error> {
        let mut g = self.lock();
        if !g.done && g.bytes > self.bounds.memory {
            self.spill(&mut g);
        }
        if !g.done && g.bytes > self.bounds.memory {
            let started = Instant::now();
            g.waiting_since = Some(started);
            while !g.done && g.bytes > self.bounds.memory {
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
            // pass of gigabytes went on. A key kept in a run and written
            // again is kept once more: the run's older value wins.
            if g.cursor.as_deref().is_some_and(|c| k <= c) || g.kept.contains_key(k) {
                continue;
            }
            let value = tree.get(k)?;
            g.keep(k, value);
        }
        Ok(())
    }

    /// Moves the kept values to a new run file, unless the runs are at
    /// their bound or one could not be written (then apply waits).
    fn spill(&self, g: &mut Inner) {
        if g.spill_failed {
            return;
        }
        let runs = g
            .runs
            .get_or_insert_with(|| Runs::new(self.dir.clone(), self.tag.clone()));
        if runs.bytes + g.bytes as u64 > self.bounds.spill {
            return;
        }
        let started = Instant::now();
        match runs.spill(g.kept.iter()) {
            Ok(()) => {
                g.kept.clear();
                g.bytes = 0;
                metrics::histogram!("smsgw_raft_snapshot_spill_seconds")
                    .record(started.elapsed().as_secs_f64());
            }
            Err(e) => {
                tracing::warn!(
                    "a snapshot pass could not write its kept values to {} ({e}); \
                     applies wait for the pass to end instead",
                    self.dir.display()
                );
                g.spill_failed = true;
            }
        }
    }

    /// What to write for `key`, which the pass read as `live`: the kept
    /// value if apply touched the key (none if it was absent then), and
    /// the deleted rows the pass went by on its way to it.
    pub(crate) fn visit(&self, key: &[u8], live: sled::IVec) -> std::io::Result<Visit> {
        let mut g = self.lock();
        let met = match g.runs.as_mut() {
            Some(runs) => runs.advance(key)?,
            None => Default::default(),
        };
        // A run's value is older than one kept in memory for the same key,
        // even when the run says the key was absent.
        let mut gone = Vec::new();
        for (k, run_old) in met.gone {
            g.forget(&k);
            if let Some(v) = run_old {
                gone.push((k, v));
            }
        }
        let value = match (met.this, g.forget(key)) {
            (Some(old), _) | (None, Some(old)) => old,
            (None, None) => Some(live),
        };
        g.cursor = Some(key.to_vec());
        Ok(Visit { value, gone })
    }

    /// Ends the pass: no more values are kept, apply no longer waits, and
    /// the rows that were there when it began but were deleted before it
    /// reached them are what is left (see [`Leftovers`]).
    pub(crate) fn finish(&self) -> Leftovers {
        let mut g = self.lock();
        g.done = true;
        let kept = std::mem::take(&mut g.kept);
        let runs = g.runs.take();
        g.bytes = 0;
        drop(g);
        self.ended.notify_all();
        Leftovers {
            memory: kept.into_iter().peekable(),
            runs,
            run_head: None,
        }
    }

    /// Bytes kept so far, in memory and in run files, and the number of
    /// runs (for the log line of a pass).
    pub(crate) fn kept(&self) -> (u64, usize) {
        let g = self.lock();
        let runs = g.runs.as_ref();
        (
            g.bytes as u64 + runs.map_or(0, |r| r.bytes),
            runs.map_or(0, Runs::count),
        )
    }

    /// How long applies have waited for this pass so far, the wait going
    /// on included (the pass reads it before it ends, which ends the wait).
    pub(crate) fn apply_waited(&self) -> Duration {
        let g = self.lock();
        g.waited + g.waiting_since.map_or(Duration::ZERO, |t| t.elapsed())
    }
}

/// The rows of a pass's start that it never reached (deleted before it
/// got to them), in key order: the runs' and memory's kept values merged,
/// a run's winning over memory's for the same key. Dropping it removes
/// the run files.
pub(crate) struct Leftovers {
    memory: std::iter::Peekable<std::collections::btree_map::IntoIter<Vec<u8>, OldValue>>,
    runs: Option<Runs>,
    run_head: Option<(Vec<u8>, OldValue)>,
}

impl Iterator for Leftovers {
    type Item = std::io::Result<(Vec<u8>, sled::IVec)>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.run_head.is_none() {
                if let Some(runs) = self.runs.as_mut() {
                    match runs.next_left() {
                        Ok(head) => self.run_head = head,
                        Err(e) => return Some(Err(e)),
                    }
                }
            }
            let order = match (&self.run_head, self.memory.peek()) {
                (None, None) => return None,
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (Some((r, _)), Some((m, _))) => r.cmp(m),
            };
            if order == Ordering::Equal {
                self.memory.next();
            }
            let from_run = order != Ordering::Greater;
            let next = if from_run {
                self.run_head.take()
            } else {
                self.memory.next()
            };
            if let Some((k, Some(v))) = next {
                return Some(Ok((k, v)));
            }
        }
    }
}

/// The pass in progress on a state machine, if any: apply asks it before
/// every write, an install waits for it to end. Clones share it.
#[derive(Clone, Default)]
pub(crate) struct Passes {
    current: std::sync::Arc<(Mutex<Option<std::sync::Arc<Undo>>>, Condvar)>,
    bounds: Bounds,
}

impl Passes {
    pub(crate) fn with_bounds(bounds: Bounds) -> Self {
        Self {
            bounds,
            ..Self::default()
        }
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<std::sync::Arc<Undo>>> {
        self.current.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a new pass (after the one running, if any, ended), whose
    /// run files go to `dir` tagged `tag`. Called between two applies,
    /// which is the moment the pass reads.
    pub(crate) fn begin(&self, dir: PathBuf, tag: String) -> std::sync::Arc<Undo> {
        let mut g = self.slot();
        while g.is_some() {
            g = self.current.1.wait(g).unwrap_or_else(|p| p.into_inner());
        }
        let undo = std::sync::Arc::new(Undo::new(self.bounds, dir, tag));
        *g = Some(undo.clone());
        undo
    }

    /// The pass apply must keep old values for.
    pub(crate) fn active(&self) -> Option<std::sync::Arc<Undo>> {
        self.slot().clone()
    }

    /// Ends `undo`'s pass (see [`Undo::finish`]) and returns its leftover
    /// rows; a pass already ended returns none.
    pub(crate) fn end(&self, undo: &std::sync::Arc<Undo>) -> Leftovers {
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
    use std::path::Path;

    use super::{Bounds, Undo};

    type Rows = Vec<(Vec<u8>, Vec<u8>)>;

    fn undo(dir: &Path, memory: usize, spill: u64) -> Undo {
        Undo::new(Bounds { memory, spill }, dir.to_path_buf(), "t".into())
    }

    /// Never spills nor waits.
    fn in_memory(dir: &Path) -> Undo {
        undo(dir, usize::MAX, u64::MAX)
    }

    fn put(t: &sled::Tree, u: &Undo, k: &str, v: Option<&str>) {
        u.before_write(t, std::iter::once(k.as_bytes())).unwrap();
        match v {
            Some(v) => t.insert(k, v).map(|_| ()).unwrap(),
            None => t.remove(k).map(|_| ()).unwrap(),
        }
    }

    /// What the pass writes for a row it read (as `dump` does).
    fn visit(u: &Undo, k: &[u8], v: sled::IVec, out: &mut Rows) {
        let visit = u.visit(k, v).unwrap();
        out.extend(visit.gone.into_iter().map(|(k, v)| (k, v.to_vec())));
        if let Some(v) = visit.value {
            out.push((k.to_vec(), v.to_vec()));
        }
    }

    fn finish(u: &Undo, out: &mut Rows) {
        for row in u.finish() {
            let (k, v) = row.unwrap();
            out.push((k, v.to_vec()));
        }
    }

    fn tree() -> (sled::Db, sled::Tree) {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let t = db.open_tree("sm").unwrap();
        (db, t)
    }

    /// The pass run by hand, with writes between its steps: what it writes
    /// out is the tree as it was when it began.
    #[test]
    fn a_pass_with_writes_between_its_reads_sees_the_tree_as_it_began() {
        let dir = tempfile::tempdir().unwrap();
        let (_db, t) = tree();
        for k in ["a", "b", "c", "d", "e"] {
            t.insert(k, format!("{k}0").as_bytes()).unwrap();
        }
        let u = in_memory(dir.path());
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
            visit(&u, &k, v, &mut out);
            if step == 1 {
                // Behind the cursor (already written) and ahead of it.
                put(&t, &u, "a", Some("a2"));
                put(&t, &u, "e", None);
                put(&t, &u, "c", Some("c2"));
            }
        }
        finish(&u, &mut out);
        out.sort();
        let want: Rows = ["a", "b", "c", "d", "e"]
            .iter()
            .map(|k| (k.as_bytes().to_vec(), format!("{k}0").into_bytes()))
            .collect();
        assert_eq!(out, want);
        // After the pass, writes are not kept any more.
        put(&t, &u, "z", Some("z"));
        assert_eq!(u.finish().count(), 0);
    }

    /// Rows written behind the pass cost it nothing: only keys it has yet
    /// to reach are kept, so a long pass over a big state does not fill
    /// the bound with rows added to tables it has finished.
    #[test]
    fn writes_behind_the_pass_are_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (_db, t) = tree();
        for k in ["a", "m", "z"] {
            t.insert(k, "0").unwrap();
        }
        let u = in_memory(dir.path());
        let mut it = t.iter();
        let mut out = Vec::new();
        for _ in 0..2 {
            let (k, v) = it.next().unwrap().unwrap();
            visit(&u, &k, v, &mut out);
        }
        // The pass has written "a" and "m": new rows and changes up to "m"
        // are behind it.
        for k in ["a", "b", "c", "l", "m"] {
            put(&t, &u, k, Some("1"));
        }
        assert_eq!(u.kept().0, 0);
        // Ahead of it, a key is kept once.
        put(&t, &u, "n", Some("1"));
        put(&t, &u, "n", Some("2"));
        let one = u.kept().0;
        assert!(one > 0);
        put(&t, &u, "z", Some("1"));
        assert!(u.kept().0 > one);
        // The rest of the pass still writes the state as it began.
        out.clear();
        for row in it {
            let (k, v) = row.unwrap();
            visit(&u, &k, v, &mut out);
        }
        assert_eq!(out, vec![(b"z".to_vec(), b"0".to_vec())]);
        assert_eq!(u.finish().count(), 0);
    }

    /// Over the memory bound, apply waits for the pass when its values
    /// cannot go to a run file (the runs are at their bound, or the file
    /// cannot be written), and the wait is counted while it goes on: the
    /// pass reports it before it ends.
    #[test]
    fn an_apply_over_the_bound_waits_when_nothing_can_be_spilled_and_the_wait_is_counted_as_it_goes() {
        let dir = tempfile::tempdir().unwrap();
        let runs_full = undo(dir.path(), 10, 0);
        let unwritable = undo(&dir.path().join("missing"), 10, u64::MAX);
        for u in [runs_full, unwritable] {
            let (_db, t) = tree();
            t.insert("big", vec![0u8; 100]).unwrap();
            t.insert("small", "0").unwrap();
            let u = std::sync::Arc::new(u);
            put(&t, &u, "big", Some("1"));
            assert!(u.kept().0 > 10);
            let (t2, u2) = (t.clone(), u.clone());
            let apply = std::thread::spawn(move || put(&t2, &u2, "small", Some("1")));
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while u.apply_waited().is_zero() {
                assert!(std::time::Instant::now() < deadline, "apply never waited");
                std::thread::yield_now();
            }
            assert!(!apply.is_finished());
            // The kept old value of "big" comes out; "small" was written after.
            let left: Vec<_> = u.finish().collect();
            apply.join().unwrap();
            assert_eq!(left.len(), 1);
            assert_eq!(u.kept(), (0, 0));
            assert_eq!(t.get("small").unwrap().unwrap().as_ref(), b"1");
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    /// xorshift64: the same writes on every run of a seed.
    fn next(s: &mut u64) -> u64 {
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        *s
    }

    /// With a memory bound of a few entries, kept values go to run files
    /// again and again while random writes and deletes land ahead of,
    /// on and behind the pass, the same keys written across runs. Every
    /// pass still writes exactly the tree as it began, nobody waits, and
    /// no run file outlives the pass.
    #[test]
    fn values_spilled_to_run_files_still_give_the_tree_as_it_began() {
        let dir = tempfile::tempdir().unwrap();
        for seed in 1..=30u64 {
            let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let (_db, t) = tree();
            let key = |n: u64| format!("k{:03}", n % 240);
            for n in 0..240 {
                if next(&mut s).is_multiple_of(2) {
                    t.insert(key(n), format!("v{n}").as_bytes()).unwrap();
                }
            }
            let want: Rows = t
                .iter()
                .map(|r| r.unwrap())
                .map(|(k, v)| (k.to_vec(), v.to_vec()))
                .collect();
            let u = undo(dir.path(), 300, u64::MAX);
            let (mut out, mut most_runs) = (Vec::new(), 0);
            let mut it = t.iter();
            for step in 0.. {
                for _ in 0..next(&mut s) % 6 {
                    let k = key(next(&mut s));
                    let v = format!("w{step}");
                    let delete = next(&mut s).is_multiple_of(3);
                    put(&t, &u, &k, (!delete).then_some(v.as_str()));
                }
                let Some(row) = it.next() else { break };
                let (k, v) = row.unwrap();
                visit(&u, &k, v, &mut out);
                most_runs = most_runs.max(u.kept().1);
            }
            finish(&u, &mut out);
            out.sort();
            assert_eq!(out, want, "seed {seed}");
            assert!(most_runs >= 3, "seed {seed}: only {most_runs} runs");
            assert!(u.apply_waited().is_zero());
            assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "seed {seed}");
        }
    }
}
