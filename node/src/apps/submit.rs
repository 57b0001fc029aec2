//! An application's submit, whatever protocol it came in: one recipient,
//! its text decoded, priority and report flag, sent through the one shared
//! send path ([`crate::api::messages::send`]: routes, limits, balance,
//! content, opt-outs, one commit). Long messages arriving in segments (UDH,
//! SMPP `sar_*` TLVs) are put back together by [`Assembler`] first and
//! sent as ONE message; each segment is answered with that message's id
//! once it is committed.
//!
//! It never answers before the commit, and never decides a protocol's
//! status code except through [`Refusal`].

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use smsgw_config::Priority;
use smsgw_protocols::text::{self, Encoding};

use crate::api::messages::{self, Posted};
use crate::api::state::AppState;
use crate::api::submit::SendRequest;
use crate::api::ApiError;

/// One message as an application submitted it, decoded.
#[derive(Debug, Clone)]
pub struct AppSubmit {
    pub to: String,
    pub text: String,
    /// Digits appended to the carrier's SP number (the submit's source
    /// address when it is 1 to 12 digits).
    pub sender: Option<String>,
    pub priority: Priority,
    pub report: bool,
}

/// Why a submit was not accepted, in terms each protocol maps to its code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Over a rate or daily limit: retry later.
    Throttled,
    /// Text empty, too long, or not decodable.
    Length,
    /// Bad or unroutable destination.
    Destination,
    /// The account may not use this priority.
    Priority,
    /// Refused for the account's sake (balance, frozen, content, opt-out, review).
    Refused,
    /// The cluster cannot take it now (no quorum, storage, internal).
    System,
}

impl Refusal {
    fn of(e: &ApiError) -> Refusal {
        match e.code() {
            "rate_limited" | "overloaded" => Refusal::Throttled,
            "text_too_long" | "too_many_parts" | "empty_text" => Refusal::Length,
            "invalid_number" | "no_route" | "no_recipients" | "sender_too_long" | "invalid_sender" => {
                Refusal::Destination
            }
            "priority_not_allowed" | "unknown_priority" => Refusal::Priority,
            "insufficient_balance"
            | "account_frozen"
            | "account_closed"
            | "content_rejected"
            | "forbidden" => Refusal::Refused,
            _ => Refusal::System,
        }
    }

    /// Label for `smsgw_app_submits_total{result}`.
    pub fn label(&self) -> &'static str {
        match self {
            Refusal::Throttled => "throttled",
            Refusal::Length => "bad_length",
            Refusal::Destination => "bad_destination",
            Refusal::Priority => "bad_priority",
            Refusal::Refused => "refused",
            Refusal::System => "system_error",
        }
    }
}

/// Sends `s` for `account`; our message id once committed.
pub async fn send(state: &AppState, account: &str, s: AppSubmit) -> Result<String, Refusal> {
    let started = Instant::now();
    let result = send_inner(state, account, s).await;
    let label = match &result {
        Ok(_) => "accepted",
        Err(r) => r.label(),
    };
    metrics::counter!("smsgw_app_submits_total", "account" => account.to_string(), "result" => label)
        .increment(1);
    metrics::histogram!("smsgw_app_submit_seconds").record(started.elapsed().as_secs_f64());
    result
}

async fn send_inner(state: &AppState, account: &str, s: AppSubmit) -> Result<String, Refusal> {
    let loaded = state.config().map_err(|_| Refusal::System)?;
    // The account as the document says now (a login outlives a document change).
    let Some(acct) = loaded.doc.accounts.iter().find(|a| a.name == account).cloned() else {
        return Err(Refusal::Refused);
    };
    crate::api::billing::check_open(&smsgw_state::local_view(&state.cluster), &acct)
        .map_err(|e| Refusal::of(&e))?;
    let req = SendRequest {
        to: vec![s.to],
        text: s.text,
        priority: Some(s.priority.name().to_string()),
        sender: s.sender,
        client_ref: None,
        report: Some(s.report),
    };
    match messages::send(state, &loaded, &acct, req, Vec::new()).await {
        Ok(Posted::Sent { answers, .. }) => match answers.into_iter().next() {
            Some(a) => Ok(a.id),
            // The recipient opted out.
            None => Err(Refusal::Refused),
        },
        // Review holds are for HTTP jobs; an app is told no at once.
        Ok(Posted::Held) => Err(Refusal::Refused),
        Err(e) => Err(Refusal::of(&e)),
    }
}

/// The sender extension a source address gives (1 to 12 digits), if any.
pub fn sender_of(source: &str) -> Option<String> {
    let ok = (1..=12).contains(&source.len()) && source.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| source.to_string())
}

/// Decodes content by its coding; `None` when it is not valid in it.
pub fn decode(content: &[u8], encoding: Option<Encoding>) -> Option<String> {
    text::decode(content, encoding?).ok()
}

/// Content without its UDH (when `udhi`), and the concatenation it names.
pub fn strip_udh(content: &Bytes, udhi: bool) -> (Bytes, Option<smsgw_protocols::udh::Concat>) {
    if !udhi {
        return (content.clone(), None);
    }
    let concat = smsgw_protocols::udh::concat_in(content);
    let skip = content
        .first()
        .map_or(0, |l| usize::from(*l) + 1)
        .min(content.len());
    (content.slice(skip..), concat)
}

/// How long the segments of one long message may take to arrive.
pub const ASSEMBLY_WAIT: Duration = Duration::from_secs(60);
/// Most long messages being put together in one session.
pub const MAX_ASSEMBLING: usize = 256;

/// Identifies a long message within a session.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LongKey {
    pub to: String,
    pub from: String,
    pub reference: u16,
}

struct Partial<T> {
    total: u8,
    parts: Vec<Option<Bytes>>,
    waiting: Vec<T>,
    started: Instant,
}

/// Segments of long messages, per session; `T` is what answers a segment.
pub struct Assembler<T> {
    open: HashMap<LongKey, Partial<T>>,
}

/// What a pushed segment came to.
pub enum Pushed<T> {
    /// All parts are in: the content in order, and every segment's answer.
    Complete(Bytes, Vec<T>),
    /// Waiting for more.
    Waiting,
    /// Refused (bad numbering or too many open): answer this one now.
    Refused(T),
}

impl<T> Default for Assembler<T> {
    fn default() -> Self {
        Self { open: HashMap::new() }
    }
}

impl<T> Assembler<T> {
    /// Adds segment `seq` of `total`.
    pub fn push(&mut self, key: LongKey, total: u8, seq: u8, content: Bytes, answer: T) -> Pushed<T> {
        if total == 0 || seq == 0 || seq > total || usize::from(total) > crate::api::submit::MAX_PARTS {
            return Pushed::Refused(answer);
        }
        if !self.open.contains_key(&key) && self.open.len() >= MAX_ASSEMBLING {
            return Pushed::Refused(answer);
        }
        let p = self.open.entry(key.clone()).or_insert_with(|| Partial {
            total,
            parts: vec![None; usize::from(total)],
            waiting: Vec::new(),
            started: Instant::now(),
        });
        if p.total != total {
            return Pushed::Refused(answer);
        }
        p.parts[usize::from(seq - 1)] = Some(content);
        p.waiting.push(answer);
        if p.parts.iter().any(Option::is_none) {
            return Pushed::Waiting;
        }
        let Some(p) = self.open.remove(&key) else {
            return Pushed::Waiting;
        };
        let mut all = Vec::new();
        for c in p.parts.into_iter().flatten() {
            all.extend_from_slice(&c);
        }
        Pushed::Complete(Bytes::from(all), p.waiting)
    }

    /// The answers of long messages that did not complete in time.
    pub fn expire(&mut self, now: Instant) -> Vec<T> {
        let old: Vec<LongKey> = self
            .open
            .iter()
            .filter(|(_, p)| now.duration_since(p.started) > ASSEMBLY_WAIT)
            .map(|(k, _)| k.clone())
            .collect();
        old.into_iter()
            .filter_map(|k| self.open.remove(&k))
            .flat_map(|p| p.waiting)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(r: u16) -> LongKey {
        LongKey {
            to: "1".into(),
            from: "2".into(),
            reference: r,
        }
    }

    #[test]
    fn segments_in_any_order_make_one_message() {
        let mut a: Assembler<u32> = Assembler::default();
        assert!(matches!(
            a.push(key(7), 3, 3, Bytes::from_static(b"c"), 3),
            Pushed::Waiting
        ));
        assert!(matches!(
            a.push(key(8), 2, 1, Bytes::from_static(b"x"), 9),
            Pushed::Waiting
        ));
        assert!(matches!(
            a.push(key(7), 3, 1, Bytes::from_static(b"a"), 1),
            Pushed::Waiting
        ));
        match a.push(key(7), 3, 2, Bytes::from_static(b"b"), 2) {
            Pushed::Complete(c, w) => {
                assert_eq!(&c[..], b"abc");
                assert_eq!(w, vec![3, 1, 2]);
            }
            _ => panic!("not complete"),
        }
        assert!(matches!(
            a.push(key(9), 2, 3, Bytes::new(), 5),
            Pushed::Refused(5)
        ));
        assert!(a.expire(Instant::now()).is_empty());
        assert_eq!(a.expire(Instant::now() + ASSEMBLY_WAIT * 2), vec![9]);
    }

    #[test]
    fn udh_is_taken_off_and_read() {
        let c = Bytes::from_static(&[5, 0, 3, 42, 2, 1, b'h', b'i']);
        let (rest, concat) = strip_udh(&c, true);
        assert_eq!(&rest[..], b"hi");
        let concat = concat.unwrap();
        assert_eq!((concat.reference, concat.total, concat.seq), (42, 2, 1));
        assert_eq!(sender_of("123"), Some("123".into()));
        assert_eq!(sender_of("abc"), None);
    }
}
