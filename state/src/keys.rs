//! The key layout of the domain tables in the state-machine tree. One
//! prefix per table; raft keeps `_/` for itself.
//!
//! | prefix | table | value |
//! | --- | --- | --- |
//! | `c/KEY` | config documents | JSON text |
//! | `n/NAME` | counters kept by apply (never a scan or `Tree::len`) | u64 |
//! | `p/M.k` | parts; `M.0` is the message head (envelope); a one-part message's head and part share `p/M.0` (read and written only through `parts`) | `PartRecord`, or a solo row |
//! | `k/CARRIER\0ID` | carrier message id → part id | part id |
//! | `w/CARRIER\0ID` | report waiting for its submit result | `PendingReport` |
//! | `o/SEQ` | MOs, dense sequence | `MoRecord` |
//! | `r/RID` | first response of a request id (idempotency) | `Response` |
//! | `q/ROUTE\0PRIO SEQ` | ready queue: unfinished messages by route, priority, acceptance order | message id |
//! | `a/ROUTE` | routes that ever had a ready queue (never deleted) | empty |
//! | `b/ACCOUNT\0…` | address books, one sub-table per letter (see [`book`]) | |
//! | `j/ACCOUNT\0ID` | send jobs | `JobRecord` |
//! | `J/ID CHUNK` | a job's recipients, one chunk per row | `Vec<Recipient>` |
//! | `d/DUE ID` | timers of jobs with chunks left | account |
//! | `m/MESSAGE` | the job a message belongs to | job id |
//! | `H/ID` | jobs held for review | account |
//! | `f/SEQ` | messages in the order they closed (CDR writers tail it; the retention index) | `retention::Final` |
//! | `s/ACCOUNT\0DAY DIM\0EVENT\0m\|p` | statistics counters (see `stats`) | u64 |
//! | `x/ACCOUNT\0AT MESSAGE` | an account's messages by acceptance time | empty |
//! | `u/ACCOUNT` | prepaid account: status, balance, last top-up | `AccountRecord` |
//! | `l/ACCOUNT\0AT SEQ` | the account's ledger | `LedgerLine` |
//! | `h/MESSAGE` | parts charged for a message still open (refunds) | `Charge` |
//! | `z/ACCOUNT\0NUMBER` | opted-out numbers | ms |
//! | `y/NUMBER` | the last marketing account that sent to a number | account |
//! | `e/ACCOUNT\0`, `e/ACCOUNT\0SEQ`, `e/\0` | callback events (see [`events`]) | |
//! | `A/…` | the 110 alarm desk (see [`crate::alarm::keys`]) | |
//! | `U/USERNAME` | console users | `UserRecord` |
//! | `E/m…`, `E/r…`, `E/s…` | retention indexes (see [`retention`]) | |
//! | `S/…` | staged accepts waiting for their commit (see [`crate::staging::keys`]) | |
//!
//! Why `a/` and the `ready_last` counters: sled 0.34 never merges emptied
//! nodes, so a range that starts where many keys were deleted (the head of
//! a ready queue, as messages finish) walks every emptied leaf. Readers
//! therefore start at a cursor, never at a queue's head, and learn whether
//! a queue has anything new from its last sequence, a point read.
//!
//! It must never hold two encodings of one key: every key is built here.

/// Config documents.
pub const CONFIG: &[u8] = b"c/";
/// Counters.
pub const COUNTER: &[u8] = b"n/";
/// Parts.
pub const PART: &[u8] = b"p/";
/// Carrier message ids.
pub const CARRIER_ID: &[u8] = b"k/";
/// Reports waiting for their submit result.
pub const PENDING_REPORT: &[u8] = b"w/";
/// MOs.
pub const MO: &[u8] = b"o/";
/// Request ids.
pub const REQUEST: &[u8] = b"r/";
/// Ready queues.
pub const READY: &[u8] = b"q/";
/// Routes that have ready queues.
pub const READY_ROUTE: &[u8] = b"a/";

/// Address books.
pub const BOOK: &[u8] = b"b/";

/// Send jobs.
pub const JOB: &[u8] = b"j/";
/// Job recipients.
pub const JOB_CHUNK: &[u8] = b"J/";
/// Job timers.
pub const TIMER: &[u8] = b"d/";
/// Message → job.
pub const MESSAGE_JOB: &[u8] = b"m/";
/// Jobs held for review.
pub const HELD: &[u8] = b"H/";
/// Closed messages, in order.
pub const FINALS: &[u8] = b"f/";

/// `f/SEQ`.
pub fn finals(seq: u64) -> Vec<u8> {
    join(FINALS, &[&seq.to_be_bytes()])
}

/// `H/ID`.
pub fn held(id: u64) -> Vec<u8> {
    join(HELD, &[&id.to_be_bytes()])
}

/// Prepaid accounts.
pub const ACCOUNT: &[u8] = b"u/";
/// Ledgers.
pub const LEDGER: &[u8] = b"l/";
/// Charges of open messages.
pub const CHARGE: &[u8] = b"h/";
/// Opt-outs.
pub const OPT_OUT: &[u8] = b"z/";
/// Last marketing sender of a number.
pub const LAST_SENDER: &[u8] = b"y/";

/// `u/ACCOUNT`.
pub fn account(name: &str) -> Vec<u8> {
    join(ACCOUNT, &[name.as_bytes()])
}

/// `l/ACCOUNT\0`: the start of an account's ledger.
pub fn ledger(account: &str) -> Vec<u8> {
    join(LEDGER, &[account.as_bytes(), b"\0"])
}

/// `l/ACCOUNT\0AT SEQ`: one ledger line, in time order.
pub fn ledger_line(account: &str, at_ms: u64, seq: u64) -> Vec<u8> {
    join(
        LEDGER,
        &[
            account.as_bytes(),
            b"\0",
            &at_ms.to_be_bytes(),
            &seq.to_be_bytes(),
        ],
    )
}

/// `h/MESSAGE`.
pub fn charge(message: &str) -> Vec<u8> {
    join(CHARGE, &[message.as_bytes()])
}

/// `z/ACCOUNT\0`: the start of an account's opt-outs.
pub fn opt_outs(account: &str) -> Vec<u8> {
    join(OPT_OUT, &[account.as_bytes(), b"\0"])
}

/// `z/ACCOUNT\0NUMBER`.
pub fn opt_out(account: &str, number: &str) -> Vec<u8> {
    join(OPT_OUT, &[account.as_bytes(), b"\0", number.as_bytes()])
}

/// `y/NUMBER`.
pub fn last_sender(number: &str) -> Vec<u8> {
    join(LAST_SENDER, &[number.as_bytes()])
}

/// Statistics counters.
pub const STATS: &[u8] = b"s/";
/// Messages by account and time.
pub const RECORDS: &[u8] = b"x/";

/// `s/ACCOUNT\0DAY`: one account's counters of one day (days since the
/// epoch in Beijing time, big-endian, so days sort).
pub fn stats_day(account: &str, day: u32) -> Vec<u8> {
    join(STATS, &[account.as_bytes(), b"\0", &day.to_be_bytes()])
}

/// One statistics counter: `dim` (`all`, `carrier:X`, `status:X`,
/// `group:X`, `template:X`), `event` (`accepted`, a final state, `mo`), and
/// `m` for messages or `p` for parts.
pub fn stat(account: &str, day: u32, dim: &str, event: &str, parts: bool) -> Vec<u8> {
    let unit: &[u8] = if parts { b"p" } else { b"m" };
    join(
        STATS,
        &[
            account.as_bytes(),
            b"\0",
            &day.to_be_bytes(),
            dim.as_bytes(),
            b"\0",
            event.as_bytes(),
            b"\0",
            unit,
        ],
    )
}

/// `x/ACCOUNT\0`: the start of an account's message records.
pub fn records(account: &str) -> Vec<u8> {
    join(RECORDS, &[account.as_bytes(), b"\0"])
}

/// `x/ACCOUNT\0AT MESSAGE`.
pub fn record(account: &str, at_ms: u64, message: &str) -> Vec<u8> {
    join(
        RECORDS,
        &[
            account.as_bytes(),
            b"\0",
            &at_ms.to_be_bytes(),
            message.as_bytes(),
        ],
    )
}

/// Callback events.
pub const EVENTS: &[u8] = b"e/";

/// Console users.
pub const USERS: &[u8] = b"U/";

/// `U/USERNAME`.
pub fn user(username: &str) -> Vec<u8> {
    join(USERS, &[username.as_bytes()])
}

/// `j/ACCOUNT\0`: the start of an account's jobs.
pub fn jobs(account: &str) -> Vec<u8> {
    join(JOB, &[account.as_bytes(), b"\0"])
}

/// `j/ACCOUNT\0ID`.
pub fn job(account: &str, id: u64) -> Vec<u8> {
    join(JOB, &[account.as_bytes(), b"\0", &id.to_be_bytes()])
}

/// `J/ID CHUNK`.
pub fn job_chunk(id: u64, chunk: u32) -> Vec<u8> {
    join(JOB_CHUNK, &[&id.to_be_bytes(), &chunk.to_be_bytes()])
}

/// `d/DUE ID`: sorts by due time.
pub fn timer(due_ms: u64, id: u64) -> Vec<u8> {
    join(TIMER, &[&due_ms.to_be_bytes(), &id.to_be_bytes()])
}

/// The (due, id) of a timer key.
pub fn parse_timer(key: &[u8]) -> Option<(u64, u64)> {
    let rest = key.strip_prefix(TIMER)?;
    let due: [u8; 8] = rest.get(..8)?.try_into().ok()?;
    let id: [u8; 8] = rest.get(8..16)?.try_into().ok()?;
    Some((u64::from_be_bytes(due), u64::from_be_bytes(id)))
}

/// `m/MESSAGE`.
pub fn message_job(message: &str) -> Vec<u8> {
    join(MESSAGE_JOB, &[message.as_bytes()])
}

/// Names of counters (`n/NAME`).
pub mod counter {
    /// Parts accepted (heads included).
    pub const PARTS: &str = "parts";
    /// MOs recorded (also the last MO sequence number).
    pub const MOS: &str = "mos";
    /// Config documents.
    pub const CONFIGS: &str = "configs";
    /// Acceptance sequence of messages (orders the ready queues).
    pub const READY_SEQ: &str = "ready_seq";
    /// Unfinished messages by priority: `ready/0` .. `ready/3`.
    pub fn ready(priority: u8) -> String {
        format!("ready/{priority}")
    }
    /// Last job id.
    pub const JOB_SEQ: &str = "job_seq";
    /// Messages closed so far (the last `f/` sequence).
    pub const FINALS: &str = "finals";
    /// The last MO the leader's intake (statistics, opt-outs) has read.
    pub const MO_INTAKE: &str = "mo_intake";
    /// Messages of job `id` that ended in `state`.
    pub fn job_state(id: u64, state: &str) -> String {
        format!("job/{id}/{state}")
    }
    /// The last MO sequence the callback tailer looked at.
    pub const EVENTS_MO_CURSOR: &str = "events/mo_cursor";
    /// Unfinished messages of `account` (its backlog, capped by the API).
    pub fn backlog(account: &str) -> String {
        format!("backlog/{account}")
    }
    /// The last sequence put in one ready queue (monotonic).
    pub fn ready_last(route: &str, priority: u8) -> String {
        format!("ready_last/{route}/{priority}")
    }
}

/// The address-book tables of one account, all under `b/ACCOUNT\0` and
/// then one letter per table:
///
/// | key | value |
/// | --- | --- |
/// | `c` ID | `Contact` |
/// | `n` NUMBER | contact id (a number belongs to one contact) |
/// | `s` TOKEN `\0` ID | empty: search index |
/// | `t` TAG `\0` ID, `u` UNIT `\0` ID | empty: dynamic group members |
/// | `g` ID | `Group` |
/// | `G` NAME | group id |
/// | `T` NAME | `Template` |
///
/// Ids are big-endian u64 so rows sort by id.
pub mod book {
    use super::{join, BOOK};

    fn table(account: &str, letter: u8) -> Vec<u8> {
        join(BOOK, &[account.as_bytes(), b"\0", &[letter]])
    }

    fn with(account: &str, letter: u8, parts: &[&[u8]]) -> Vec<u8> {
        let mut k = table(account, letter);
        for p in parts {
            k.extend_from_slice(p);
        }
        k
    }

    /// Start of an account's contacts.
    pub fn contacts(account: &str) -> Vec<u8> {
        table(account, b'c')
    }
    /// One contact.
    pub fn contact(account: &str, id: u64) -> Vec<u8> {
        with(account, b'c', &[&id.to_be_bytes()])
    }
    /// The contact owning a number.
    pub fn phone(account: &str, number: &str) -> Vec<u8> {
        with(account, b'n', &[number.as_bytes()])
    }
    /// Search rows whose token starts with `prefix`.
    pub fn tokens(account: &str, prefix: &str) -> Vec<u8> {
        with(account, b's', &[prefix.as_bytes()])
    }
    /// One search row.
    pub fn token(account: &str, token: &str, id: u64) -> Vec<u8> {
        with(account, b's', &[token.as_bytes(), b"\0", &id.to_be_bytes()])
    }
    /// Contacts with a tag.
    pub fn tag_members(account: &str, tag: &str) -> Vec<u8> {
        with(account, b't', &[tag.as_bytes(), b"\0"])
    }
    /// One contact's tag row.
    pub fn tag_member(account: &str, tag: &str, id: u64) -> Vec<u8> {
        with(account, b't', &[tag.as_bytes(), b"\0", &id.to_be_bytes()])
    }
    /// Contacts of a unit.
    pub fn unit_members(account: &str, unit: &str) -> Vec<u8> {
        with(account, b'u', &[unit.as_bytes(), b"\0"])
    }
    /// One contact's unit row.
    pub fn unit_member(account: &str, unit: &str, id: u64) -> Vec<u8> {
        with(account, b'u', &[unit.as_bytes(), b"\0", &id.to_be_bytes()])
    }
    /// Start of an account's groups.
    pub fn groups(account: &str) -> Vec<u8> {
        table(account, b'g')
    }
    /// One group.
    pub fn group(account: &str, id: u64) -> Vec<u8> {
        with(account, b'g', &[&id.to_be_bytes()])
    }
    /// A group's name.
    pub fn group_name(account: &str, name: &str) -> Vec<u8> {
        with(account, b'G', &[name.as_bytes()])
    }
    /// Start of an account's templates.
    pub fn templates(account: &str) -> Vec<u8> {
        table(account, b'T')
    }
    /// One template.
    pub fn template(account: &str, name: &str) -> Vec<u8> {
        with(account, b'T', &[name.as_bytes()])
    }
    /// The id at the end of an index key.
    pub fn trailing_id(key: &[u8]) -> Option<u64> {
        let tail: [u8; 8] = key.get(key.len().checked_sub(8)?..)?.try_into().ok()?;
        Some(u64::from_be_bytes(tail))
    }
    /// Counter names of an account's book.
    pub mod counter {
        /// Last contact id.
        pub fn contact_seq(account: &str) -> String {
            format!("book/{account}/contact_seq")
        }
        /// Last group id.
        pub fn group_seq(account: &str) -> String {
            format!("book/{account}/group_seq")
        }
        /// Number of contacts.
        pub fn contacts(account: &str) -> String {
            format!("book/{account}/contacts")
        }
    }
}

/// The callback event tables, all under `e/`:
///
/// | key | value |
/// | --- | --- |
/// | `e/ACCOUNT\0` | `AccountEvents` (sorts before the account's rows) |
/// | `e/ACCOUNT\0` SEQ | `Event` (big-endian sequence) |
/// | `e/\0` | subscribed accounts (no account name is empty) |
pub mod events {
    use super::{join, EVENTS};

    /// An account's queue state; also the prefix of its event rows.
    pub fn account(account: &str) -> Vec<u8> {
        join(EVENTS, &[account.as_bytes(), b"\0"])
    }
    /// One event.
    pub fn event(account: &str, seq: u64) -> Vec<u8> {
        join(EVENTS, &[account.as_bytes(), b"\0", &seq.to_be_bytes()])
    }
    /// The subscribed accounts.
    pub fn subscriptions() -> Vec<u8> {
        join(EVENTS, &[b"\0"])
    }
}

/// The retention indexes (`E/…`), built in [`crate::retention::keys`].
pub use crate::retention::keys as retention;

pub(crate) fn join(prefix: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let len = prefix.len() + parts.iter().map(|p| p.len()).sum::<usize>();
    let mut k = Vec::with_capacity(len);
    k.extend_from_slice(prefix);
    for p in parts {
        k.extend_from_slice(p);
    }
    k
}

/// `c/KEY`.
pub fn config(key: &str) -> Vec<u8> {
    join(CONFIG, &[key.as_bytes()])
}

/// `n/NAME`.
pub fn counter(name: &str) -> Vec<u8> {
    join(COUNTER, &[name.as_bytes()])
}

/// `p/ID`.
pub fn part(id: &str) -> Vec<u8> {
    join(PART, &[id.as_bytes()])
}

/// `k/CARRIER\0ID`: carriers' ids never mix, even when equal.
pub fn carrier_id(carrier: &str, id: &str) -> Vec<u8> {
    join(CARRIER_ID, &[carrier.as_bytes(), b"\0", id.as_bytes()])
}

/// `w/CARRIER\0ID`.
pub fn pending_report(carrier: &str, id: &str) -> Vec<u8> {
    join(PENDING_REPORT, &[carrier.as_bytes(), b"\0", id.as_bytes()])
}

/// `o/SEQ` (big-endian, so keys sort by sequence).
pub fn mo(seq: u64) -> Vec<u8> {
    join(MO, &[&seq.to_be_bytes()])
}

/// `r/RID`.
pub fn request(rid: &str) -> Vec<u8> {
    join(REQUEST, &[rid.as_bytes()])
}

/// `q/ROUTE\0` + priority: the start of one ready queue.
pub fn ready_queue(route: &str, priority: u8) -> Vec<u8> {
    join(READY, &[route.as_bytes(), b"\0", &[priority]])
}

/// `q/ROUTE\0PRIO SEQ`: one message's place in its ready queue.
pub fn ready(route: &str, priority: u8, seq: u64) -> Vec<u8> {
    join(READY, &[route.as_bytes(), b"\0", &[priority], &seq.to_be_bytes()])
}

/// `a/ROUTE`: `route` has ready queues.
pub fn ready_route(route: &str) -> Vec<u8> {
    join(READY_ROUTE, &[route.as_bytes()])
}

/// The key after all keys starting with `prefix` (for range ends).
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return end;
        }
    }
    vec![u8::MAX; prefix.len() + 1]
}

/// Splits a ready key into (route, priority, sequence).
pub fn parse_ready(key: &[u8]) -> Option<(String, u8, u64)> {
    let rest = key.strip_prefix(READY)?;
    let nul = rest.iter().position(|b| *b == 0)?;
    let route = std::str::from_utf8(&rest[..nul]).ok()?.to_string();
    let tail = &rest[nul + 1..];
    if tail.len() != 9 {
        return None;
    }
    let mut seq = [0u8; 8];
    seq.copy_from_slice(&tail[1..]);
    Some((route, tail[0], u64::from_be_bytes(seq)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_keys_sort_by_route_then_priority_then_sequence() {
        let mut keys = [
            ready("b", 0, 1),
            ready("a", 2, 1),
            ready("a", 0, 300),
            ready("a", 0, 2),
            ready("ab", 0, 0),
        ];
        keys.sort();
        let parsed: Vec<_> = keys.iter().map(|k| parse_ready(k).unwrap()).collect();
        assert_eq!(
            parsed,
            vec![
                ("a".into(), 0, 2),
                ("a".into(), 0, 300),
                ("a".into(), 2, 1),
                ("ab".into(), 0, 0),
                ("b".into(), 0, 1),
            ]
        );
        // Every queue of route `a` sorts before any queue of route `ab`.
        assert!(ready("a", 3, u64::MAX) < ready("ab", 0, 0));
    }

    #[test]
    fn carrier_ids_of_two_carriers_never_share_a_key() {
        assert_ne!(carrier_id("cmcc", "1"), carrier_id("cucc", "1"));
    }

    #[test]
    fn prefix_end_is_past_every_key_with_the_prefix() {
        assert_eq!(prefix_end(b"q/"), b"q0".to_vec());
        assert!(ready("x", 0, u64::MAX) < prefix_end(&ready_queue("x", 0)));
        assert!(ready("x", 1, 0) >= prefix_end(&ready_queue("x", 0)));
    }
}
