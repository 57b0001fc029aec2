//! The outgoing side of the raft port: pooled TCP connections per address,
//! one request and one response per exchange, each with a deadline; and the
//! openraft `RaftNetwork` built on it. Connections are opened proving the
//! [`Keyring`]'s dialling secret; a pooled one opened with a secret that is
//! no longer it is dropped, not reused. It must never retry a request on its
//! own (openraft and the proposer decide what is safe to repeat).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use openraft::error::{InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use tokio::net::{TcpSocket, TcpStream};
use tokio_util::codec::{Framed, LengthDelimitedCodec};

use super::auth;
use super::keyring::Keyring;
use super::secret::ClusterSecret;
use super::wire::{RpcRequest, RpcResponse, MAX_FRAME};
use crate::codec;
use crate::error::RpcError;
use crate::types::{NodeId, NodeInfo, TypeConfig};

type Conn = Framed<TcpStream, LengthDelimitedCodec>;
/// Idle connections per address, with the secret each was opened with.
type Pools = HashMap<String, Vec<(ClusterSecret, Conn)>>;

/// Builds the frame codec used on both sides.
pub(crate) fn frame_codec() -> LengthDelimitedCodec {
    LengthDelimitedCodec::builder()
        .max_frame_length(MAX_FRAME)
        .new_codec()
}

/// A pool of authenticated connections per peer address.
#[derive(Clone)]
pub struct RpcClient {
    pools: Arc<Mutex<Pools>>,
    keyring: Keyring,
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// The local IP outgoing raft connections bind to, set once per process by
/// the node (`raft_source_ip` in the node file). Process-wide on purpose:
/// every client in the process (raft, forwarding, admin) must leave from the
/// same address for a drill's proxy to attribute it.
static SOURCE_IP: OnceLock<IpAddr> = OnceLock::new();

/// Binds every later outgoing raft connection of this process to `ip`.
/// Returns false when a different address was set before.
pub fn set_source_ip(ip: IpAddr) -> bool {
    *SOURCE_IP.get_or_init(|| ip) == ip
}

async fn open(addr: &str) -> std::io::Result<TcpStream> {
    let Some(ip) = SOURCE_IP.get() else {
        return TcpStream::connect(addr).await;
    };
    let mut last = None;
    for target in tokio::net::lookup_host(addr).await? {
        let socket = match target {
            SocketAddr::V4(_) => TcpSocket::new_v4()?,
            SocketAddr::V6(_) => TcpSocket::new_v6()?,
        };
        socket.bind(SocketAddr::new(*ip, 0))?;
        match socket.connect(target).await {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no address")))
}
const MAX_IDLE_PER_PEER: usize = 64;

impl RpcClient {
    /// A client that proves `secret` on every connection it opens.
    pub fn new(secret: ClusterSecret) -> Self {
        Self::with_keyring(Keyring::fixed(secret))
    }

    /// A client that proves the dialling secret of `keyring` at the time it
    /// opens a connection.
    pub fn with_keyring(keyring: Keyring) -> Self {
        Self {
            pools: Arc::default(),
            keyring,
        }
    }

    /// An idle connection opened with `dial`; older ones are dropped.
    fn take(&self, addr: &str, dial: &ClusterSecret) -> Option<(ClusterSecret, Conn)> {
        let mut pools = self.pools.lock().ok()?;
        let pool = pools.get_mut(addr)?;
        pool.retain(|(s, _)| s == dial);
        pool.pop()
    }

    fn give_back(&self, addr: &str, secret: ClusterSecret, conn: Conn) {
        if let Ok(mut pools) = self.pools.lock() {
            let pool = pools.entry(addr.to_string()).or_default();
            if pool.len() < MAX_IDLE_PER_PEER {
                pool.push((secret, conn));
            }
        }
    }

    async fn connect(&self, addr: &str, secret: &ClusterSecret) -> Result<Conn, RpcError> {
        let mut stream = tokio::time::timeout(CONNECT_TIMEOUT, open(addr))
            .await
            .map_err(|_| RpcError::Timeout {
                addr: addr.into(),
                ms: CONNECT_TIMEOUT.as_millis() as u64,
            })?
            .map_err(|source| RpcError::Connect {
                addr: addr.into(),
                source,
            })?;
        let _ = stream.set_nodelay(true);
        auth::client(&mut stream, secret).await.map_err(|e| match e {
            auth::AuthError::Io(source) => RpcError::Io {
                addr: addr.into(),
                source,
            },
            e => RpcError::Auth {
                addr: addr.into(),
                reason: e.to_string(),
            },
        })?;
        Ok(Framed::new(stream, frame_codec()))
    }

    /// Sends `req` to `addr` and waits at most `timeout` for the response.
    pub async fn call(
        &self,
        addr: &str,
        req: &RpcRequest,
        timeout: Duration,
    ) -> Result<RpcResponse, RpcError> {
        let bytes = codec::encode(req).map_err(|source| RpcError::Codec {
            addr: addr.into(),
            source,
        })?;
        let dial = self.keyring.dial();
        let (secret, mut conn) = match self.take(addr, &dial) {
            Some(c) => c,
            None => {
                let c = self.connect(addr, &dial).await?;
                (dial, c)
            }
        };
        let exchange = async {
            conn.send(bytes::Bytes::from(bytes))
                .await
                .map_err(|source| RpcError::Io {
                    addr: addr.into(),
                    source,
                })?;
            match conn.next().await {
                None => Err(RpcError::Closed { addr: addr.into() }),
                Some(Err(source)) => Err(RpcError::Io {
                    addr: addr.into(),
                    source,
                }),
                Some(Ok(frame)) => {
                    codec::decode_frame::<RpcResponse>(&frame).map_err(|source| RpcError::Codec {
                        addr: addr.into(),
                        source,
                    })
                }
            }
        };
        let resp = tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| RpcError::Timeout {
                addr: addr.into(),
                ms: timeout.as_millis() as u64,
            })??;
        self.give_back(addr, secret, conn);
        Ok(resp)
    }
}

/// Creates [`PeerNetwork`]s for openraft.
#[derive(Clone)]
pub struct NetworkFactory {
    client: RpcClient,
}

impl NetworkFactory {
    /// A factory sharing `client`'s connection pools.
    pub fn new(client: RpcClient) -> Self {
        Self { client }
    }
}

impl RaftNetworkFactory<TypeConfig> for NetworkFactory {
    type Network = PeerNetwork;

    async fn new_client(&mut self, target: NodeId, node: &NodeInfo) -> Self::Network {
        PeerNetwork {
            target,
            node: node.clone(),
            client: self.client.clone(),
        }
    }
}

/// The raft connection to one peer.
pub struct PeerNetwork {
    target: NodeId,
    node: NodeInfo,
    client: RpcClient,
}

type RpcResult<T, E> = Result<T, RPCError<NodeId, NodeInfo, E>>;

impl PeerNetwork {
    async fn exchange<E: std::error::Error>(
        &self,
        req: RpcRequest,
        ttl: Duration,
    ) -> RpcResult<RpcResponse, E> {
        self.client
            .call(&self.node.raft_addr, &req, ttl)
            .await
            .map_err(|e| match e {
                RpcError::Connect { .. } => RPCError::Unreachable(Unreachable::new(&e)),
                _ => RPCError::Network(NetworkError::new(&e)),
            })
    }

    fn remote<E: std::error::Error>(&self, e: E) -> RPCError<NodeId, NodeInfo, E> {
        RPCError::RemoteError(RemoteError::new_with_node(self.target, self.node.clone(), e))
    }

    fn unexpected<E: std::error::Error>(&self) -> RPCError<NodeId, NodeInfo, E> {
        let e = RpcError::Unexpected {
            addr: self.node.raft_addr.clone(),
        };
        RPCError::Network(NetworkError::new(&e))
    }
}

impl RaftNetwork<TypeConfig> for PeerNetwork {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> RpcResult<AppendEntriesResponse<NodeId>, RaftError<NodeId>> {
        match self
            .exchange(RpcRequest::AppendEntries(rpc), option.hard_ttl())
            .await?
        {
            RpcResponse::AppendEntries(r) => r.map_err(|e| self.remote(e)),
            _ => Err(self.unexpected()),
        }
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> RpcResult<InstallSnapshotResponse<NodeId>, RaftError<NodeId, InstallSnapshotError>> {
        match self
            .exchange(RpcRequest::InstallSnapshot(rpc), option.hard_ttl())
            .await?
        {
            RpcResponse::InstallSnapshot(r) => r.map_err(|e| self.remote(e)),
            _ => Err(self.unexpected()),
        }
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> RpcResult<VoteResponse<NodeId>, RaftError<NodeId>> {
        match self.exchange(RpcRequest::Vote(rpc), option.hard_ttl()).await? {
            RpcResponse::Vote(r) => r.map_err(|e| self.remote(e)),
            _ => Err(self.unexpected()),
        }
    }
}
