//! The proxy between the nodes and the carrier: every carrier connection of
//! every node goes through it (the drill's cluster document names it as the
//! carrier's address), so a nemesis can slow, reset or cut a node's carrier
//! link ([`CARRIER`] is the carrier's id in the [`Net`] link table), and so
//! the carrier knows which node sent each part.
//!
//! Nodes connect to carriers from 127.0.0.1 (only raft connections have a
//! source address of their own), so the proxy finds the node that owns the
//! connecting socket in `/proc` (the socket's inode among the node
//! processes' open files) and connects onwards *from that node's loopback
//! address* (`127.0.0.{10+id}`): the simulator's ledger then records the
//! node as the peer of every submit. A connection it cannot attribute is
//! still relayed, from 127.0.0.1, and counted by the checker as
//! unattributed. It must never change the bytes it forwards.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::JoinHandle;

use crate::error::{ChaosError, Result};
use crate::node::node_ip;
use crate::proxy::{pump, Net};

/// The carrier's id in the link table: links `node → CARRIER`.
pub const CARRIER: u64 = 0;

/// Which node each live process id is (kept by the node handles).
#[derive(Clone, Default)]
pub struct Owners(Arc<Mutex<HashMap<u32, u64>>>);

impl Owners {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u32, u64>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn insert(&self, pid: u32, node: u64) {
        self.lock().insert(pid, node);
    }

    pub fn remove(&self, pid: u32) {
        self.lock().remove(&pid);
    }

    fn snapshot(&self) -> Vec<(u32, u64)> {
        self.lock().iter().map(|(p, n)| (*p, *n)).collect()
    }
}

/// The node a loopback address belongs to (`127.0.0.{10+id}`).
pub fn node_of_ip(ip: IpAddr) -> Option<u64> {
    match ip {
        IpAddr::V4(v4) if v4.octets()[..3] == [127, 0, 0] && v4.octets()[3] > 10 => {
            Some(u64::from(v4.octets()[3]) - 10)
        }
        _ => None,
    }
}

/// The running carrier proxy; stops when dropped.
pub struct CarrierProxy {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for CarrierProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl CarrierProxy {
    /// Listens on 127.0.0.1 and relays every connection to `target`.
    pub async fn start(net: Net, owners: Owners, target: SocketAddr) -> Result<CarrierProxy> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| ChaosError::io("bind the carrier proxy", e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| ChaosError::io("carrier proxy address", e))?;
        let task = tokio::spawn(async move {
            loop {
                let Ok((conn, peer)) = listener.accept().await else {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                };
                tokio::spawn(relay(
                    net.clone(),
                    owners.clone(),
                    conn,
                    peer,
                    addr.port(),
                    target,
                ));
            }
        });
        Ok(CarrierProxy { addr, task })
    }
}

async fn relay(net: Net, owners: Owners, client: TcpStream, peer: SocketAddr, port: u16, target: SocketAddr) {
    let from = tokio::task::spawn_blocking(move || owner_of(&owners, peer.port(), port))
        .await
        .ok()
        .flatten();
    if let Some(id) = from {
        if net.fault(Some(id), CARRIER).cut {
            return; // dropped: the node sees its connection close
        }
    }
    let connect = async {
        let socket = TcpSocket::new_v4()?;
        let ip = from.map_or(Ipv4Addr::LOCALHOST, node_ip);
        socket.bind(SocketAddr::new(ip.into(), 0))?;
        socket.connect(target).await
    };
    let Ok(Ok(server)) = tokio::time::timeout(Duration::from_secs(2), connect).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    tokio::select! {
        _ = pump(&net, from, CARRIER, cr, sw) => {}
        _ = pump(&net, from, CARRIER, sr, cw) => {}
    }
}

/// The node whose process owns the TCP socket `127.0.0.1:local → :remote`.
fn owner_of(owners: &Owners, local: u16, remote: u16) -> Option<u64> {
    let inode = socket_inode(local, remote)?;
    let wanted = format!("socket:[{inode}]");
    owners.snapshot().into_iter().find_map(|(pid, node)| {
        let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?;
        fds.flatten()
            .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|l| l.as_os_str() == wanted.as_str()))
            .then_some(node)
    })
}

/// The inode of the socket with local port `local` and remote port
/// `remote`, from the kernel's TCP table.
fn socket_inode(local: u16, remote: u16) -> Option<u64> {
    let port = |field: &str| {
        field
            .rsplit(':')
            .next()
            .and_then(|p| u16::from_str_radix(p, 16).ok())
    };
    ["/proc/net/tcp", "/proc/net/tcp6"].iter().find_map(|table| {
        let text = std::fs::read_to_string(table).ok()?;
        text.lines().skip(1).find_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (l, r, inode) = (f.get(1)?, f.get(2)?, f.get(9)?);
            let inode: u64 = inode.parse().ok()?;
            (port(l) == Some(local) && port(r) == Some(remote) && inode != 0).then_some(inode)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_addresses_name_their_nodes() {
        assert_eq!(node_of_ip(node_ip(1).into()), Some(1));
        assert_eq!(node_of_ip(node_ip(7).into()), Some(7));
        assert_eq!(node_of_ip("127.0.0.1".parse().unwrap()), None);
        assert_eq!(node_of_ip("10.0.0.11".parse().unwrap()), None);
    }

    /// This very process owns a connection it opened: found through /proc.
    #[tokio::test]
    async fn the_owner_of_a_socket_is_found_through_proc() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let client = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let (_server, peer) = listener.accept().await.unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        let owners = Owners::default();
        assert_eq!(owner_of(&owners, peer.port(), port), None, "nobody registered");
        owners.insert(std::process::id(), 4);
        assert_eq!(owner_of(&owners, peer.port(), port), Some(4));
        assert_eq!(owner_of(&owners, peer.port(), port.wrapping_add(1)), None);
    }
}
