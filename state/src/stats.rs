//! Statistics kept by apply as counters, never computed by scanning
//! records: per account and Beijing day, messages and parts accepted and
//! ended in each final state, and MOs, each also by carrier, status, group
//! and template. Reading a period reads that period's counters only (a
//! range bounded by days × dimensions). It must never read a clock: the
//! day comes from the time carried in the command.

use std::ops::Bound;

use smsgw_raft::{ApplyError, Tx, View};

use crate::keys;

/// Milliseconds in a day.
const DAY_MS: u64 = 86_400_000;
/// Beijing time is UTC+8 all year.
const BEIJING_MS: u64 = 8 * 3_600_000;
/// Most counter rows one read returns.
pub const MAX_ROWS: usize = 200_000;

/// The Beijing day (days since 1970-01-01 in UTC+8) of `ms`.
pub fn day(ms: u64) -> u32 {
    ((ms + BEIJING_MS) / DAY_MS) as u32
}

/// Beijing day `day` as the number `YYYYMMDD` (proleptic Gregorian, the
/// civil-from-days algorithm).
pub fn ymd(day: u32) -> u32 {
    let z = i64::from(day) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y * 10_000 + m * 100 + d) as u32
}

/// The first millisecond (since the epoch) of Beijing day `day`.
pub fn day_start_ms(day: u32) -> u64 {
    (u64::from(day) * DAY_MS).saturating_sub(BEIJING_MS)
}

/// Adds `messages` and `parts` to `event` on every dimension in `dims`.
pub(crate) fn count(
    tx: &mut Tx<'_>,
    account: &str,
    at_ms: u64,
    dims: &[String],
    event: &str,
    messages: u64,
    parts: u64,
) -> Result<(), ApplyError> {
    let d = day(at_ms);
    for dim in dims {
        if messages > 0 {
            tx.add(&keys::stat(account, d, dim, event, false), messages as i64)?;
        }
        if parts > 0 {
            tx.add(&keys::stat(account, d, dim, event, true), parts as i64)?;
        }
    }
    Ok(())
}

/// One counter read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stat {
    /// Beijing day.
    pub day: u32,
    /// Dimension (`all`, `carrier:X`, ...).
    pub dim: String,
    /// Event (`accepted`, `DELIVRD`, `mo`, ...).
    pub event: String,
    /// Parts (true) or messages.
    pub parts: bool,
    /// The count.
    pub value: u64,
}

/// Every counter of `account` for days `from..=until`.
pub fn read(view: &View, account: &str, from: u32, until: u32) -> Result<Vec<Stat>, ApplyError> {
    let start = keys::stats_day(account, from);
    let end = keys::stats_day(account, until.saturating_add(1));
    let prefix_len = keys::stats_day(account, 0).len();
    let mut out = Vec::new();
    for (k, v) in view.range(Bound::Included(&start), &end, MAX_ROWS)? {
        let Some(day_bytes) = k.get(prefix_len - 4..prefix_len) else {
            continue;
        };
        let day = u32::from_be_bytes(day_bytes.try_into().unwrap_or([0; 4]));
        let rest = &k[prefix_len..];
        let mut fields = rest.split(|b| *b == 0);
        let (Some(dim), Some(event), Some(unit)) = (fields.next(), fields.next(), fields.next()) else {
            continue;
        };
        out.push(Stat {
            day,
            dim: String::from_utf8_lossy(dim).into_owned(),
            event: String::from_utf8_lossy(event).into_owned(),
            parts: unit == b"p",
            value: smsgw_raft::codec::decode(&v)?,
        });
    }
    Ok(out)
}
