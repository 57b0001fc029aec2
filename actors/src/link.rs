//! One TCP link to a carrier, below the session actor: connect and log in
//! (bounded in time), then a reader task and a writer task.
//!
//! The reader classifies every PDU with the [`ClientProtocol`]: heartbeat
//! answers go straight to the writer (so the carrier is answered even while
//! the session is busy); reports and MOs go to the [`DeliverSink`] with an
//! [`Ack`] that queues their answer (DELIVER_RESP / REPORT_RESP /
//! deliver_sm_resp) on the writer only when fired, i.e. once what was
//! derived from them is committed (the reconciler, the inbound actor, or
//! the leader for a standby's forward). A report never acknowledged is
//! delivered again by the carrier (after its response timeout, or on
//! another connection once this one closes); recording is idempotent.
//! Submit responses and link loss go to the session as [`LinkEvent`]s. The
//! writer batches queued PDUs into one write.
//!
//! A link never retries and never decides anything about messages: it
//! reports what happened and dies with its connection.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use smsgw_protocols::framing::FrameCodec;
use smsgw_protocols::report::DeliveryReport;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::codec::{Decoder, Framed, FramedRead, FramedWrite};

use crate::error::LinkError;
use crate::model::{MoPart, SubmitStatus};
use crate::proto::{ClientProtocol, Credentials, Incoming};

/// Something a carrier delivered to us: a report or an MO segment.
#[derive(Debug, Clone)]
pub enum Delivered {
    Report { carrier: String, report: DeliveryReport },
    Mo(MoPart),
}

/// The acknowledgement of one report or MO to the carrier, fired once the
/// fact derived from it is durably committed. Dropped unfired, nothing is
/// sent and the carrier delivers it again.
#[must_use = "an ack dropped unfired leaves the report to be re-delivered"]
pub struct Ack(Option<Box<dyn FnOnce() + Send>>);

impl Ack {
    /// An ack that runs `f` when fired.
    pub fn new(f: impl FnOnce() + Send + 'static) -> Ack {
        Ack(Some(Box::new(f)))
    }

    /// An ack with nothing to send (tests, already-answered items).
    pub fn none() -> Ack {
        Ack(None)
    }

    /// Answers the carrier (no-op if its link is gone).
    pub fn fire(mut self) {
        if let Some(f) = self.0.take() {
            f()
        }
    }

    /// An ack that fires every one of `acks`.
    pub fn all(acks: Vec<Ack>) -> Ack {
        Ack::new(move || acks.into_iter().for_each(Ack::fire))
    }
}

impl std::fmt::Debug for Ack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "Ack" } else { "Ack(none)" })
    }
}

/// Where reports and MOs go, each with the [`Ack`] to fire once it is
/// committed (the reconciler and the inbound actor, wired by the gateway;
/// a channel in tests).
pub type DeliverSink = Arc<dyn Fn(Delivered, Ack) + Send + Sync>;

/// An ack that queues `pdu` on a link's writer.
fn ack_on<P: Send + 'static>(tx: &mpsc::UnboundedSender<Out<P>>, pdu: P) -> Ack {
    let tx = tx.clone();
    Ack::new(move || {
        let _ = tx.send(Out::Pdu(pdu));
    })
}

/// What the link tells its session.
#[derive(Debug)]
pub enum LinkEvent {
    Response {
        seq: u32,
        status: SubmitStatus,
    },
    /// The link is gone (EOF, I/O or framing error, carrier logout).
    Down {
        reason: String,
    },
    /// The carrier answered our logout.
    LoggedOut,
}

/// Where link events go (the session actor's mailbox).
pub type EventSink = Arc<dyn Fn(LinkEvent) + Send + Sync>;

/// What the writer sends.
pub enum Out<P> {
    Pdu(P),
    /// Flush and close the connection.
    Close,
}

/// Timeouts of connecting and logging in.
#[derive(Debug, Clone, Copy)]
pub struct ConnectTimeouts {
    pub connect: Duration,
    pub login: Duration,
}

impl Default for ConnectTimeouts {
    fn default() -> Self {
        ConnectTimeouts {
            connect: Duration::from_secs(5),
            login: Duration::from_secs(10),
        }
    }
}

/// A framed connection to a carrier.
pub type Conn<P> = Framed<TcpStream, FrameCodec<<P as ClientProtocol>::Wire>>;

/// Connects to `addr` and logs in with `creds` (request key 1). PDUs that
/// arrive before the login answer are skipped. Bytes after a known body
/// are skipped, never a reason to fail the login; [`spawn`] counts them.
pub async fn connect<P: ClientProtocol>(
    proto: &P,
    addr: &str,
    creds: &Credentials,
    t: ConnectTimeouts,
) -> Result<Conn<P>, LinkError> {
    let stream = tokio::time::timeout(t.connect, TcpStream::connect(addr))
        .await
        .map_err(|_| LinkError::ConnectTimeout {
            addr: addr.to_string(),
        })?
        .map_err(|source| LinkError::Connect {
            addr: addr.to_string(),
            source,
        })?;
    // Submits are small and latency matters more than packet count.
    let _ = stream.set_nodelay(true);
    let codec = FrameCodec::<P::Wire>::new()
        .with_options(proto.options())
        .lenient();
    let mut io = Framed::new(stream, codec);
    io.send(proto.login(1, creds)?).await?;
    let deadline = tokio::time::Instant::now() + t.login;
    loop {
        let frame = tokio::time::timeout_at(deadline, io.next())
            .await
            .map_err(|_| LinkError::LoginTimeout)?;
        match frame {
            None => return Err(LinkError::Closed),
            Some(Err(e)) => return Err(e.into()),
            Some(Ok(Err(bad))) => return Err(LinkError::Unexpected(bad.error.to_string())),
            Some(Ok(Ok(pdu))) => match proto.classify(pdu, "") {
                Incoming::LoginResp { ok: true, .. } => return Ok(io),
                Incoming::LoginResp { ok: false, status } => {
                    return Err(LinkError::LoginRefused {
                        status,
                        text: format!("{} login", P::PROTOCOL),
                    })
                }
                _ => continue,
            },
        }
    }
}

/// The running halves of a logged-in link.
pub struct LinkIo<P: ClientProtocol> {
    pub tx: mpsc::UnboundedSender<Out<P::Pdu>>,
    /// Milliseconds since `epoch` of the last PDU received.
    pub last_rx: Arc<AtomicU64>,
    pub epoch: Instant,
    reader: Option<JoinHandle<()>>,
    writer: Option<JoinHandle<()>>,
}

impl<P: ClientProtocol> Drop for LinkIo<P> {
    /// A link dropped with its session (a crash) closes its connection.
    fn drop(&mut self) {
        for t in [self.reader.take(), self.writer.take()].into_iter().flatten() {
            t.abort();
        }
    }
}

impl<P: ClientProtocol> LinkIo<P> {
    /// Time since the carrier last sent anything.
    pub fn idle(&self) -> Duration {
        let last = Duration::from_millis(self.last_rx.load(Ordering::Relaxed));
        self.epoch.elapsed().saturating_sub(last)
    }

    pub fn send(&self, pdu: P::Pdu) -> bool {
        self.tx.send(Out::Pdu(pdu)).is_ok()
    }

    /// Flushes what is queued and closes; waits at most `wait`.
    pub async fn close(mut self, wait: Duration) {
        let _ = self.tx.send(Out::Close);
        if let Some(w) = self.writer.take() {
            let _ = tokio::time::timeout(wait, w).await;
        }
    }

    /// Drops the connection at once.
    pub fn abort(self) {
        drop(self);
    }
}

/// Starts the reader and writer of a logged-in connection.
pub fn spawn<P: ClientProtocol>(
    conn: Conn<P>,
    proto: Arc<P>,
    carrier: String,
    deliver: DeliverSink,
    events: EventSink,
) -> LinkIo<P> {
    let mut parts = conn.into_parts();
    count_trailing(&carrier, parts.codec.take_trailing());
    let opts = parts.codec.options().clone();
    let (rd, wr) = parts.io.into_split();
    let mut codec = FrameCodec::<P::Wire>::new().with_options(opts.clone()).lenient();
    // Bytes read past the login answer belong to the reader. The whole
    // frames among them are decoded here, because a `FramedRead` given a
    // buffer does not look into it before the socket has more to read: a
    // report or MO the carrier sent right behind its login answer (in the
    // same segment) would wait for the next bytes on the link, a heartbeat
    // answer 30 s later, or for ever on a quiet link.
    let mut rest = parts.read_buf;
    let early = early_frames::<P>(&mut codec, &mut rest);
    count_trailing(&carrier, codec.take_trailing());
    let mut read = FramedRead::new(rd, codec);
    // What is left is at most the start of a frame: its rest is on the way.
    *read.read_buffer_mut() = rest;
    let write = FramedWrite::new(wr, FrameCodec::<P::Wire>::new().with_options(opts));
    let (tx, rx) = mpsc::unbounded_channel();
    let epoch = Instant::now();
    let last_rx = Arc::new(AtomicU64::new(0));
    let writer = tokio::spawn(write_loop::<P>(write, rx));
    let reader = tokio::spawn(read_loop(
        early,
        read,
        proto,
        carrier,
        deliver,
        events,
        tx.clone(),
        last_rx.clone(),
        epoch,
    ));
    LinkIo {
        tx,
        last_rx,
        epoch,
        reader: Some(reader),
        writer: Some(writer),
    }
}

/// One read of a link: a PDU, a whole frame that did not decode (why), or
/// a framing error (why).
type Frame<P> = Result<Result<<P as ClientProtocol>::Pdu, String>, String>;

fn frame<P: ClientProtocol>(item: <FrameCodec<P::Wire> as Decoder>::Item) -> Frame<P> {
    Ok(item.map_err(|bad| bad.error.to_string()))
}

/// The whole frames in `buf` (bytes read with the login answer), in order;
/// `buf` keeps the rest. A framing error ends the list (and the link).
fn early_frames<P: ClientProtocol>(
    codec: &mut FrameCodec<P::Wire>,
    buf: &mut bytes::BytesMut,
) -> Vec<Frame<P>> {
    let mut out = Vec::new();
    loop {
        match codec.decode(buf) {
            Ok(Some(f)) => out.push(frame::<P>(f)),
            Ok(None) => return out,
            Err(e) => {
                out.push(Err(e.to_string()));
                return out;
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn read_loop<P: ClientProtocol>(
    early: Vec<Frame<P>>,
    mut read: FramedRead<tokio::net::tcp::OwnedReadHalf, FrameCodec<P::Wire>>,
    proto: Arc<P>,
    carrier: String,
    deliver: DeliverSink,
    events: EventSink,
    tx: mpsc::UnboundedSender<Out<P::Pdu>>,
    last_rx: Arc<AtomicU64>,
    epoch: Instant,
) {
    let mut early = early.into_iter();
    let reason = loop {
        let item = match early.next() {
            Some(f) => Some(f),
            None => read
                .next()
                .await
                .map(|r| r.map_err(|e| e.to_string()).and_then(frame::<P>)),
        };
        count_trailing(&carrier, read.decoder_mut().take_trailing());
        if let Some(Ok(_)) = item {
            // Any whole frame, readable or not, is traffic: a heartbeat
            // answer we could not decode still shows the link is alive.
            last_rx.store(epoch.elapsed().as_millis() as u64, Ordering::Relaxed);
        }
        let pdu = match item {
            None => break "carrier closed the connection".to_string(),
            Some(Err(e)) => break format!("framing: {e}"),
            Some(Ok(Err(bad))) => {
                // Boundaries were fine; keep the link, as the carriers do.
                crate::metrics::bad_pdu(&carrier, P::PROTOCOL);
                crate::warn_limited!(format!("bad-pdu/{carrier}"), carrier, protocol = %P::PROTOCOL, "undecodable PDU: {bad}");
                continue;
            }
            Some(Ok(Ok(pdu))) => pdu,
        };
        match proto.classify(pdu, &carrier) {
            Incoming::SubmitResp { seq, status } => events(LinkEvent::Response { seq, status }),
            Incoming::Nack { seq, status } => events(LinkEvent::Response {
                seq,
                status: SubmitStatus::Rejected(status),
            }),
            Incoming::Report { report, ack } => deliver(
                Delivered::Report {
                    carrier: carrier.clone(),
                    report,
                },
                ack_on(&tx, ack),
            ),
            Incoming::Mo { mo, ack } => deliver(Delivered::Mo(mo), ack_on(&tx, ack)),
            Incoming::BadDeliver { ack, error } => {
                crate::metrics::bad_pdu(&carrier, P::PROTOCOL);
                crate::warn_limited!(
                    format!("bad-deliver/{carrier}"),
                    carrier,
                    "unreadable deliver: {error}"
                );
                match ack {
                    Some(ack) => {
                        let _ = tx.send(Out::Pdu(ack));
                    }
                    // Left for the carrier to deliver again, never lost.
                    None => crate::metrics::unreadable_report(&carrier, P::PROTOCOL),
                }
            }
            Incoming::KeepAlive { ack } => {
                let _ = tx.send(Out::Pdu(ack));
            }
            Incoming::KeepAliveResp | Incoming::LoginResp { .. } => {}
            Incoming::Logout { ack } => {
                let _ = tx.send(Out::Pdu(ack));
                let _ = tx.send(Out::Close);
                break "carrier logged us out".to_string();
            }
            Incoming::LogoutResp => events(LinkEvent::LoggedOut),
            Incoming::Other(name) => tracing::debug!(carrier, "ignored {name}"),
        }
    };
    events(LinkEvent::Down { reason });
}

fn count_trailing(carrier: &str, n: u64) {
    if n > 0 {
        crate::metrics::trailing_bytes(carrier, n);
        tracing::debug!(carrier, "skipped {n} bytes after known PDU bodies");
    }
}

async fn write_loop<P: ClientProtocol>(
    mut sink: FramedWrite<tokio::net::tcp::OwnedWriteHalf, FrameCodec<P::Wire>>,
    mut rx: mpsc::UnboundedReceiver<Out<P::Pdu>>,
) {
    while let Some(first) = rx.recv().await {
        // Everything already queued goes out in one write.
        let mut next = Some(first);
        while let Some(item) = next.take() {
            match item {
                Out::Pdu(p) => {
                    if let Err(e) = sink.feed(p).await {
                        tracing::warn!(protocol = %P::PROTOCOL, "write failed: {e}");
                        return;
                    }
                }
                Out::Close => {
                    let _ = sink.flush().await;
                    let _ = sink.get_mut().shutdown().await;
                    return;
                }
            }
            next = rx.try_recv().ok();
        }
        if sink.flush().await.is_err() {
            return;
        }
    }
}
