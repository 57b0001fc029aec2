//! The retention indexes, all under `E/` (see [`crate::retention`]):
//!
//! | key | what | value |
//! | --- | --- | --- |
//! | `E/m` AT MESSAGE | a closed message, by acceptance time (legacy: read, no longer written) | `Closed` |
//! | `E/r` AT RID | a request id that expires, by its command's time | empty |
//! | `E/s` PART `\0` CARRIER `\0` ID | carrier ids of a part its head's route and last id do not name (finds `k/`) | empty |
//! | `E/w` AT CARRIER `\0` ID | a report parked in `w/` for its submit result, by arrival | empty |
//!
//! AT is big-endian ms, so a purge reads only the front that expired.
//!
//! Built here, beside their only writer, and re-exported as `keys::retention`
//! so that `keys` stays the one list of prefixes. It must never build a key
//! outside `E/`.

use crate::keys::join;

/// All retention indexes.
pub const PREFIX: &[u8] = b"E/";
/// Closed messages by acceptance time (legacy, see [`crate::retention`]).
pub const MESSAGES: &[u8] = b"E/m";
/// Expiring request ids by time.
pub const REQUESTS: &[u8] = b"E/r";
/// Reports parked for their submit result, by arrival time.
pub const PARKED: &[u8] = b"E/w";

/// `E/m AT MESSAGE`.
pub fn message(at_ms: u64, mid: &str) -> Vec<u8> {
    join(MESSAGES, &[&at_ms.to_be_bytes(), mid.as_bytes()])
}
/// `E/r AT RID`.
pub fn request(at_ms: u64, rid: &str) -> Vec<u8> {
    join(REQUESTS, &[&at_ms.to_be_bytes(), rid.as_bytes()])
}
/// `E/w AT CARRIER \0 ID`.
pub fn parked(at_ms: u64, carrier: &str, id: &str) -> Vec<u8> {
    join(
        PARKED,
        &[&at_ms.to_be_bytes(), carrier.as_bytes(), b"\0", id.as_bytes()],
    )
}
/// `E/s PART \0`: the start of a part's submit rows.
pub fn submits(part_id: &str) -> Vec<u8> {
    join(PREFIX, &[b"s", part_id.as_bytes(), b"\0"])
}
/// `E/s PART \0 CARRIER \0 ID`: one carrier id a part was given (a
/// part resubmitted elsewhere has several).
pub fn submitted(part_id: &str, carrier: &str, id: &str) -> Vec<u8> {
    join(
        PREFIX,
        &[
            b"s",
            part_id.as_bytes(),
            b"\0",
            carrier.as_bytes(),
            b"\0",
            id.as_bytes(),
        ],
    )
}
/// The (carrier, id) of an `E/s` row of `part_id`.
pub fn parse_submitted(part_id: &str, key: &[u8]) -> Option<(String, String)> {
    let rest = key.strip_prefix(submits(part_id).as_slice())?;
    let nul = rest.iter().position(|b| *b == 0)?;
    let carrier = std::str::from_utf8(&rest[..nul]).ok()?;
    let id = std::str::from_utf8(&rest[nul + 1..]).ok()?;
    Some((carrier.to_string(), id.to_string()))
}
/// The (time, name) of an `E/m`, `E/r` or `E/w` key (for `E/w` the name
/// is `CARRIER \0 ID`).
pub fn parse(table: &[u8], key: &[u8]) -> Option<(u64, String)> {
    let rest = key.strip_prefix(table)?;
    let at: [u8; 8] = rest.get(..8)?.try_into().ok()?;
    let name = std::str::from_utf8(rest.get(8..)?).ok()?;
    Some((u64::from_be_bytes(at), name.to_string()))
}
/// Counter names of the purge cursors.
pub mod counter {
    /// Everything in `E/m` before this time is gone (ms).
    pub const MESSAGES: &str = "retention/messages";
    /// Everything in `E/r` before this time is gone (ms).
    pub const REQUESTS: &str = "retention/requests";
    /// The last MO sequence purged.
    pub const MOS: &str = "retention/mos";
    /// Everything in `E/w` before this time is gone (ms).
    pub const PARKED: &str = "retention/parked";
    /// The last `f/` sequence the purge has passed.
    pub const FINALS: &str = "retention/finals";
}
