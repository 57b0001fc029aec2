//! An application's submit, whatever protocol it came in: one recipient,
//! its text decoded, priority and report flag, sent through the shared
//! send path ([`crate::api::messages::prepare`] and `commit`: routes,
//! limits, balance, content, opt-outs; the submits of a session that
//! arrive together share one commit, see [`Batcher`]). Long messages arriving in segments (UDH,
//! SMPP `sar_*` TLVs) are put back together by [`Assembler`] first and
//! sent as ONE message; each segment is answered with that message's id
//! once it is committed.
//!
//! A submit the content rules hold for review is kept as a held job
//! ([`super::held`]) and answered with success. A submit to several
//! destinations (CMPP) is one message each, answered with the first one's
//! id, which is written into every one's envelope as `submit_id` so that
//! their reports carry it ([`submit_id_of`]).
//!
//! It never answers before the commit, and never decides a protocol's
//! status code except through [`Refusal`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use smsgw_config::Priority;
use smsgw_protocols::text::{self, Encoding};
use smsgw_state::MtPart;
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};

use super::session::{Dialect, Fail};
use crate::api::messages::{self, Committed, Prepared};
use crate::api::state::AppState;
use crate::api::submit::SendRequest;
use crate::api::ApiError;

/// One message as an application submitted it, decoded.
#[derive(Debug, Clone)]
pub struct AppSubmit {
    /// One destination, or several (CMPP `DestUsr_tl`): one message each,
    /// answered with the first one's id.
    pub to: Vec<String>,
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

/// Most submits of one session committed in one `AcceptBatch`.
pub const MAX_BATCH: usize = 256;
/// Batches of one session being committed at once.
const BATCHES_IN_FLIGHT: usize = 4;

struct Job<D: Dialect> {
    submit: AppSubmit,
    started: Instant,
    /// What answers it (every segment of a long message).
    waiting: Vec<D::Tag>,
    /// Its place in the session's window, given back once answered.
    permit: OwnedSemaphorePermit,
}

/// One session's submits on their way to the commit: what arrived while a
/// batch was being committed goes together in the next one (the shared
/// [`messages::prepare`] per submit, ONE [`messages::commit`] per batch),
/// so a full window costs a few raft entries, not one per message. The
/// batch answers its submits itself, through the session's writer (no task
/// and no channel per submit). Ends when the session drops it.
pub struct Batcher<D: Dialect> {
    tx: mpsc::Sender<Job<D>>,
}

/// Where a session's answers go.
struct Answers<D: Dialect> {
    account: String,
    dialect: D,
    out: mpsc::Sender<D::Pdu>,
}

impl<D: Dialect> Batcher<D> {
    /// Starts the batcher of `account`'s session, answering on `out`.
    pub fn spawn(state: AppState, account: String, dialect: D, out: mpsc::Sender<D::Pdu>) -> Batcher<D> {
        let (tx, rx) = mpsc::channel(MAX_BATCH);
        let answers = Arc::new(Answers {
            account,
            dialect,
            out,
        });
        tokio::spawn(run(state, answers, rx));
        Batcher { tx }
    }

    /// Queues `s` (answered on each of `waiting` after its commit, then
    /// `permit` given back); `false` when the batcher has ended.
    pub async fn submit(&self, s: AppSubmit, waiting: Vec<D::Tag>, permit: OwnedSemaphorePermit) -> bool {
        let job = Job {
            submit: s,
            started: Instant::now(),
            waiting,
            permit,
        };
        self.tx.send(job).await.is_ok()
    }
}

async fn run<D: Dialect>(state: AppState, answers: Arc<Answers<D>>, mut rx: mpsc::Receiver<Job<D>>) {
    let slots = Arc::new(Semaphore::new(BATCHES_IN_FLIGHT));
    while let Some(first) = rx.recv().await {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        let (state, answers) = (state.clone(), answers.clone());
        tokio::spawn(async move {
            let mut done = Vec::with_capacity(jobs.len());
            batch(&state, &answers.account, jobs, &mut done).await;
            answers.finish(done).await;
            drop(slot);
        });
    }
}

impl<D: Dialect> Answers<D> {
    /// Answers every submit of a batch and counts them (one counter update
    /// per outcome and batch, not per submit).
    async fn finish(&self, done: Vec<(Job<D>, Result<String, Refusal>)>) {
        let seconds = metrics::histogram!("smsgw_app_submit_seconds");
        let mut counts: Vec<(&'static str, u64)> = Vec::new();
        for (job, result) in done {
            let label = match &result {
                Ok(_) => "accepted",
                Err(r) => r.label(),
            };
            match counts.iter_mut().find(|(l, _)| *l == label) {
                Some((_, n)) => *n += 1,
                None => counts.push((label, 1)),
            }
            seconds.record(job.started.elapsed().as_secs_f64());
            let r = result.map_err(Fail::Refused);
            for t in &job.waiting {
                let _ = self.out.send(self.dialect.answer(t, r.as_deref())).await;
            }
            drop(job.permit);
        }
        for (label, n) in counts {
            metrics::counter!("smsgw_app_submits_total", "account" => self.account.clone(), "result" => label)
                .increment(n);
        }
    }
}

type Done<D> = Vec<(Job<D>, Result<String, Refusal>)>;

fn fail_all<D: Dialect>(done: &mut Done<D>, jobs: Vec<Job<D>>, r: Refusal) {
    done.extend(jobs.into_iter().map(|j| (j, Err(r.clone()))));
}

async fn batch<D: Dialect>(state: &AppState, account: &str, jobs: Vec<Job<D>>, done: &mut Done<D>) {
    let Ok(loaded) = state.config() else {
        return fail_all(done, jobs, Refusal::System);
    };
    // The account as the document says now (a login outlives a document change).
    let Some(acct) = loaded.doc.accounts.iter().find(|a| a.name == account).cloned() else {
        return fail_all(done, jobs, Refusal::Refused);
    };
    if let Err(e) = crate::api::billing::check_open(&smsgw_state::local_view(&state.cluster), &acct) {
        return fail_all(done, jobs, Refusal::of(&e));
    }
    let mut ready = Vec::new();
    let mut waiting = Vec::new();
    for j in jobs {
        let s = j.submit.clone();
        let several = s.to.len() > 1;
        let req = SendRequest {
            to: s.to,
            text: s.text,
            priority: Some(s.priority.name().to_string()),
            sender: s.sender,
            client_ref: None,
            report: Some(s.report),
        };
        match messages::prepare(state, &loaded, &acct, req) {
            // Every recipient opted out.
            Ok(Prepared::Ready(r)) if r.answers.is_empty() => done.push((j, Err(Refusal::Refused))),
            Ok(Prepared::Ready(mut r)) => {
                if several {
                    stamp_submit_id(&mut r);
                }
                ready.push(r);
                waiting.push(j);
            }
            // Held for review as a job, like an HTTP send (rare: one at a time).
            Ok(Prepared::Held) => {
                let r = super::held::hold(state, &loaded, &acct, &j.submit).await;
                if let Err(e) = &r {
                    tracing::info!(account, error = %e.message(), "an application's held submit was refused");
                }
                done.push((j, r.map_err(|e| Refusal::of(&e))));
            }
            Err(e) => done.push((j, Err(Refusal::of(&e)))),
        }
    }
    // Merged into as few entries as fit the entry bound (usually one).
    for (ready, waiting) in messages::bounded_runs(ready, waiting) {
        match messages::commit(state, &acct, ready).await {
            Ok(Committed::Accepted(answers)) => {
                for (j, a) in waiting.into_iter().zip(answers) {
                    let id = a.into_iter().next().map(|a| a.id).ok_or(Refusal::System);
                    done.push((j, id));
                }
            }
            // No idempotency key is ever given: a replay cannot happen.
            Ok(Committed::Replayed(_)) => fail_all(done, waiting, Refusal::System),
            Err(e) => fail_all(done, waiting, Refusal::of(&e)),
        }
    }
}

/// The envelope field naming the submit a message came in with, when
/// that submit had several destinations (their reports carry its id).
const SUBMIT_ID: &str = "submit_id";

/// Writes the first message's id into every message's envelope of a
/// submit to several destinations.
fn stamp_submit_id(r: &mut messages::Ready) {
    let Some(first) = r.answers.first().map(|a| a.id.clone()) else {
        return;
    };
    stamp(r.parts_mut(), &first);
}

/// Writes `id` as the submit id into the envelopes (`M.0`) among `parts`.
pub fn stamp(parts: &mut [MtPart], id: &str) {
    for p in parts.iter_mut().filter(|p| p.id.ends_with(".0")) {
        let Ok(mut env) = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&p.payload)
        else {
            continue;
        };
        env.insert(SUBMIT_ID.into(), serde_json::Value::String(id.to_string()));
        if let Ok(b) = serde_json::to_vec(&env) {
            p.payload = b;
        }
    }
}

/// The id of the submit `message` came in with, when that submit had
/// several destinations and `message` is not its first (a point read of
/// the message's envelope, never a scan).
pub fn submit_id_of(state: &AppState, message: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Stamp {
        #[serde(default)]
        submit_id: Option<String>,
    }
    let view = smsgw_state::local_view(&state.cluster);
    let rec = view.part(&format!("{message}.0")).ok()??;
    let stamp: Stamp = serde_json::from_slice(&rec.part.payload).ok()?;
    stamp.submit_id.filter(|id| id != message)
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
