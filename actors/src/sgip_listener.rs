//! The SP's own SGIP server: the carrier (SMG) dials it, BINDs with login
//! type 2, and pushes DELIVER (MOs) and REPORT (delivery reports), which are
//! handed to the [`DeliverSink`] with an [`Ack`] that answers them (through
//! the connection's writer task) once they are committed. One listener per
//! SGIP carrier account.
//!
//! It accepts only a BIND first, and only login type 2 with the account's
//! credentials (when configured); it never submits anything.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use smsgw_protocols::framing::FrameCodec;
use smsgw_protocols::sgip::{result, Bind, Body, Pdu, Resp, Sgip};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::codec::Framed;

use crate::error::StartError;
use crate::link::{Ack, DeliverSink, Delivered};
use crate::model::Protocol;
use crate::proto::sgip::classify_pdu;
use crate::proto::{Credentials, Incoming};

/// A running listener; dropping it stops accepting (open links end when
/// the carrier closes them).
pub struct SgipListener {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl SgipListener {
    /// Binds `bind` (port 0 picks one) for carrier `carrier`. `expect`: the
    /// credentials the SMG must bind with, `None` to accept any.
    pub async fn start(
        bind: SocketAddr,
        carrier: String,
        expect: Option<Credentials>,
        deliver: DeliverSink,
        idle: Duration,
    ) -> Result<SgipListener, StartError> {
        let listener = TcpListener::bind(bind)
            .await
            .map_err(|source| StartError::Listen {
                addr: bind.to_string(),
                source,
            })?;
        let addr = listener.local_addr().unwrap_or(bind);
        let expect = Arc::new(expect);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, peer)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve(
                    stream,
                    carrier.clone(),
                    expect.clone(),
                    deliver.clone(),
                    idle,
                    peer,
                ));
            }
        });
        Ok(SgipListener { addr, task })
    }

    /// Where the carrier must dial (`sgip_sp_addr`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for SgipListener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    stream: TcpStream,
    carrier: String,
    expect: Arc<Option<Credentials>>,
    deliver: DeliverSink,
    idle: Duration,
    peer: SocketAddr,
) {
    // Liberal in what it accepts: an SMG's padding after a known body is
    // skipped (counted for the BIND; not after the split, which hides the
    // codec).
    let mut io = Framed::new(stream, FrameCodec::<Sgip>::new().lenient());
    // Only a BIND first.
    loop {
        let pdu = match tokio::time::timeout(idle, io.next()).await {
            Err(_) => {
                tracing::info!(carrier, %peer, "SGIP carrier link idle; closing");
                return;
            }
            Ok(None) => return,
            Ok(Some(Err(e))) => {
                tracing::warn!(carrier, %peer, "SGIP carrier link: {e}");
                return;
            }
            Ok(Some(Ok(Err(bad)))) => {
                crate::metrics::bad_pdu(&carrier, Protocol::Sgip);
                tracing::warn!(carrier, %peer, "undecodable SGIP PDU: {}", bad.error);
                continue;
            }
            Ok(Some(Ok(Ok(pdu)))) => pdu,
        };
        {
            let Body::Bind(b) = &pdu.body else {
                tracing::warn!(carrier, %peer, "SGIP {} before BIND; closing", pdu.body.name());
                return;
            };
            let ok = b.login_type == Bind::SMG_TO_SP
                && expect.as_ref().as_ref().is_none_or(|c| {
                    b.login_name.trimmed() == c.login && b.login_password.trimmed() == c.password
                });
            let code = if ok { result::OK } else { result::ILLEGAL_LOGIN } as u8;
            if io
                .send(Pdu::new(pdu.sequence, Body::BindResp(Resp::new(code))))
                .await
                .is_err()
                || !ok
            {
                tracing::warn!(carrier, %peer, "SGIP carrier bind refused");
                return;
            }
            break;
        }
    }
    let skipped = io.codec_mut().take_trailing();
    if skipped > 0 {
        crate::metrics::trailing_bytes(&carrier, skipped);
    }
    // Bound: answers from now on go through the writer, so a report's
    // answer can wait for its commit.
    let (mut sink, mut stream) = io.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Option<Pdu>>();
    let writer = tokio::spawn(async move {
        while let Some(item) = rx.recv().await {
            match item {
                Some(p) => {
                    if sink.send(p).await.is_err() {
                        return;
                    }
                }
                None => {
                    let _ = sink.close().await;
                    return;
                }
            }
        }
    });
    let ack_on = |pdu: Pdu| {
        let tx = tx.clone();
        Ack::new(move || {
            let _ = tx.send(Some(pdu));
        })
    };
    loop {
        let pdu = match tokio::time::timeout(idle, stream.next()).await {
            Err(_) => {
                tracing::info!(carrier, %peer, "SGIP carrier link idle; closing");
                break;
            }
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                tracing::warn!(carrier, %peer, "SGIP carrier link: {e}");
                break;
            }
            Ok(Some(Ok(Err(bad)))) => {
                crate::metrics::bad_pdu(&carrier, Protocol::Sgip);
                tracing::warn!(carrier, %peer, "undecodable SGIP PDU: {}", bad.error);
                continue;
            }
            Ok(Some(Ok(Ok(pdu)))) => pdu,
        };
        match classify_pdu(pdu, &carrier) {
            Incoming::Report { report, ack } => deliver(
                Delivered::Report {
                    carrier: carrier.clone(),
                    report,
                },
                ack_on(ack),
            ),
            Incoming::Mo { mo, ack } => deliver(Delivered::Mo(mo), ack_on(ack)),
            Incoming::KeepAlive { ack } => {
                let _ = tx.send(Some(ack));
            }
            Incoming::Logout { ack } => {
                let _ = tx.send(Some(ack));
                let _ = tx.send(None);
                let _ = tokio::time::timeout(Duration::from_secs(5), writer).await;
                return;
            }
            _ => {}
        }
    }
    // Acks still pending hold senders; the connection is closed now.
    writer.abort();
}
