//! The simulator's record of what it received and what it sent back: the
//! ground truth tests, benchmarks and drills count losses and duplicates
//! against.
//!
//! Counts are exact and kept for everything; the detailed submit records are
//! kept up to a bound (`max_records`) so a long load run cannot exhaust
//! memory. Nothing here touches the network.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde::Serialize;
use smsgw_protocols::report::ReportState;
use smsgw_protocols::udh::{Concat, ConcatStyle};

use crate::config::Protocol;

/// One submit as the carrier saw it.
#[derive(Debug, Clone, Serialize)]
pub struct SubmitRecord {
    /// Order of arrival across the whole simulator, from 1.
    pub n: u64,
    pub protocol: Protocol,
    pub account: String,
    pub source: String,
    pub destination: String,
    /// The id this carrier gave the submit (canonical display form).
    pub carrier_msg_id: String,
    /// The decoded text of this part (without the UDH); binary as hex.
    pub text: String,
    pub concat: Option<Concat>,
    /// The content's code as received (`data_coding` / `Msg_Fmt`).
    pub coding: u8,
    /// How a long part was numbered: a UDH with IE 0x00 or 0x08, or SMPP
    /// `sar_*` TLVs.
    pub numbering: Option<ConcatStyle>,
    /// A reference the client put on the submit where the protocol has room
    /// for one (SMPP user_message_reference, CMPP 3.0 LinkID, SMGP LinkID).
    pub client_ref: Option<String>,
    pub report_requested: bool,
    /// The charging fields as received: CMPP `FeeType/FeeCode`, SMGP
    /// `FeeType/FeeCode/FixedFee`, SGIP
    /// `FeeType/FeeValue/GivenValue/ChargeNumber/CorpId/ServiceType`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee: Option<String>,
    pub at_ms: i64,
    /// The simulator's number for the connection it came on (from 1, in
    /// order of connection).
    pub conn: u64,
    /// The client's address on that connection (`ip:port`): who sent it.
    /// Drills give every node its own loopback address, so this names the
    /// node that submitted the part.
    pub peer: Option<String>,
}

/// The whole messages among `records` (say, one destination's), in order
/// of first arrival: the parts of a long message (same account, reference
/// and total) joined by their numbers, a part without numbering alone. A
/// long message with a part missing (or twice) is left out, so a test
/// comparing texts sees it.
pub fn reassemble(records: &[SubmitRecord]) -> Vec<String> {
    /// Account, reference, total.
    type Key<'a> = (&'a str, u16, u8);
    /// The arrival number of its first part, and its parts (number, text).
    type Parts<'a> = (u64, Vec<(u8, &'a str)>);
    let mut long: HashMap<Key<'_>, Parts<'_>> = HashMap::new();
    let mut out: Vec<(u64, String)> = Vec::new();
    for r in records {
        match r.concat {
            None => out.push((r.n, r.text.clone())),
            Some(c) => {
                let e = long
                    .entry((r.account.as_str(), c.reference, c.total))
                    .or_insert((r.n, Vec::new()));
                e.0 = e.0.min(r.n);
                e.1.push((c.seq, &r.text));
            }
        }
    }
    for ((_, _, total), (first, mut parts)) in long {
        parts.sort_by_key(|(seq, _)| *seq);
        let numbers_ok = parts.iter().zip(1..).all(|((seq, _), want)| *seq == want);
        if parts.len() == usize::from(total) && numbers_ok {
            out.push((first, parts.iter().map(|(_, t)| *t).collect()));
        }
    }
    out.sort_by_key(|(n, _)| *n);
    out.into_iter().map(|(_, t)| t).collect()
}

/// Event counters, exposed by the control API and as Prometheus text.
#[derive(Debug, Default)]
pub struct Counters {
    pub connections: AtomicU64,
    pub logins_ok: AtomicU64,
    pub logins_refused: AtomicU64,
    pub submits: AtomicU64,
    pub throttled: AtomicU64,
    pub window_rejected: AtomicU64,
    pub bad_pdus: AtomicU64,
    pub mo_sent: AtomicU64,
    pub reports_pending: AtomicU64,
    pub idle_closed: AtomicU64,
    pub faults_dropped: AtomicU64,
    /// Reports and MOs re-delivered because their link closed unanswered.
    pub redelivered: AtomicU64,
}

#[derive(Default)]
struct Inner {
    records: VecDeque<SubmitRecord>,
    by_account: BTreeMap<(Protocol, String), u64>,
    by_destination: HashMap<String, u64>,
    reports: BTreeMap<(Protocol, ReportState), u64>,
    logins: BTreeMap<(Protocol, String), u64>,
}

/// Shared, thread-safe record.
pub struct Ledger {
    max_records: usize,
    next_n: AtomicU64,
    pub counters: Counters,
    inner: Mutex<Inner>,
}

/// A summary of all counts (the control API's `GET /counts`).
#[derive(Debug, Clone, Serialize)]
pub struct Counts {
    pub submits: u64,
    pub throttled: u64,
    pub window_rejected: u64,
    pub bad_pdus: u64,
    pub connections: u64,
    pub logins_ok: u64,
    pub logins_refused: u64,
    pub mo_sent: u64,
    pub idle_closed: u64,
    pub faults_dropped: u64,
    pub reports_pending: u64,
    pub redelivered: u64,
    pub by_account: Vec<AccountCount>,
    pub reports: Vec<ReportCount>,
    pub logins: Vec<AccountCount>,
    pub distinct_destinations: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct AccountCount {
    pub protocol: Protocol,
    pub account: String,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportCount {
    pub protocol: Protocol,
    pub state: ReportState,
    pub count: u64,
}

/// Which records a query wants.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct Filter {
    pub protocol: Option<Protocol>,
    pub account: Option<String>,
    pub destination: Option<String>,
    pub client_ref: Option<String>,
    /// Only records after this arrival number.
    pub after: Option<u64>,
    pub limit: Option<usize>,
}

impl Ledger {
    pub fn new(max_records: usize) -> Ledger {
        Ledger {
            max_records,
            next_n: AtomicU64::new(1),
            counters: Counters::default(),
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic elsewhere must not make the record unreadable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records one accepted submit; `n` is filled in here.
    pub fn record_submit(&self, mut rec: SubmitRecord) {
        rec.n = self.next_n.fetch_add(1, Ordering::Relaxed);
        self.counters.submits.fetch_add(1, Ordering::Relaxed);
        let mut g = self.lock();
        *g.by_account
            .entry((rec.protocol, rec.account.clone()))
            .or_default() += 1;
        *g.by_destination.entry(rec.destination.clone()).or_default() += 1;
        if self.max_records > 0 {
            if g.records.len() >= self.max_records {
                g.records.pop_front();
            }
            g.records.push_back(rec);
        }
    }

    pub fn record_report(&self, protocol: Protocol, state: ReportState) {
        *self.lock().reports.entry((protocol, state)).or_default() += 1;
    }

    pub fn record_login(&self, protocol: Protocol, account: &str, ok: bool) {
        if ok {
            self.counters.logins_ok.fetch_add(1, Ordering::Relaxed);
            *self
                .lock()
                .logins
                .entry((protocol, account.to_string()))
                .or_default() += 1;
        } else {
            self.counters.logins_refused.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn bump(&self, counter: fn(&Counters) -> &AtomicU64) {
        counter(&self.counters).fetch_add(1, Ordering::Relaxed);
    }

    pub fn submits(&self, f: &Filter) -> Vec<SubmitRecord> {
        let g = self.lock();
        let limit = f.limit.unwrap_or(1000);
        g.records
            .iter()
            .filter(|r| f.protocol.is_none_or(|p| p == r.protocol))
            .filter(|r| f.account.as_deref().is_none_or(|a| a == r.account))
            .filter(|r| f.destination.as_deref().is_none_or(|d| d == r.destination))
            .filter(|r| f.client_ref.is_none() || f.client_ref == r.client_ref)
            .filter(|r| f.after.is_none_or(|a| r.n > a))
            .take(limit)
            .cloned()
            .collect()
    }

    pub fn counts(&self) -> Counts {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let g = self.lock();
        let acc = |m: &BTreeMap<(Protocol, String), u64>| {
            m.iter()
                .map(|((p, a), n)| AccountCount {
                    protocol: *p,
                    account: a.clone(),
                    count: *n,
                })
                .collect()
        };
        Counts {
            submits: get(&c.submits),
            throttled: get(&c.throttled),
            window_rejected: get(&c.window_rejected),
            bad_pdus: get(&c.bad_pdus),
            connections: get(&c.connections),
            logins_ok: get(&c.logins_ok),
            logins_refused: get(&c.logins_refused),
            mo_sent: get(&c.mo_sent),
            idle_closed: get(&c.idle_closed),
            faults_dropped: get(&c.faults_dropped),
            reports_pending: get(&c.reports_pending),
            redelivered: get(&c.redelivered),
            by_account: acc(&g.by_account),
            logins: acc(&g.logins),
            reports: g
                .reports
                .iter()
                .map(|((p, s), n)| ReportCount {
                    protocol: *p,
                    state: *s,
                    count: *n,
                })
                .collect(),
            distinct_destinations: g.by_destination.len(),
        }
    }

    /// How many submits went to one number.
    pub fn count_for_destination(&self, destination: &str) -> u64 {
        self.lock().by_destination.get(destination).copied().unwrap_or(0)
    }

    /// Forgets everything (the control API's `POST /reset`).
    pub fn reset(&self) {
        *self.lock() = Inner::default();
        let c = &self.counters;
        for a in [
            &c.connections,
            &c.logins_ok,
            &c.logins_refused,
            &c.submits,
            &c.throttled,
            &c.window_rejected,
            &c.bad_pdus,
            &c.mo_sent,
            &c.idle_closed,
            &c.faults_dropped,
            &c.redelivered,
        ] {
            a.store(0, Ordering::Relaxed);
        }
    }

    /// Prometheus text exposition of the counters.
    pub fn prometheus(&self) -> String {
        use std::fmt::Write;
        let counts = self.counts();
        let mut out = String::new();
        let mut counter = |name: &str, help: &str, v: u64| {
            let _ = writeln!(
                out,
                "# HELP smsgw_sim_{name} {help}\n# TYPE smsgw_sim_{name} counter"
            );
            let _ = writeln!(out, "smsgw_sim_{name} {v}");
        };
        counter(
            "throttled_total",
            "Submits refused by the TPS ceiling.",
            counts.throttled,
        );
        counter(
            "window_rejected_total",
            "Submits refused because the window was full.",
            counts.window_rejected,
        );
        counter(
            "bad_pdus_total",
            "Frames that could not be decoded.",
            counts.bad_pdus,
        );
        counter("connections_total", "Connections accepted.", counts.connections);
        counter("logins_refused_total", "Logins refused.", counts.logins_refused);
        counter("mo_sent_total", "MO parts sent to clients.", counts.mo_sent);
        counter(
            "redelivered_total",
            "Reports and MOs sent again because their link closed unacknowledged.",
            counts.redelivered,
        );
        let _ = writeln!(
            out,
            "# HELP smsgw_sim_submits_total Submits accepted.\n# TYPE smsgw_sim_submits_total counter"
        );
        for a in &counts.by_account {
            let _ = writeln!(
                out,
                "smsgw_sim_submits_total{{protocol=\"{}\",account=\"{}\"}} {}",
                a.protocol, a.account, a.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP smsgw_sim_reports_sent_total Delivery reports sent.\n# TYPE smsgw_sim_reports_sent_total counter"
        );
        for r in &counts.reports {
            let _ = writeln!(
                out,
                "smsgw_sim_reports_sent_total{{protocol=\"{}\",state=\"{}\"}} {}",
                r.protocol,
                r.state.stat(),
                r.count
            );
        }
        out
    }
}
