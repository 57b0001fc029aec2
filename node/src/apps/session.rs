//! The one session loop of an application connection, whatever its
//! protocol (after the protocol's own bind/CONNECT): a reader that turns
//! each PDU into a [`Request`] through the protocol's [`Dialect`] (the
//! decode half), one writer task that feeds the socket and flushes once per
//! burst, the window of unanswered submits, the account's rate, long
//! message assembly, the commit through [`super::submit::Batcher`], the
//! deliveries of the account's events ([`super::outbound`]), the idle
//! timeout and the end of the session. The protocol only encodes answers
//! and deliveries (the encode half), like tokio-util's codec split.
//!
//! It never answers a submit before its commit, never delivers another
//! account's event, and never blocks the reader on a commit.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::{SinkExt, StreamExt};
use smsgw_config::Priority;
use smsgw_protocols::framing::{BadPdu, FrameCodec, Wire};
use smsgw_protocols::text::Encoding;
use smsgw_protocols::udh::Concat;
use smsgw_state::events::{Event, EventKind};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Semaphore};
use tokio_util::codec::Framed;

use super::hub::{Outbound, RECEIVER_QUEUE};
use super::submit::{self, AppSubmit, Assembler, LongKey, Pushed, Refusal};
use crate::api::state::AppState;

/// Most submits of one session waiting for their answer.
pub const WINDOW: usize = 256;
/// How long a new connection may take to bind.
pub const BIND_WAIT: Duration = Duration::from_secs(10);
/// A session that sends nothing for this long is closed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// How often long messages that never completed are answered as failed.
const EXPIRY_TICK: Duration = Duration::from_secs(5);

/// Why a submit is answered with a failure, for the protocol to put in its
/// own status code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fail {
    /// The shared send path refused it.
    Refused(Refusal),
    /// The session's window is full.
    WindowFull,
    /// Its content does not decode in its coding.
    BadCoding,
    /// A segment that does not fit the long message it names (or too many
    /// long messages open).
    BadSegment,
    /// The other segments of its long message never came.
    Incomplete,
}

/// One submit as the protocol decoded it (not yet reassembled or decoded
/// to text).
pub struct Incoming<T> {
    /// What answers it (the protocol's sequence number and kind of answer).
    pub tag: T,
    /// Its destinations (one, except CMPP's `DestUsr_tl` up to 100).
    pub to: Vec<String>,
    /// The source address as given (part of a long message's key).
    pub from: String,
    /// The content without its UDH.
    pub content: Bytes,
    /// The long message this is a segment of.
    pub concat: Option<Concat>,
    /// The content's coding (`None`: unknown).
    pub encoding: Option<Encoding>,
    pub sender: Option<String>,
    pub priority: Priority,
    pub report: bool,
}

/// What one PDU from the application asks of the session.
pub enum Request<P, T> {
    /// A message to send.
    Submit(Incoming<T>),
    /// The application answered our delivery `seq`.
    Delivered { seq: u32, ok: bool },
    /// Answer with this at once.
    Reply(P),
    /// Answer with what the future gives (a lookup in the replicated state).
    Later(BoxFuture<'static, Option<P>>),
    /// Answer (if anything) and end the session.
    Close(Option<P>),
    /// Nothing to do.
    Ignore,
}

/// What the session knows of itself, for the dialect's answers.
#[derive(Clone)]
pub struct Ctx {
    pub state: AppState,
    pub account: String,
}

/// One protocol's side of a session: decode a PDU into a [`Request`],
/// encode answers and deliveries. Cheap to clone (the delivery task keeps
/// a copy).
pub trait Dialect: Clone + Send + Sync + 'static {
    /// The wire protocol (SMPP or CMPP).
    type Wire: Wire<Pdu = Self::Pdu, Header = Self::Header, Options = Self::Options> + Send + 'static;
    type Pdu: Send + 'static;
    type Header: Send + 'static;
    type Options: Clone + Default + Send + Unpin + 'static;
    /// What answers one submit (sequence number and kind).
    type Tag: Clone + Send + Sync + 'static;

    /// `smpp` or `cmpp`, for logs.
    const NAME: &'static str;

    /// What `pdu` asks for.
    fn request(&self, ctx: &Ctx, pdu: Self::Pdu) -> Request<Self::Pdu, Self::Tag>;
    /// The answer to a frame that did not decode, if it gets one.
    fn bad(&self, bad: BadPdu<Self::Header>) -> Option<Self::Pdu>;
    /// The answer to a submit: our message id, or why not.
    fn answer(&self, tag: &Self::Tag, r: Result<&str, &Fail>) -> Self::Pdu;
    /// The delivery of `e` as sequence `seq`, a report carrying
    /// `submit_id` (the id the application was answered with) when it is
    /// not the message's own; `None` when the protocol cannot carry it.
    fn deliver(&self, seq: u32, e: &Event, submit_id: Option<&str>) -> Option<Self::Pdu>;
}

/// How the session was bound.
pub struct Bound {
    pub account: String,
    pub peer: SocketAddr,
    /// For `GET /v1/admin/sessions`: SMPP's bind kind, CMPP's version.
    pub mode: String,
    /// Whether the account's events are delivered on this session.
    pub receives: bool,
}

/// Runs a bound session until it ends.
pub async fn run<D: Dialect>(
    state: AppState,
    framed: Framed<TcpStream, FrameCodec<D::Wire>>,
    dialect: D,
    bound: Bound,
) {
    let Bound {
        account,
        peer,
        mode,
        receives,
    } = bound;
    let ctx = Ctx {
        state: state.clone(),
        account: account.clone(),
    };
    let (mut sink, mut frames) = framed.split();
    let (out_tx, mut out_rx) = mpsc::channel::<D::Pdu>(WINDOW + super::outbound::DELIVER_WINDOW + 16);
    let writer = tokio::spawn(async move {
        while let Some(p) = out_rx.recv().await {
            if sink.feed(p).await.is_err() {
                return;
            }
            // Write out what is queued, then flush once.
            while let Ok(p) = out_rx.try_recv() {
                if sink.feed(p).await.is_err() {
                    return;
                }
            }
            if sink.flush().await.is_err() {
                return;
            }
        }
    });
    let (ev_tx, ev_rx) = mpsc::channel::<Outbound>(RECEIVER_QUEUE);
    let reg = state
        .apps
        .register(&account, D::NAME, mode, peer, receives.then_some(ev_tx));
    let pending = super::outbound::Pending::new(reg.delivered.clone());
    let deliverer = receives.then(|| {
        let (d, ctx) = (dialect.clone(), ctx.clone());
        let seq = AtomicU32::new(1);
        tokio::spawn(super::outbound::deliver_loop(
            ev_rx,
            out_tx.clone(),
            pending.clone(),
            move |e: &Event| {
                // Our own sequence numbers, apart from the application's.
                let n = seq.fetch_add(1, Ordering::Relaxed) | 0x4000_0000;
                let submit_id = match &e.kind {
                    EventKind::Report { message, .. } => super::submit::submit_id_of(&ctx.state, message),
                    EventKind::Mo { .. } => None,
                };
                Some((n, d.deliver(n, e, submit_id.as_deref())?))
            },
        ))
    });
    let window = Arc::new(Semaphore::new(WINDOW));
    let batcher = submit::Batcher::spawn(state.clone(), account.clone(), dialect.clone(), out_tx.clone());
    let mut long: Assembler<D::Tag> = Assembler::default();
    let mut expiry = tokio::time::interval(EXPIRY_TICK);
    let mut last_read = Instant::now();
    loop {
        let item = tokio::select! {
            item = frames.next() => item,
            _ = expiry.tick() => {
                for t in long.expire(Instant::now()) {
                    let _ = out_tx.send(dialect.answer(&t, Err(&Fail::Incomplete))).await;
                }
                if last_read.elapsed() > IDLE_TIMEOUT {
                    tracing::info!(%account, %peer, proto = D::NAME, "application idle: closing");
                    break;
                }
                continue;
            }
        };
        last_read = Instant::now();
        let pdu = match item {
            Some(Ok(Ok(p))) => p,
            Some(Ok(Err(bad))) => {
                if let Some(n) = dialect.bad(bad) {
                    let _ = out_tx.send(n).await;
                }
                continue;
            }
            Some(Err(_)) | None => break,
        };
        match dialect.request(&ctx, pdu) {
            Request::Submit(inc) => {
                let Ok(permit) = window.clone().try_acquire_owned() else {
                    let _ = out_tx
                        .send(dialect.answer(&inc.tag, Err(&Fail::WindowFull)))
                        .await;
                    continue;
                };
                if !state.apps.take_submit(&account, tps_of(&state, &account)) {
                    metrics::counter!("smsgw_app_throttled_total", "account" => account.clone()).increment(1);
                    let refused = Fail::Refused(Refusal::Throttled);
                    let _ = out_tx.send(dialect.answer(&inc.tag, Err(&refused))).await;
                    continue;
                }
                reg.submits.fetch_add(1, Ordering::Relaxed);
                let Incoming {
                    tag,
                    to,
                    from,
                    content,
                    concat,
                    encoding,
                    sender,
                    priority,
                    report,
                } = inc;
                let (content, waiting) = match concat.filter(|c| c.total > 1) {
                    None => (content, vec![tag]),
                    Some(c) => {
                        let key = LongKey {
                            to: to.join(","),
                            from,
                            reference: c.reference,
                        };
                        match long.push(key, c.total, c.seq, content, tag) {
                            Pushed::Complete(all, waiting) => (all, waiting),
                            // Answered with the whole message's id once it is committed.
                            Pushed::Waiting => continue,
                            Pushed::Refused(t) => {
                                let _ = out_tx.send(dialect.answer(&t, Err(&Fail::BadSegment))).await;
                                continue;
                            }
                        }
                    }
                };
                let Some(text) = submit::decode(&content, encoding) else {
                    for t in &waiting {
                        let _ = out_tx.send(dialect.answer(t, Err(&Fail::BadCoding))).await;
                    }
                    continue;
                };
                let s = AppSubmit {
                    to,
                    text,
                    sender,
                    priority,
                    report,
                };
                // Answered by the batch after its commit (the reader goes on).
                if !batcher.submit(s, waiting, permit).await {
                    break;
                }
            }
            Request::Delivered { seq, ok } => pending.answered(seq, ok),
            Request::Reply(p) => {
                let _ = out_tx.send(p).await;
            }
            Request::Later(f) => {
                // Bounded by the window like submits (the reader waits for a slot).
                let Ok(permit) = window.clone().acquire_owned().await else {
                    break;
                };
                let out = out_tx.clone();
                tokio::spawn(async move {
                    if let Some(p) = f.await {
                        let _ = out.send(p).await;
                    }
                    drop(permit);
                });
            }
            Request::Close(p) => {
                if let Some(p) = p {
                    let _ = out_tx.send(p).await;
                }
                break;
            }
            Request::Ignore => {}
        }
    }
    // Whatever was handed to this session and not acknowledged goes to
    // another receiver: the waiters see `false`.
    if let Some(d) = deliverer {
        d.abort();
    }
    pending.clear();
    drop(reg);
    // The batcher answers through the writer: the writer ends once its
    // last batch is answered.
    drop(batcher);
    drop(out_tx);
    let _ = tokio::time::timeout(Duration::from_secs(2), writer).await;
    tracing::info!(%account, %peer, proto = D::NAME, "application session ended");
}

/// The account's submit rate per second on this node, if it has one.
fn tps_of(state: &AppState, account: &str) -> Option<u32> {
    let loaded = state.config().ok()?;
    let a = loaded.doc.accounts.iter().find(|a| a.name == account)?;
    a.apps.as_ref()?.tps
}
