//! The staging table, all under `S/` (see [`crate::staging`]):
//!
//! | key | what | value |
//! | --- | --- | --- |
//! | `S/s` STAGE `\0` | a stage waiting for its commit | `StageHead` |
//! | `S/s` STAGE `\0` CHUNK | one chunk of its parts (big-endian u32) | `Vec<MtPart>` |
//! | `S/i` AT STAGE | the stage by staging time, for the purge | empty |
//!
//! Nothing else reads `S/`. Built here, beside their only writer. It must
//! never build a key outside `S/`.

use crate::keys::join;

/// The staging table.
pub const PREFIX: &[u8] = b"S/";
/// Stages by staging time.
pub const INDEX: &[u8] = b"S/i";

/// `S/s STAGE \0`.
pub fn head(stage: &str) -> Vec<u8> {
    join(PREFIX, &[b"s", stage.as_bytes(), b"\0"])
}
/// `S/s STAGE \0 CHUNK`.
pub fn chunk(stage: &str, n: u32) -> Vec<u8> {
    join(PREFIX, &[b"s", stage.as_bytes(), b"\0", &n.to_be_bytes()])
}
/// `S/i AT STAGE`.
pub fn index(at_ms: u64, stage: &str) -> Vec<u8> {
    join(INDEX, &[&at_ms.to_be_bytes(), stage.as_bytes()])
}
/// The (time, stage) of an `S/i` key.
pub fn parse_index(key: &[u8]) -> Option<(u64, String)> {
    let rest = key.strip_prefix(INDEX)?;
    let at: [u8; 8] = rest.get(..8)?.try_into().ok()?;
    let stage = std::str::from_utf8(rest.get(8..)?).ok()?;
    Some((u64::from_be_bytes(at), stage.to_string()))
}
/// The purge cursor (a counter): every `S/i` row before this time is gone.
pub const CURSOR: &str = "staging/purged";
