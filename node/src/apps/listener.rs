//! The application listeners: SMPP (default 127.0.0.1:2875) and CMPP
//! (default 127.0.0.1:7990), one task per accepted connection. A default
//! address that is taken is skipped with a warning (several nodes on one
//! host); an address the node file sets must bind or the start fails.
//! It must never serve a connection beyond [`MAX_SESSIONS`] at once.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::api::state::AppState;

/// Most application connections per node and protocol.
pub const MAX_SESSIONS: usize = 1024;

/// Which protocol a listener speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    Smpp,
    Cmpp,
}

/// Binds `addr` (or `default` when `None`); `None` when the default is taken.
pub async fn bind(addr: Option<&str>, default: &str, what: &str) -> anyhow::Result<Option<TcpListener>> {
    match addr {
        Some(a) => TcpListener::bind(a)
            .await
            .map(Some)
            .with_context(|| format!("cannot listen for {what} applications on {a}")),
        None => match TcpListener::bind(default).await {
            Ok(l) => Ok(Some(l)),
            Err(e) => {
                tracing::warn!(
                    "not listening for {what} applications: {default} is not free ({e}); set it in the node file"
                );
                Ok(None)
            }
        },
    }
}

/// Accepts connections until the task is aborted.
pub fn spawn(state: AppState, listener: TcpListener, proto: Proto) -> tokio::task::JoinHandle<()> {
    let slots = Arc::new(Semaphore::new(MAX_SESSIONS));
    tokio::spawn(async move {
        loop {
            let (stream, peer): (_, SocketAddr) = match listener.accept().await {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!("accepting an application connection: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            };
            let Ok(permit) = slots.clone().try_acquire_owned() else {
                tracing::warn!(%peer, "too many application sessions: connection refused");
                continue;
            };
            let state = state.clone();
            tokio::spawn(async move {
                match proto {
                    Proto::Smpp => super::smpp::serve(state, stream, peer).await,
                    Proto::Cmpp => super::cmpp::serve(state, stream, peer).await,
                }
                drop(permit);
            });
        }
    })
}
