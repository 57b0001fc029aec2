//! The part table (`p/M.k`): a message's head (`M.0`: its envelope and
//! ready slot) and its parts (`M.1` ..), read and written only through
//! here. A one-part message keeps its head and its one part in a single
//! row under the head's key (a solo row): its life (accept, submit result,
//! report) writes that one row three times instead of two rows five
//! times, the largest saving of sled writes per message. Rows written
//! before solo rows existed (a head and a `p/M.1` row) are read and updated
//! where they are.
//!
//! It must never be bypassed: a raw read of `p/M.1` misses a solo
//! message's part, and a raw write of `p/M.0` would drop it.

use smsgw_raft::{codec, ApplyError, Tx, View};

use crate::command::PartRecord;
use crate::keys;

/// The first byte of a solo row. A plain row is a bincode [`PartRecord`],
/// whose first byte is the length of its part id, and apply refuses an
/// empty id (see [`valid_id`]): never 0.
const SOLO_MARK: u8 = 0;

/// A one-part message's row, as stored: the mark, the head's encoded
/// length (u32, little-endian), the head, the part. Each half is read and
/// replaced without decoding the other.
struct Solo<'a> {
    head: &'a [u8],
    part: &'a [u8],
}

impl<'a> Solo<'a> {
    /// `None`: not a solo row.
    fn parse(bytes: &'a [u8]) -> Result<Option<Self>, ApplyError> {
        let Some((&SOLO_MARK, rest)) = bytes.split_first() else {
            return Ok(None);
        };
        let bad = || ApplyError::Codec(codec::CodecError::Framing("a solo part row is cut short"));
        let len: [u8; 4] = rest.get(..4).and_then(|b| b.try_into().ok()).ok_or_else(bad)?;
        let len = u32::from_le_bytes(len) as usize;
        let head = rest.get(4..4 + len).ok_or_else(bad)?;
        let part = rest.get(4 + len..).ok_or_else(bad)?;
        Ok(Some(Self { head, part }))
    }

    fn encode(head: &[u8], part: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(5 + head.len() + part.len());
        out.push(SOLO_MARK);
        out.extend_from_slice(&(head.len() as u32).to_le_bytes());
        out.extend_from_slice(head);
        out.extend_from_slice(part);
        out
    }
}

/// Where part rows are read from: apply's transaction or a view.
pub(crate) trait Rows {
    /// The bytes under `key`.
    fn raw(&self, key: &[u8]) -> Result<Option<Vec<u8>>, ApplyError>;
}

impl Rows for Tx<'_> {
    fn raw(&self, key: &[u8]) -> Result<Option<Vec<u8>>, ApplyError> {
        self.get_raw(key)
    }
}

impl Rows for View {
    fn raw(&self, key: &[u8]) -> Result<Option<Vec<u8>>, ApplyError> {
        self.get_raw(key)
    }
}

/// Whether `pid` may be stored: a part id is never empty (a solo row's
/// mark relies on it).
pub(crate) fn valid_id(pid: &str) -> bool {
    !pid.is_empty()
}

fn is_solo(bytes: &[u8]) -> bool {
    bytes.first() == Some(&SOLO_MARK)
}

/// `pid` as (message, part number) when it has that form; other ids (test
/// data) are plain rows under their own key.
fn split(pid: &str) -> Option<(&str, &str)> {
    pid.rsplit_once('.')
}

fn head_key(mid: &str) -> Vec<u8> {
    keys::part(&format!("{mid}.0"))
}

/// Message `mid`'s head and, when its row is solo, its one part: a reader
/// of a whole message (the feeder, the CDR writer, a status query) reads
/// the row once, not once for the head and again for part 1.
pub(crate) fn head_and_solo(
    rows: &impl Rows,
    mid: &str,
) -> Result<Option<(PartRecord, Option<PartRecord>)>, ApplyError> {
    let Some(b) = rows.raw(&head_key(mid))? else {
        return Ok(None);
    };
    Ok(Some(match Solo::parse(&b)? {
        Some(solo) => (codec::decode(solo.head)?, Some(codec::decode(solo.part)?)),
        None => (codec::decode(&b)?, None),
    }))
}

/// Part `k` (from 1) of message `mid`, whose head row held `solo`.
pub(crate) fn part_after_head(
    rows: &impl Rows,
    mid: &str,
    solo: Option<&PartRecord>,
    k: u16,
) -> Result<Option<PartRecord>, ApplyError> {
    match (k, solo) {
        (1, Some(part)) => Ok(Some(part.clone())),
        _ => plain(rows, &format!("{mid}.{k}")),
    }
}

/// Part `pid` (`M.0` for the head).
pub(crate) fn get(rows: &impl Rows, pid: &str) -> Result<Option<PartRecord>, ApplyError> {
    match split(pid) {
        Some((_, "0")) => match rows.raw(&keys::part(pid))? {
            Some(b) => match Solo::parse(&b)? {
                Some(solo) => Ok(Some(codec::decode(solo.head)?)),
                None => Ok(Some(codec::decode(&b)?)),
            },
            None => Ok(None),
        },
        Some((mid, "1")) => match rows.raw(&head_key(mid))? {
            Some(b) if is_solo(&b) => match Solo::parse(&b)? {
                Some(solo) => Ok(Some(codec::decode(solo.part)?)),
                None => plain(rows, pid),
            },
            _ => plain(rows, pid),
        },
        _ => plain(rows, pid),
    }
}

fn plain(rows: &impl Rows, pid: &str) -> Result<Option<PartRecord>, ApplyError> {
    match rows.raw(&keys::part(pid))? {
        Some(b) => Ok(Some(codec::decode(&b)?)),
        None => Ok(None),
    }
}

/// Whether part `pid` is stored, from its keys and the solo mark alone
/// (every accept asks, for each of its parts: nothing is decoded).
pub(crate) fn contains(tx: &Tx<'_>, pid: &str) -> Result<bool, ApplyError> {
    if let Some((mid, "1")) = split(pid) {
        if tx.get_raw(&head_key(mid))?.is_some_and(|b| is_solo(&b)) {
            return Ok(true);
        }
    }
    tx.contains(&keys::part(pid))
}

/// Writes part `pid`. The one part of a one-part message, written after
/// its head and with no row of its own yet, joins the head's row.
pub(crate) fn put(tx: &mut Tx<'_>, pid: &str, rec: &PartRecord) -> Result<(), ApplyError> {
    match split(pid) {
        Some((_, "0")) => {
            let k = keys::part(pid);
            let stored = tx.get_raw(&k)?;
            match stored.as_deref().map(Solo::parse).transpose()?.flatten() {
                Some(solo) => {
                    let row = Solo::encode(&codec::encode(rec)?, solo.part);
                    tx.put_raw(k, row);
                    Ok(())
                }
                None => tx.put(k, rec),
            }
        }
        Some((mid, "1")) => {
            let hk = head_key(mid);
            let Some(b) = tx.get_raw(&hk)? else {
                return tx.put(keys::part(pid), rec);
            };
            let joins = match Solo::parse(&b)? {
                Some(solo) => Some(solo.head),
                // The part says how many its message has, as its head does.
                None if rec.part.parts == 1 && !tx.contains(&keys::part(pid))? => Some(b.as_slice()),
                None => None,
            };
            match joins {
                Some(head) => {
                    let row = Solo::encode(head, &codec::encode(rec)?);
                    tx.put_raw(hk, row);
                    Ok(())
                }
                None => tx.put(keys::part(pid), rec),
            }
        }
        _ => tx.put(keys::part(pid), rec),
    }
}

/// Removes message `mid`'s head and parts `1..=parts`; returns those that
/// were stored, with their records (a solo row counts as two).
pub(crate) fn remove_message(
    tx: &mut Tx<'_>,
    mid: &str,
    parts: u16,
) -> Result<Vec<(String, PartRecord)>, ApplyError> {
    let mut found = Vec::new();
    for k in 0..=parts {
        let pid = format!("{mid}.{k}");
        if let Some(rec) = get(tx, &pid)? {
            found.push((pid, rec));
        }
    }
    for (pid, _) in &found {
        let k = keys::part(pid);
        if tx.contains(&k)? {
            tx.remove(k);
        }
    }
    Ok(found)
}

/// The ids of part rows under `prefix` in a scan's `(key, value)` rows,
/// with a solo row's part after its head.
pub(crate) fn ids_of(rows: Vec<(Vec<u8>, Vec<u8>)>) -> Vec<String> {
    let mut out = Vec::with_capacity(rows.len());
    for (k, v) in rows {
        let id = String::from_utf8_lossy(&k[keys::PART.len().min(k.len())..]).into_owned();
        let part = is_solo(&v)
            .then(|| split(&id).map(|(mid, _)| format!("{mid}.1")))
            .flatten();
        out.push(id);
        out.extend(part);
    }
    out
}

#[cfg(test)]
mod tests;
