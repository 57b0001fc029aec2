//! A minimal test client made of the `protocols` framing: connect, send a
//! PDU, wait (bounded) for the next one. Also starts a simulator on
//! ephemeral ports and talks to its control API.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use smsgw_protocols::framing::{FrameCodec, Wire};
use smsgw_simulator::{Protocol, SimConfig, Simulator};
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

pub const WAIT: Duration = Duration::from_secs(5);

pub struct Client<P: Wire> {
    pub io: Framed<TcpStream, FrameCodec<P>>,
    /// PDUs skipped by `recv_until`, offered again to later calls.
    pub backlog: std::collections::VecDeque<P::Pdu>,
}

impl<P: Wire> Client<P>
where
    P::Pdu: std::fmt::Debug,
{
    pub async fn connect(addr: SocketAddr, opts: P::Options) -> Client<P> {
        let s = TcpStream::connect(addr).await.expect("connect to simulator");
        Client {
            io: Framed::new(s, FrameCodec::<P>::new().with_options(opts)),
            backlog: Default::default(),
        }
    }

    pub async fn send(&mut self, pdu: P::Pdu) {
        self.io.send(pdu).await.expect("send");
    }

    /// The next PDU, or panics after [`WAIT`].
    pub async fn recv(&mut self) -> P::Pdu {
        match tokio::time::timeout(WAIT, self.io.next()).await {
            Ok(Some(Ok(Ok(pdu)))) => pdu,
            other => panic!("expected a PDU, got {other:?}"),
        }
    }

    /// The next PDU matching `f`, skipping others (heartbeats, reports).
    pub async fn recv_until<T>(&mut self, mut f: impl FnMut(&P::Pdu) -> Option<T>) -> T {
        if let Some(i) = self.backlog.iter().position(|p| f(p).is_some()) {
            if let Some(t) = self.backlog.remove(i).and_then(|p| f(&p)) {
                return t;
            }
        }
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match tokio::time::timeout(left, self.io.next()).await {
                Ok(Some(Ok(Ok(pdu)))) => {
                    if let Some(t) = f(&pdu) {
                        return t;
                    }
                    self.backlog.push_back(pdu);
                }
                other => panic!("waiting for a matching PDU, got {other:?}"),
            }
        }
    }

    /// True when the server closes the connection within [`WAIT`].
    pub async fn closed(&mut self) -> bool {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match tokio::time::timeout(left, self.io.next()).await {
                Ok(None) | Ok(Some(Err(_))) => return true,
                Ok(Some(Ok(_))) => continue,
                Err(_) => return false,
            }
        }
    }
}

pub async fn start() -> Simulator {
    start_with(SimConfig::for_tests()).await
}

pub async fn start_with(cfg: SimConfig) -> Simulator {
    Simulator::start(cfg).await.expect("simulator starts")
}

pub fn addr(sim: &Simulator, p: Protocol) -> SocketAddr {
    sim.addr(p).expect("listener")
}

/// A bare HTTP/1.1 request to the control API (no client library needed).
pub async fn http(sim: &Simulator, method: &str, path: &str, body: Option<&str>) -> (u16, serde_json::Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = sim.control_addr().expect("control api");
    let mut s = TcpStream::connect(addr).await.expect("connect control api");
    let body = body.unwrap_or("");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nhost: sim\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.expect("write");
    let mut out = Vec::new();
    tokio::time::timeout(WAIT, s.read_to_end(&mut out))
        .await
        .expect("control api answers")
        .expect("read");
    let text = String::from_utf8_lossy(&out);
    let status: u16 = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
    // Chunked bodies: take the JSON between the first `{`/`[` and the last `}`/`]`.
    let start = body.find(['{', '[']).unwrap_or(0);
    let end = body.rfind(['}', ']']).map(|e| e + 1).unwrap_or(body.len());
    let json = serde_json::from_str(&body[start..end]).unwrap_or(serde_json::Value::Null);
    (status, json)
}

/// Polls `/counts` until `f` holds or [`WAIT`] passes.
pub async fn wait_counts(sim: &Simulator, f: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    let deadline = tokio::time::Instant::now() + WAIT * 2;
    loop {
        let (_, c) = http(sim, "GET", "/counts", None).await;
        if f(&c) || tokio::time::Instant::now() > deadline {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
