//! The SP's own SGIP server: the carrier (SMG) dials it, BINDs with login
//! type 2, and pushes DELIVER (MOs) and REPORT (delivery reports), which are
//! handed to the [`DeliverSink`] with an [`Ack`] that answers them (through
//! the connection's writer task) once they are committed. One listener per
//! SGIP carrier account.
//!
//! It accepts only a BIND first, within [`LOGIN_TIMEOUT`], and only login
//! type 2 with the account's credentials (when configured), compared in
//! constant time; anything else before the login (another PDU, bytes that
//! do not decode) closes the link, and a refused BIND is counted in
//! `smsgw_auth_failures_total{port="sgip"}`. At most [`MAX_LINKS`] links
//! are open at once. It never submits anything.

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use subtle::ConstantTimeEq;

use futures::{SinkExt, StreamExt};
use smsgw_protocols::framing::FrameCodec;
use smsgw_protocols::sgip::{result, Bind, Body, Pdu, Resp, Sgip};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinHandle;
use tokio_util::codec::Framed;

use crate::error::StartError;
use crate::link::{Ack, DeliverSink, Delivered};
use crate::model::Protocol;
use crate::proto::sgip::classify_pdu;
use crate::proto::CarrierProfile;
use crate::proto::{Credentials, Incoming};

/// Most carrier links open at once on one listener (a carrier opens a few).
pub const MAX_LINKS: usize = 32;
/// How long a new link has to BIND.
pub const LOGIN_TIMEOUT: Duration = Duration::from_secs(10);

type Expected = Arc<RwLock<Option<Credentials>>>;
/// The carrier's profile, for reading MO content codes its way.
type Profile = Arc<RwLock<CarrierProfile>>;

/// A running listener; dropping it stops accepting (open links end when
/// the carrier closes them).
pub struct SgipListener {
    addr: SocketAddr,
    task: JoinHandle<()>,
    expect: Expected,
    profile: Profile,
}

impl SgipListener {
    /// Binds `bind` (port 0 picks one) for carrier `carrier`. `expect`: the
    /// credentials the SMG must bind with, `None` to accept any; `profile`:
    /// the carrier's (its data_coding reads MO content).
    pub async fn start(
        bind: SocketAddr,
        carrier: String,
        expect: Option<Credentials>,
        profile: CarrierProfile,
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
        let expect: Expected = Arc::new(RwLock::new(expect));
        let links = Arc::new(Semaphore::new(MAX_LINKS));
        let shared = expect.clone();
        let profile: Profile = Arc::new(RwLock::new(profile));
        let shared_profile = profile.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, peer)) = listener.accept().await else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let Ok(permit) = links.clone().try_acquire_owned() else {
                    crate::warn_limited!(format!("sgip-links-full/{carrier}"), carrier, %peer, "SGIP listener: {MAX_LINKS} links open; closing a new one");
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let link = serve(
                    stream,
                    carrier.clone(),
                    shared.clone(),
                    shared_profile.clone(),
                    deliver.clone(),
                    idle,
                    peer,
                );
                tokio::spawn(async move {
                    link.await;
                    drop(permit);
                });
            }
        });
        Ok(SgipListener {
            addr,
            task,
            expect,
            profile,
        })
    }

    /// The credentials later BINDs must carry (after a credential change:
    /// open links stay, new ones need the new credentials).
    pub fn set_expected(&self, expect: Option<Credentials>) {
        *self.expect.write().unwrap_or_else(|p| p.into_inner()) = expect;
    }

    /// The carrier's profile after a change (applies to the next PDU).
    pub fn set_profile(&self, profile: CarrierProfile) {
        *self.profile.write().unwrap_or_else(|p| p.into_inner()) = profile;
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

/// A 16-octet SGIP field as the wire carries it (NUL padded, cut at 16),
/// so the comparison takes the same time whatever the lengths.
fn field16(s: &str) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (o, b) in out.iter_mut().zip(s.as_bytes()) {
        *o = *b;
    }
    out
}

/// Whether a BIND carries the expected credentials, in constant time.
fn credentials_match(name: &str, password: &str, c: &Credentials) -> bool {
    let name_ok = field16(name).ct_eq(&field16(&c.login));
    let pass_ok = field16(password).ct_eq(&field16(&c.password));
    // A configured value longer than the field can never be sent whole.
    let fits = c.login.len() <= 16 && c.password.len() <= 16;
    bool::from(name_ok & pass_ok) && fits
}

fn refused(carrier: &str, peer: SocketAddr, why: &str) {
    metrics::counter!("smsgw_auth_failures_total", "port" => "sgip").increment(1);
    crate::warn_limited!(format!("sgip-refused/{carrier}"), carrier, %peer, "SGIP carrier link refused: {why}");
}

async fn serve(
    stream: TcpStream,
    carrier: String,
    expect: Expected,
    profile: Profile,
    deliver: DeliverSink,
    idle: Duration,
    peer: SocketAddr,
) {
    // Liberal in what it accepts: an SMG's padding after a known body is
    // skipped (counted for the BIND; not after the split, which hides the
    // codec).
    let mut io = Framed::new(stream, FrameCodec::<Sgip>::new().lenient());
    // Only a BIND first, and soon; anything else closes the link.
    {
        let pdu = match tokio::time::timeout(LOGIN_TIMEOUT, io.next()).await {
            Err(_) => return refused(&carrier, peer, "no BIND in time"),
            Ok(None) => return,
            Ok(Some(Err(e))) => return refused(&carrier, peer, &format!("before BIND: {e}")),
            Ok(Some(Ok(Err(bad)))) => {
                crate::metrics::bad_pdu(&carrier, Protocol::Sgip);
                return refused(
                    &carrier,
                    peer,
                    &format!("undecodable PDU before BIND: {}", bad.error),
                );
            }
            Ok(Some(Ok(Ok(pdu)))) => pdu,
        };
        let Body::Bind(b) = &pdu.body else {
            return refused(&carrier, peer, &format!("{} before BIND", pdu.body.name()));
        };
        let expected = expect.read().unwrap_or_else(|p| p.into_inner()).clone();
        let ok = b.login_type == Bind::SMG_TO_SP
            && expected
                .as_ref()
                .is_none_or(|c| credentials_match(b.login_name.trimmed(), b.login_password.trimmed(), c));
        let code = if ok { result::OK } else { result::ILLEGAL_LOGIN } as u8;
        let sent = io
            .send(Pdu::new(pdu.sequence, Body::BindResp(Resp::new(code))))
            .await;
        if !ok {
            return refused(&carrier, peer, "BIND with wrong login type or credentials");
        }
        if sent.is_err() {
            return;
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
                crate::warn_limited!(format!("sgip-link-error/{carrier}"), carrier, %peer, "SGIP carrier link: {e}");
                break;
            }
            Ok(Some(Ok(Err(bad)))) => {
                crate::metrics::bad_pdu(&carrier, Protocol::Sgip);
                crate::warn_limited!(format!("sgip-bad-pdu/{carrier}"), carrier, %peer, "undecodable SGIP PDU: {}", bad.error);
                continue;
            }
            Ok(Some(Ok(Ok(pdu)))) => pdu,
        };
        let incoming = {
            let profile = profile.read().unwrap_or_else(|p| p.into_inner());
            classify_pdu(pdu, &carrier, &profile)
        };
        match incoming {
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
