//! Old values of a snapshot pass moved out of memory: when the values a
//! pass keeps (see [`super::undo`]) pass their memory bound, they are
//! written, in key order, to a run file in the snapshot directory, and the
//! memory is freed. The pass reads the live tree in key order too, so it
//! reads every run alongside, a head per run (a merge, never a lookup):
//! a run's entries below the key the pass is at were deleted before the
//! pass reached them and go out as they are passed; one equal to it
//! replaces the live value.
//!
//! A key can be kept in several runs (kept again after its first run was
//! written): the oldest run holds its value as the pass began, so the
//! oldest wins. What it must never do: hold more than one entry per run in
//! memory, or leave a run file behind once the pass is over (dropping the
//! runs removes them; a crash leaves them to the snapshot directory's tidy
//! at the next open).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// An old value: `None` when the key was absent as the pass began.
pub(crate) type OldValue = Option<sled::IVec>;

/// One run file being read: its next entry is `head`.
struct Run {
    path: PathBuf,
    reader: BufReader<File>,
    head: Option<(Vec<u8>, OldValue)>,
}

/// What the pass meets at one key (see [`Runs::advance`]).
#[derive(Default)]
pub(crate) struct Met {
    /// Keys below the one visited that no longer exist, with their old
    /// value (`None`: absent as the pass began too, so nothing to write;
    /// the caller still drops what it keeps for them).
    pub(crate) gone: Vec<(Vec<u8>, OldValue)>,
    /// The oldest kept value of the visited key, if a run holds it.
    pub(crate) this: Option<OldValue>,
}

/// The run files of one pass, oldest first.
pub(crate) struct Runs {
    dir: PathBuf,
    tag: String,
    runs: Vec<Run>,
    /// (head key, run index): the smallest key first, and for equal keys
    /// the oldest run first, which is the one whose value wins.
    heads: BinaryHeap<Reverse<(Vec<u8>, usize)>>,
    /// Bytes written to run files so far.
    pub(crate) bytes: u64,
}

impl Runs {
    /// No runs yet; files will be named `undo-TAG-N.tmp` in `dir`.
    pub(crate) fn new(dir: PathBuf, tag: String) -> Self {
        Self {
            dir,
            tag,
            runs: Vec::new(),
            heads: BinaryHeap::new(),
            bytes: 0,
        }
    }

    pub(crate) fn count(&self) -> usize {
        self.runs.len()
    }

    /// Writes `entries` (in key order) as the newest run. On an error the
    /// partial file is removed and nothing changes.
    pub(crate) fn spill<'a>(
        &mut self,
        entries: impl Iterator<Item = (&'a Vec<u8>, &'a OldValue)>,
    ) -> io::Result<()> {
        let path = self
            .dir
            .join(format!("undo-{}-{}.tmp", self.tag, self.runs.len()));
        let written = write_run(&path, entries);
        let run = written.and_then(|bytes| {
            let mut reader = BufReader::new(File::open(&path)?);
            let head = read_entry(&mut reader)?;
            Ok((
                bytes,
                Run {
                    path: path.clone(),
                    reader,
                    head,
                },
            ))
        });
        match run {
            Ok((bytes, run)) => {
                self.bytes += bytes;
                let i = self.runs.len();
                if let Some((k, _)) = &run.head {
                    self.heads.push(Reverse((k.clone(), i)));
                }
                self.runs.push(run);
                Ok(())
            }
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                Err(e)
            }
        }
    }

    /// Moves every run past `key`: entries below it are gone rows, an
    /// entry equal to it is its old value (the oldest run's).
    pub(crate) fn advance(&mut self, key: &[u8]) -> io::Result<Met> {
        let mut met = Met::default();
        while let Some(Reverse((k, _))) = self.heads.peek() {
            if k.as_slice() > key {
                break;
            }
            let (k, old) = self.pop_oldest()?;
            if k.as_slice() == key {
                met.this = Some(old);
            } else {
                met.gone.push((k, old));
            }
        }
        Ok(met)
    }

    /// The next entry no visit reached (a row deleted before the pass got
    /// to it, or a key absent as it began: `None`), in key order, once per
    /// key with its oldest value.
    pub(crate) fn next_left(&mut self) -> io::Result<Option<(Vec<u8>, OldValue)>> {
        if self.heads.is_empty() {
            return Ok(None);
        }
        self.pop_oldest().map(Some)
    }

    /// The smallest key left and its oldest value; the same key in newer
    /// runs is skipped.
    fn pop_oldest(&mut self) -> io::Result<(Vec<u8>, OldValue)> {
        let Some(Reverse((key, i))) = self.heads.pop() else {
            return Err(io::Error::other("no run entry left"));
        };
        let old = self.next_of(i)?;
        while let Some(Reverse((k, j))) = self.heads.peek() {
            if *k != key {
                break;
            }
            let j = *j;
            self.heads.pop();
            self.next_of(j)?;
        }
        Ok((key, old))
    }

    /// Takes run `i`'s head value and reads its next entry into the heap.
    fn next_of(&mut self, i: usize) -> io::Result<OldValue> {
        let run = &mut self.runs[i];
        let (_, old) = run
            .head
            .take()
            .ok_or_else(|| io::Error::other("run without a head"))?;
        run.head = read_entry(&mut run.reader)?;
        if let Some((k, _)) = &run.head {
            self.heads.push(Reverse((k.clone(), i)));
        }
        Ok(old)
    }
}

impl Drop for Runs {
    fn drop(&mut self) {
        for run in &self.runs {
            let _ = std::fs::remove_file(&run.path);
        }
    }
}

/// Entry: key length (u32 LE), key, 0 (absent) or 1 then the value's
/// length (u32 LE) and the value. Returns the bytes written.
fn write_run<'a>(path: &Path, entries: impl Iterator<Item = (&'a Vec<u8>, &'a OldValue)>) -> io::Result<u64> {
    let mut w = BufWriter::with_capacity(1 << 16, File::create(path)?);
    let mut bytes = 0u64;
    for (k, old) in entries {
        w.write_all(&len32(k.len())?.to_le_bytes())?;
        w.write_all(k)?;
        match old {
            None => w.write_all(&[0])?,
            Some(v) => {
                w.write_all(&[1])?;
                w.write_all(&len32(v.len())?.to_le_bytes())?;
                w.write_all(v)?;
            }
        }
        bytes += 5 + k.len() as u64 + old.as_ref().map_or(0, |v| 4 + v.len() as u64);
    }
    // Read back by this process only: no fsync (a crash ends the pass).
    w.flush()?;
    Ok(bytes)
}

fn len32(n: usize) -> io::Result<u32> {
    u32::try_from(n).map_err(|_| io::Error::other(format!("a kept entry of {n} bytes")))
}

/// The next entry, or `None` at the end of the file.
fn read_entry(r: &mut BufReader<File>) -> io::Result<Option<(Vec<u8>, OldValue)>> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut key = vec![0u8; u32::from_le_bytes(len) as usize];
    r.read_exact(&mut key)?;
    let mut tag = [0u8; 1];
    r.read_exact(&mut tag)?;
    let old = match tag[0] {
        0 => None,
        1 => {
            r.read_exact(&mut len)?;
            let mut v = vec![0u8; u32::from_le_bytes(len) as usize];
            r.read_exact(&mut v)?;
            Some(sled::IVec::from(v))
        }
        t => return Err(io::Error::other(format!("run entry tag {t}"))),
    };
    Ok(Some((key, old)))
}
