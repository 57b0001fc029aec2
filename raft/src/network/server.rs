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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::error::RpcError;
    use crate::network::keyring::SecretSet;
    use crate::network::secret::ClusterSecret;
    use crate::network::wire::{AdminRequest, AdminResponse};
    use crate::network::RpcClient;

    /// Answers every request with `Done`.
    struct AlwaysDone;

    impl Handler for AlwaysDone {
        async fn handle(self: Arc<Self>, _req: RpcRequest) -> RpcResponse {
            RpcResponse::Admin(Ok(AdminResponse::Done("ok".into())))
        }
    }

    async fn status(c: &RpcClient, addr: &str) -> Result<RpcResponse, RpcError> {
        c.call(
            addr,
            &RpcRequest::Admin(AdminRequest::Status),
            Duration::from_secs(2),
        )
        .await
    }

    #[tokio::test]
    async fn a_connection_whose_secret_is_dropped_is_closed_and_the_other_goes_on() {
        let old = ClusterSecret::from_bytes(vec![1; 32]).expect("secret");
        let new = ClusterSecret::from_bytes(vec![2; 32]).expect("secret");
        let keyring = Keyring::new(SecretSet::with_also(new.clone(), old.clone()));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let server = serve(listener, Arc::new(AlwaysDone), keyring.clone());
        let (with_old, with_new) = (RpcClient::new(old), RpcClient::new(new.clone()));
        assert!(status(&with_old, &addr).await.is_ok());
        assert!(status(&with_new, &addr).await.is_ok());

        assert!(keyring.replace(SecretSet::single(new)));
        // Let the connections' tasks see the change before the next frame.
        tokio::time::sleep(Duration::from_millis(200)).await;
        // The pooled connection made with the old secret was closed...
        let e = status(&with_old, &addr)
            .await
            .expect_err("old connection still served");
        assert!(matches!(e, RpcError::Closed { .. } | RpcError::Io { .. }), "{e}");
        // ...and a new one is refused at the handshake.
        let e = status(&with_old, &addr)
            .await
            .expect_err("old secret still accepted");
        assert!(matches!(e, RpcError::Auth { .. }), "{e}");
        // The one made with the new secret goes on.
        assert!(status(&with_new, &addr).await.is_ok());
        server.abort();
    }

    #[tokio::test]
    async fn a_client_whose_dialling_secret_changed_does_not_reuse_its_old_connections() {
        let old = ClusterSecret::from_bytes(vec![1; 32]).expect("secret");
        let new = ClusterSecret::from_bytes(vec![2; 32]).expect("secret");
        let served = Keyring::new(SecretSet::with_also(old.clone(), new.clone()));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let server = serve(listener, Arc::new(AlwaysDone), served.clone());
        let dialling = Keyring::new(SecretSet::with_also(old.clone(), new.clone()));
        let client = RpcClient::with_keyring(dialling.clone());
        assert!(status(&client, &addr).await.is_ok());
        dialling.replace(SecretSet::with_also(new.clone(), old));
        assert!(status(&client, &addr).await.is_ok());
        // Had the client reused its first connection, this would close the
        // connection it is about to use.
        served.replace(SecretSet::single(new));
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(status(&client, &addr).await.is_ok());
        server.abort();
    }
}
