//! The HTTP listener's own loop (instead of `axum::serve`, which has no
//! header timeout): HTTP/1.1 per connection with a header read timeout that
//! also closes idle keep-alive connections (slowloris), a cap on open
//! connections, the peer address for handlers, and graceful shutdown (stop
//! accepting, let requests in flight finish). With a TLS acceptor the same
//! loop serves HTTPS: the handshake must finish within the header timeout
//! too. A connection to the HTTPS port that does not start with a TLS
//! handshake is answered `400 https_required`, except the signed
//! `/internal/` forwarding of other members (which dial plain HTTP and are
//! authenticated by the cluster secret, like the raft port).
//!
//! It must never let one client hold resources without sending: a
//! connection that does not complete a request head in [`HEADER_TIMEOUT`] is
//! closed, and beyond [`MAX_CONNECTIONS`] new connections are closed at once.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio_rustls::TlsAcceptor;
use tower_service::Service;

/// A request head (request line and headers) must arrive within this; it
/// is also how long an idle keep-alive connection stays open.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// Most open HTTP connections.
pub const MAX_CONNECTIONS: usize = 4096;

/// The first byte of a TLS connection (a handshake record).
const TLS_HANDSHAKE: u8 = 0x16;

/// Serves `router` on `listener` (HTTPS when `tls` is given) until
/// `shutdown` resolves, then waits for the connections' requests in flight
/// to finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    smsgw_actors::warn_limited!("http-accept", "http accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            metrics::counter!("smsgw_http_connections_refused_total").increment(1);
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let stop = stop_rx.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                None => connection(TokioIo::new(stream), peer, router, Over::Http, stop, permit).await,
                Some(tls) => secure(stream, peer, router, tls, stop, permit).await,
            }
        });
    }
    let _ = stop_tx.send(true);
    // Every connection holds a permit until its last request is answered.
    let _ = slots.acquire_many(MAX_CONNECTIONS as u32).await;
    Ok(())
}

/// One connection to the HTTPS port: a TLS handshake (within
/// [`HEADER_TIMEOUT`], abandoned at shutdown), or plain HTTP for the
/// members' signed `/internal/` requests only.
async fn secure(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    tls: TlsAcceptor,
    mut stop: watch::Receiver<bool>,
    permit: OwnedSemaphorePermit,
) {
    let mut first = [0u8; 1];
    let peeked = tokio::select! {
        r = tokio::time::timeout(HEADER_TIMEOUT, stream.peek(&mut first)) => r,
        _ = stopped(&mut stop) => return,
    };
    match peeked {
        Ok(Ok(1)) if first[0] == TLS_HANDSHAKE => {}
        Ok(Ok(1)) => {
            return connection(
                TokioIo::new(stream),
                peer,
                router,
                Over::InternalOnly,
                stop,
                permit,
            )
            .await
        }
        Ok(_) => return,
        Err(_) => {
            metrics::counter!("smsgw_http_header_timeouts_total").increment(1);
            return;
        }
    }
    let accepted = tokio::select! {
        r = tokio::time::timeout(HEADER_TIMEOUT, tls.accept(stream)) => r,
        _ = stopped(&mut stop) => return,
    };
    match accepted {
        Ok(Ok(s)) => connection(TokioIo::new(s), peer, router, Over::Https, stop, permit).await,
        Ok(Err(e)) => {
            metrics::counter!("smsgw_http_tls_handshake_failures_total").increment(1);
            tracing::debug!(%peer, "tls handshake failed: {e}");
        }
        Err(_) => {
            metrics::counter!("smsgw_http_header_timeouts_total").increment(1);
            tracing::debug!(%peer, "tls handshake not done within {HEADER_TIMEOUT:?}");
        }
    }
}

/// Set on every request that came over TLS (handlers read it as an
/// extension: the console's cookie is `Secure` only then).
#[derive(Debug, Clone, Copy)]
pub struct OverTls;

/// What a connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Over {
    Http,
    Https,
    /// Plain HTTP to the HTTPS port: only `/internal/` is served.
    InternalOnly,
}

/// Serves HTTP/1.1 on `io` until the client is done, the header timeout
/// fires, or the stop flag asks for a graceful end; [`Over::InternalOnly`]:
/// every request outside `/internal/` is refused (plain HTTP to the HTTPS
/// port). Holds `permit` until then.
async fn connection<I>(
    io: TokioIo<I>,
    peer: SocketAddr,
    router: Router,
    over: Over,
    mut stop: watch::Receiver<bool>,
    permit: OwnedSemaphorePermit,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let internal_only = over == Over::InternalOnly;
    let svc = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        if over == Over::Https {
            req.extensions_mut().insert(OverTls);
        }
        let refuse = internal_only && !req.uri().path().starts_with("/internal/");
        let mut r = router.clone();
        async move {
            if refuse {
                return Ok(https_required());
            }
            r.call(req.map(axum::body::Body::new)).await
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .keep_alive(!internal_only);
    let conn = builder.serve_connection(io, svc);
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        r = conn.as_mut() => log_end(peer, r),
        _ = stopped(&mut stop) => {
            conn.as_mut().graceful_shutdown();
            log_end(peer, conn.await);
        }
    }
    drop(permit);
}

/// The answer to a plain-HTTP request on the HTTPS port.
fn https_required() -> Response {
    metrics::counter!("smsgw_http_plaintext_refused_total").increment(1);
    let body = serde_json::json!({"error": {
        "code": "https_required",
        "message": "this port speaks HTTPS: use https:// (plain HTTP is refused)",
    }});
    let mut resp = (axum::http::StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
    resp.headers_mut().insert(
        axum::http::header::CONNECTION,
        axum::http::HeaderValue::from_static("close"),
    );
    resp
}

/// Resolves once the stop flag is set (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    loop {
        if *stop.borrow_and_update() {
            return;
        }
        if stop.changed().await.is_err() {
            return;
        }
    }
}

fn log_end(peer: SocketAddr, r: Result<(), hyper::Error>) {
    if let Err(e) = r {
        if e.is_timeout() {
            metrics::counter!("smsgw_http_header_timeouts_total").increment(1);
        }
        tracing::debug!(%peer, "http connection ended: {e}");
    }
}
