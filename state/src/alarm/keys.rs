//! The alarm desk's keys, all under `A/` (the table list is in
//! [`crate::keys`]). Numbers are big-endian so keys sort in time and rank
//! order. It must never hold two encodings of one key.
//!
//! | key | what | value |
//! | --- | --- | --- |
//! | `A/c/ID` | a case | `Case` |
//! | `A/q/RANK CREATED ID` | open cases in triage order | empty |
//! | `A/n/NUMBER` | a citizen's latest case | case id |
//! | `A/f/NUMBER` | a number's texts in the current minute | (minute, count) |
//! | `A/w/BADGE\0ID` | cases with an officer | empty |
//! | `A/e/DEADLINE ID` | escalation timers | empty |
//! | `A/l/DEADLINE ID` | open-too-long timers | empty |
//! | `A/x/SEQ` | outbox | `Outgoing` |
//! | `A/v/SEQ` | change log (last [`super::CHANGES_KEPT`]) | case id |
//! | `A/o/BADGE` | officers | `Officer` |
//! | `A/p/PHONE` | officer by phone | badge |
//! | `A/k/SHA256` | officer by API key | badge |
//! | `A/g/NAME` | duty groups | `DutyGroup` |
//! | `A/r/KEY` | forwarding rules | `Rule` |
//! | `A/s/DAY DIM\0NAME\0EVENT` | statistics counters | u64 |
//! | `A/d/DAY` | the day's last case number | u64 |
//! | `A/#/NAME` | desk counters (cursor, sequences, totals) | u64 |

const PREFIX: &[u8] = b"A/";

fn key(table: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut k = Vec::with_capacity(32);
    k.extend_from_slice(PREFIX);
    k.push(table);
    k.push(b'/');
    for p in parts {
        k.extend_from_slice(p);
    }
    k
}

/// `A/c/ID`.
pub fn case(id: &str) -> Vec<u8> {
    key(b'c', &[id.as_bytes()])
}

/// `A/q/`: the triage queue.
pub fn queue() -> Vec<u8> {
    key(b'q', &[])
}

/// `A/q/RANK CREATED ID`.
pub fn queued(rank: u16, created_ms: u64, id: &str) -> Vec<u8> {
    key(
        b'q',
        &[&rank.to_be_bytes(), &created_ms.to_be_bytes(), id.as_bytes()],
    )
}

/// The case id at the end of an `A/q/`, `A/e/` or `A/l/` key.
pub fn trailing_case(key: &[u8], fixed: usize) -> Option<String> {
    let at = PREFIX.len() + 2 + fixed;
    key.get(at..).map(|b| String::from_utf8_lossy(b).into_owned())
}

/// Bytes of the rank and time before the id in an `A/q/` key.
pub const QUEUED_FIXED: usize = 10;
/// Bytes of the deadline before the id in an `A/e/` or `A/l/` key.
pub const TIMER_FIXED: usize = 8;

/// `A/n/NUMBER`.
pub fn citizen(number: &str) -> Vec<u8> {
    key(b'n', &[number.as_bytes()])
}

/// `A/f/NUMBER`.
pub fn flood(number: &str) -> Vec<u8> {
    key(b'f', &[number.as_bytes()])
}

/// `A/w/BADGE\0`: an officer's cases.
pub fn with_officer(badge: &str) -> Vec<u8> {
    key(b'w', &[badge.as_bytes(), b"\0"])
}

/// `A/w/BADGE\0ID`.
pub fn with_officer_case(badge: &str, id: &str) -> Vec<u8> {
    key(b'w', &[badge.as_bytes(), b"\0", id.as_bytes()])
}

/// `A/e/`: escalation timers.
pub fn escalations() -> Vec<u8> {
    key(b'e', &[])
}

/// `A/e/DEADLINE ID`.
pub fn escalation(deadline_ms: u64, id: &str) -> Vec<u8> {
    key(b'e', &[&deadline_ms.to_be_bytes(), id.as_bytes()])
}

/// `A/l/`: open-too-long timers.
pub fn overdues() -> Vec<u8> {
    key(b'l', &[])
}

/// `A/l/DEADLINE ID`.
pub fn overdue(deadline_ms: u64, id: &str) -> Vec<u8> {
    key(b'l', &[&deadline_ms.to_be_bytes(), id.as_bytes()])
}

/// The deadline of an `A/e/` or `A/l/` key.
pub fn timer_deadline(key: &[u8]) -> Option<u64> {
    let at = PREFIX.len() + 2;
    let b: [u8; 8] = key.get(at..at + 8)?.try_into().ok()?;
    Some(u64::from_be_bytes(b))
}

/// `A/x/SEQ`.
pub fn outgoing(seq: u64) -> Vec<u8> {
    key(b'x', &[&seq.to_be_bytes()])
}

/// `A/x/`.
pub fn outbox() -> Vec<u8> {
    key(b'x', &[])
}

/// `A/v/SEQ`.
pub fn change(seq: u64) -> Vec<u8> {
    key(b'v', &[&seq.to_be_bytes()])
}

/// `A/v/`.
pub fn changes() -> Vec<u8> {
    key(b'v', &[])
}

/// `A/o/BADGE`.
pub fn officer(badge: &str) -> Vec<u8> {
    key(b'o', &[badge.as_bytes()])
}

/// `A/o/`.
pub fn officers() -> Vec<u8> {
    key(b'o', &[])
}

/// `A/p/PHONE`.
pub fn officer_phone(phone: &str) -> Vec<u8> {
    key(b'p', &[phone.as_bytes()])
}

/// `A/k/SHA256`.
pub fn officer_key(sha256_hex: &str) -> Vec<u8> {
    key(b'k', &[sha256_hex.as_bytes()])
}

/// `A/g/NAME`.
pub fn group(name: &str) -> Vec<u8> {
    key(b'g', &[name.as_bytes()])
}

/// `A/g/`.
pub fn groups() -> Vec<u8> {
    key(b'g', &[])
}

/// `A/r/KEY`.
pub fn rule(rule_key: &str) -> Vec<u8> {
    key(b'r', &[rule_key.as_bytes()])
}

/// `A/r/`.
pub fn rules() -> Vec<u8> {
    key(b'r', &[])
}

/// `A/s/DAY`: one Beijing day's counters.
pub fn stats_day(day: u32) -> Vec<u8> {
    key(b's', &[&day.to_be_bytes()])
}

/// `A/s/DAY DIM\0NAME\0EVENT`.
pub fn stat(day: u32, dim: &str, name: &str, event: &str) -> Vec<u8> {
    key(
        b's',
        &[
            &day.to_be_bytes(),
            dim.as_bytes(),
            b"\0",
            name.as_bytes(),
            b"\0",
            event.as_bytes(),
        ],
    )
}

/// `(day, dim, name, event)` of an `A/s/` key.
pub fn parse_stat(k: &[u8]) -> Option<(u32, String, String, String)> {
    let at = PREFIX.len() + 2;
    let day = u32::from_be_bytes(k.get(at..at + 4)?.try_into().ok()?);
    let rest = String::from_utf8_lossy(k.get(at + 4..)?).into_owned();
    let mut it = rest.split('\0');
    let (dim, name, event) = (it.next()?, it.next()?, it.next()?);
    Some((day, dim.into(), name.into(), event.into()))
}

/// `A/d/DAY`.
pub fn day_seq(day: u32) -> Vec<u8> {
    key(b'd', &[&day.to_be_bytes()])
}

/// `A/#/NAME`.
pub fn counter(name: &str) -> Vec<u8> {
    key(b'#', &[name.as_bytes()])
}

/// Desk counters.
pub mod counter {
    /// The last MO the intake looked at.
    pub const CURSOR: &str = "cursor";
    /// The last outbox sequence.
    pub const OUT_SEQ: &str = "out_seq";
    /// The first outbox row not yet sent.
    pub const OUT_SENT: &str = "out_sent";
    /// The last change-log sequence.
    pub const CHANGE_SEQ: &str = "change_seq";
    /// Texts from unknown senders to the desk number.
    pub const UNKNOWN: &str = "unknown_senders";

    /// Cases of `line` that ever reached `status`.
    pub fn reached(line: &str, status: &str) -> String {
        format!("reached\0{line}\0{status}")
    }

    /// Open cases of `line`.
    pub fn open(line: &str) -> String {
        format!("open\0{line}")
    }

    /// The lines that ever had a case.
    pub fn lines() -> String {
        "lines".into()
    }
}
