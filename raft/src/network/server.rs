//! The incoming side of the raft port: accepts connections and answers each
//! frame with one frame, in order. It must never block the accept loop on a
//! slow peer: every connection has its own task. A connection is served only
//! after it passed the cluster handshake ([`super::auth`]); one that fails
//! it is counted and closed without a byte more. A connection whose secret
//! the [`Keyring`] no longer accepts (the end of a rotation) is closed.

use std::future::Future;
use std::sync::Arc;

use futures::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio_util::codec::Framed;

use super::auth;
use super::client::frame_codec;
use super::keyring::Keyring;
use super::wire::{RpcRequest, RpcResponse};
use crate::codec;

/// Something that answers requests arriving on the raft port.
pub trait Handler: Send + Sync + 'static {
    /// Answers one request.
    fn handle(self: Arc<Self>, req: RpcRequest) -> impl Future<Output = RpcResponse> + Send;
}

/// Serves `listener` until the returned task is aborted.
pub fn serve<H: Handler>(
    listener: TcpListener,
    handler: Arc<H>,
    keyring: Keyring,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let (stream, peer) = match listener.accept().await {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(error = %e, "raft port: accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let handler = handler.clone();
            // Subscribed before the handshake: a rotation during it is seen.
            let mut keys = keyring.subscribe();
            tokio::spawn(async move {
                let mut stream = stream;
                let accepted: Vec<_> = keys.borrow_and_update().accepted().cloned().collect();
                let used = match auth::server(&mut stream, &accepted).await {
                    Ok(s) => s,
                    Err(e) => {
                        auth::record_failure("raft", &peer, &e);
                        return;
                    }
                };
                drop(accepted);
                let mut framed = Framed::new(stream, frame_codec());
                loop {
                    let frame = tokio::select! {
                        f = framed.next() => f,
                        changed = keys.changed() => {
                            if changed.is_ok() && keys.borrow_and_update().accepts(&used) {
                                continue;
                            }
                            tracing::debug!(%peer, "raft port: the secret of this connection is no longer accepted, closing");
                            return;
                        }
                    };
                    let Some(frame) = frame else { return };
                    let frame = match frame {
                        Ok(f) => f,
                        Err(e) => {
                            tracing::debug!(%peer, error = %e, "raft port: read failed");
                            return;
                        }
                    };
                    let req: RpcRequest = match codec::decode_frame(&frame) {
                        Ok(r) => r,
                        Err(e) => {
                            tracing::warn!(%peer, error = %e, "raft port: undecodable frame, closing");
                            return;
                        }
                    };
                    let resp = handler.clone().handle(req).await;
                    let bytes = match codec::encode(&resp) {
                        Ok(b) => b,
                        Err(e) => {
                            tracing::error!(%peer, error = %e, "raft port: cannot encode response");
                            return;
                        }
                    };
                    if framed.send(bytes::Bytes::from(bytes)).await.is_err() {
                        return;
                    }
                }
            });
        }
    })
}
