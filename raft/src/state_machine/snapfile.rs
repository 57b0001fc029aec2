//! The snapshot file: the state tree's rows as framed records (in key order,
//! then the rows a build saw deleted during its pass; an install does not
//! depend on the order),
//! written and read through small buffers so that neither side ever holds
//! the state in memory, and closed by a trailer with the row count and a
//! CRC-32 of everything before it. It must never hand out a row of a file
//! whose checksum was not verified first ([`verify_copy`]) and never
//! allocate more than [`MAX_FIELD`] for one field of untrusted input.
//!
//! Layout: `MAGIC`, then per row `u32 key length, u32 value length, key,
//! value` (big endian), then `u32::MAX`, `u64 rows`, `u32 crc`.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

const MAGIC: &[u8; 8] = b"SMSGWSN2";
const END: u32 = u32::MAX;
/// The largest key or value a file may hold (a row is one sled value).
pub(crate) const MAX_FIELD: u32 = 64 * 1024 * 1024;
const BUF: usize = 256 * 1024;
/// A file being written is synced every this many bytes. Left to the
/// kernel, gigabytes of a pass's file stayed dirty until the final sync
/// (or the flusher's 30 s expiry) and then went to disk at once, and the
/// raft log's own syncs waited behind them: the leader lease lapsed for
/// up to 0.9 s as passes over millions of rows ended (`bench e2e`).
const SYNC_EVERY: u64 = 32 * 1024 * 1024;

/// Why a snapshot file could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum SnapFileError {
    /// The file system failed.
    #[error("snapshot file: {0}")]
    Io(#[from] std::io::Error),
    /// The bytes are not a complete snapshot of this format.
    #[error("snapshot file is damaged or not a snapshot: {0}")]
    Damaged(String),
}

fn damaged(what: impl Into<String>) -> SnapFileError {
    SnapFileError::Damaged(what.into())
}

/// One row: key and value.
pub(crate) type Row = (Vec<u8>, Vec<u8>);

/// Writes rows in key order, syncing every [`SYNC_EVERY`] bytes;
/// [`SnapWriter::finish`] syncs the rest.
pub(crate) struct SnapWriter {
    out: BufWriter<File>,
    crc: crc32fast::Hasher,
    rows: u64,
    /// Bytes written since the last sync.
    unsynced: u64,
}

impl SnapWriter {
    pub(crate) fn create(path: &Path) -> Result<Self, SnapFileError> {
        let f = File::create(path)?;
        let mut w = Self {
            out: BufWriter::with_capacity(BUF, f),
            crc: crc32fast::Hasher::new(),
            rows: 0,
            unsynced: 0,
        };
        w.write(MAGIC)?;
        Ok(w)
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), SnapFileError> {
        self.crc.update(bytes);
        self.out.write_all(bytes)?;
        self.unsynced += bytes.len() as u64;
        if self.unsynced >= SYNC_EVERY {
            self.out.flush()?;
            self.out.get_ref().sync_data()?;
            self.unsynced = 0;
        }
        Ok(())
    }

    pub(crate) fn put(&mut self, key: &[u8], value: &[u8]) -> Result<(), SnapFileError> {
        let (k, v) = (field_len(key)?, field_len(value)?);
        self.write(&k.to_be_bytes())?;
        self.write(&v.to_be_bytes())?;
        self.write(key)?;
        self.write(value)?;
        self.rows += 1;
        Ok(())
    }

    /// Writes the trailer and syncs; returns the rows written.
    pub(crate) fn finish(mut self) -> Result<u64, SnapFileError> {
        self.write(&END.to_be_bytes())?;
        let rows = self.rows;
        self.write(&rows.to_be_bytes())?;
        let crc = self.crc.clone().finalize();
        self.out.write_all(&crc.to_be_bytes())?;
        let f = self.out.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        Ok(rows)
    }
}

fn field_len(b: &[u8]) -> Result<u32, SnapFileError> {
    u32::try_from(b.len())
        .ok()
        .filter(|n| *n <= MAX_FIELD)
        .ok_or_else(|| damaged(format!("a field of {} bytes is over the bound", b.len())))
}

/// Reads rows back; every read is checked against the framing (the
/// checksum is checked by [`verify_copy`] before a reader is trusted).
pub(crate) struct SnapReader<R: Read> {
    input: BufReader<R>,
    crc: crc32fast::Hasher,
    rows: u64,
    done: bool,
}

impl<R: Read> SnapReader<R> {
    pub(crate) fn new(input: R) -> Result<Self, SnapFileError> {
        let mut r = Self {
            input: BufReader::with_capacity(BUF, input),
            crc: crc32fast::Hasher::new(),
            rows: 0,
            done: false,
        };
        let mut magic = [0u8; 8];
        r.read_exact(&mut magic)?;
        if &magic != MAGIC {
            return Err(damaged("it does not start with the snapshot mark"));
        }
        Ok(r)
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), SnapFileError> {
        self.input.read_exact(buf).map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => damaged("it ends early (cut short)"),
            _ => SnapFileError::Io(e),
        })?;
        self.crc.update(buf);
        Ok(())
    }

    fn read_u32(&mut self) -> Result<u32, SnapFileError> {
        let mut b = [0u8; 4];
        self.read_exact(&mut b)?;
        Ok(u32::from_be_bytes(b))
    }

    /// The next row, or `None` after the trailer (which is then checked).
    pub(crate) fn next_row(&mut self) -> Result<Option<Row>, SnapFileError> {
        if self.done {
            return Ok(None);
        }
        let k = self.read_u32()?;
        if k == END {
            let mut n = [0u8; 8];
            self.read_exact(&mut n)?;
            let rows = u64::from_be_bytes(n);
            let expected = self.crc.clone().finalize();
            let mut c = [0u8; 4];
            self.input
                .read_exact(&mut c)
                .map_err(|_| damaged("its checksum is missing"))?;
            if u32::from_be_bytes(c) != expected {
                return Err(damaged("its checksum does not match"));
            }
            if rows != self.rows {
                return Err(damaged(format!("it says {rows} rows but holds {}", self.rows)));
            }
            let mut extra = [0u8; 1];
            if self.input.read(&mut extra)? != 0 {
                return Err(damaged("bytes follow its trailer"));
            }
            self.done = true;
            return Ok(None);
        }
        let v = self.read_u32()?;
        if k > MAX_FIELD || v > MAX_FIELD {
            return Err(damaged(format!("a row of {k} + {v} bytes is over the bound")));
        }
        let mut key = vec![0u8; k as usize];
        self.read_exact(&mut key)?;
        let mut value = vec![0u8; v as usize];
        self.read_exact(&mut value)?;
        self.rows += 1;
        Ok(Some((key, value)))
    }
}

/// Copies a received snapshot from `input` into `path` while checking it
/// end to end (framing, row count, checksum); returns the rows. On error
/// `path` is removed.
pub(crate) fn verify_copy(input: impl Read, path: &Path) -> Result<u64, SnapFileError> {
    let result = (|| {
        let mut reader = SnapReader::new(input)?;
        let mut writer = SnapWriter::create(path)?;
        while let Some((k, v)) = reader.next_row()? {
            writer.put(&k, &v)?;
        }
        writer.finish()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(path);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(dir: &Path, n: u32) -> std::path::PathBuf {
        let p = dir.join("a.snap");
        let mut w = SnapWriter::create(&p).expect("create");
        for i in 0..n {
            w.put(&i.to_be_bytes(), format!("v{i}").as_bytes()).expect("put");
        }
        assert_eq!(w.finish().expect("finish"), u64::from(n));
        p
    }

    /// A file longer than the sync interval (synced part by part while
    /// written) reads back whole and verifies.
    #[test]
    fn a_file_synced_as_it_is_written_reads_back_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("big.snap");
        let mut w = SnapWriter::create(&p).expect("create");
        let value = vec![7u8; 64 * 1024];
        let n = SYNC_EVERY / 64 / 1024 * 2 + 3;
        for i in 0..n {
            w.put(&i.to_be_bytes(), &value).expect("put");
        }
        assert_eq!(w.finish().expect("finish"), n);
        let copy = dir.path().join("copy.snap");
        assert_eq!(
            verify_copy(File::open(&p).expect("open"), &copy).expect("verify"),
            n
        );
    }

    #[test]
    fn rows_come_back_in_order_and_a_damaged_file_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = written(dir.path(), 1000);
        let copy = dir.path().join("b.snap");
        assert_eq!(
            verify_copy(File::open(&p).expect("open"), &copy).expect("verify"),
            1000
        );
        let mut r = SnapReader::new(File::open(&copy).expect("open")).expect("reader");
        let mut i = 0u32;
        while let Some((k, v)) = r.next_row().expect("row") {
            assert_eq!(k, i.to_be_bytes());
            assert_eq!(v, format!("v{i}").as_bytes());
            i += 1;
        }
        assert_eq!(i, 1000);

        let mut bytes = std::fs::read(&p).expect("read");
        bytes[100] ^= 1;
        let bad = dir.path().join("bad.snap");
        std::fs::write(&bad, &bytes).expect("write");
        let e = verify_copy(File::open(&bad).expect("open"), &dir.path().join("c.snap"));
        assert!(matches!(e, Err(SnapFileError::Damaged(_))), "{e:?}");
        assert!(!dir.path().join("c.snap").exists());
        let cut = &bytes[..bytes.len() / 2];
        std::fs::write(&bad, cut).expect("write");
        let e = verify_copy(File::open(&bad).expect("open"), &dir.path().join("c.snap"));
        assert!(matches!(e, Err(SnapFileError::Damaged(_))), "{e:?}");
        // A huge length in a header never allocates it.
        let mut huge = MAGIC.to_vec();
        huge.extend_from_slice(&(MAX_FIELD + 1).to_be_bytes());
        huge.extend_from_slice(&1u32.to_be_bytes());
        std::fs::write(&bad, &huge).expect("write");
        let e = verify_copy(File::open(&bad).expect("open"), &dir.path().join("c.snap"));
        assert!(matches!(e, Err(SnapFileError::Damaged(_))), "{e:?}");
    }
}
