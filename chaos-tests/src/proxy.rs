//! A controllable TCP proxy in front of every node's raft port: the nemeses'
//! network. Each node's membership address is its proxy, and each node
//! connects from its own loopback address (`raft_source_ip`), so the proxy
//! knows the directed link (from → to) of every connection and can cut it,
//! delay it or reset it. Connections from any other address (the CLI, the
//! harness) are never touched. No root needed.
//!
//! Cutting a link closes its open connections and refuses new ones, so a
//! node isolated both ways can neither send nor receive raft traffic. It
//! must never change the bytes it forwards.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::error::{ChaosError, Result};

/// What a directed link does to its traffic.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LinkFault {
    /// Refuse and close every connection.
    pub cut: bool,
    /// Hold every chunk this long before passing it on.
    pub delay_ms: u64,
    /// Chance (0..1) that a chunk resets its connection instead.
    pub reset_chance: f64,
}

#[derive(Default)]
struct Table {
    /// Per (from, to); absent means healthy.
    links: HashMap<(u64, u64), LinkFault>,
    /// Which node each source address belongs to.
    sources: HashMap<IpAddr, u64>,
    resets: u64,
    /// Resets of links into each node (or the carrier), lossy or kicked.
    resets_to: HashMap<u64, u64>,
    /// Bumped by [`Net::kick`]: open connections into that target reset.
    kicks: HashMap<u64, u64>,
}

/// The link table shared by every node's proxy.
#[derive(Clone)]
pub struct Net {
    table: Arc<Mutex<Table>>,
    /// Bumped on every change so open connections re-check their link.
    changed: watch::Sender<u64>,
}

impl Default for Net {
    fn default() -> Self {
        Net {
            table: Arc::default(),
            changed: watch::channel(0).0,
        }
    }
}

impl Net {
    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Declares that connections from `ip` come from node `id`.
    pub fn register_source(&self, ip: IpAddr, id: u64) {
        self.lock().sources.insert(ip, id);
    }

    /// Sets the fault of the directed link `from` → `to`.
    pub fn set(&self, from: u64, to: u64, fault: LinkFault) {
        {
            let mut t = self.lock();
            if fault == LinkFault::default() {
                t.links.remove(&(from, to));
            } else {
                t.links.insert((from, to), fault);
            }
        }
        self.changed.send_modify(|g| *g += 1);
    }

    /// Cuts every link into and out of `node` among `all`.
    pub fn isolate(&self, node: u64, all: &[u64]) {
        let cut = LinkFault {
            cut: true,
            ..LinkFault::default()
        };
        for &other in all.iter().filter(|&&o| o != node) {
            self.set(node, other, cut);
            self.set(other, node, cut);
        }
    }

    /// The same fault on every directed link among `all`.
    pub fn set_all(&self, all: &[u64], fault: LinkFault) {
        for &a in all {
            for &b in all.iter().filter(|&&b| b != a) {
                self.set(a, b, fault);
            }
        }
    }

    /// Every link healthy again.
    pub fn heal(&self) {
        self.lock().links.clear();
        self.changed.send_modify(|g| *g += 1);
    }

    /// Connections reset by a lossy link so far.
    pub fn resets(&self) -> u64 {
        self.lock().resets
    }

    /// Connections into `to` reset so far (by a lossy link or a kick).
    pub fn resets_to(&self, to: u64) -> u64 {
        self.lock().resets_to.get(&to).copied().unwrap_or(0)
    }

    /// Resets every open connection into `to` now (new ones are accepted).
    pub fn kick(&self, to: u64) {
        *self.lock().kicks.entry(to).or_default() += 1;
        self.changed.send_modify(|g| *g += 1);
    }

    fn kicks(&self, to: u64) -> u64 {
        self.lock().kicks.get(&to).copied().unwrap_or(0)
    }

    fn count_reset(&self, to: u64) {
        let mut t = self.lock();
        t.resets += 1;
        *t.resets_to.entry(to).or_default() += 1;
    }

    pub(crate) fn fault(&self, from: Option<u64>, to: u64) -> LinkFault {
        match from {
            Some(f) => self.lock().links.get(&(f, to)).copied().unwrap_or_default(),
            None => LinkFault::default(),
        }
    }

    fn source(&self, ip: IpAddr) -> Option<u64> {
        self.lock().sources.get(&ip).copied()
    }

    /// Starts the proxy for node `to`, forwarding to `target` (its raft
    /// port); returns the address to give as its membership address.
    pub async fn proxy(&self, to: u64, target: Arc<Mutex<String>>) -> Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| ChaosError::io("bind a link proxy", e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| ChaosError::io("proxy address", e))?;
        let net = self.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((conn, peer)) = listener.accept().await else {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                };
                let from = net.source(peer.ip());
                if net.fault(from, to).cut {
                    continue; // dropped: the caller sees the connection close
                }
                let target = target.lock().unwrap_or_else(|p| p.into_inner()).clone();
                tokio::spawn(relay(net.clone(), from, to, conn, target));
            }
        });
        Ok(Proxy { addr, task })
    }
}

/// One node's proxy; stops when dropped.
pub struct Proxy {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn relay(net: Net, from: Option<u64>, to: u64, client: TcpStream, target: String) {
    let Ok(Ok(server)) = tokio::time::timeout(Duration::from_secs(2), TcpStream::connect(&target)).await
    else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    // Either direction ending (or the link being cut) ends both.
    tokio::select! {
        _ = pump(&net, from, to, cr, sw) => {}
        _ = pump(&net, from, to, sr, cw) => {}
    }
}

pub(crate) async fn pump(
    net: &Net,
    from: Option<u64>,
    to: u64,
    mut rd: tokio::net::tcp::OwnedReadHalf,
    mut wr: tokio::net::tcp::OwnedWriteHalf,
) {
    let mut changed = net.changed.subscribe();
    let kicked = net.kicks(to);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = tokio::select! {
            r = rd.read(&mut buf) => match r {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            },
            _ = changed.changed() => {
                if net.fault(from, to).cut {
                    return;
                }
                if net.kicks(to) != kicked {
                    net.count_reset(to);
                    return;
                }
                continue;
            }
        };
        let f = net.fault(from, to);
        if f.cut {
            return;
        }
        if f.reset_chance > 0.0 && rand::thread_rng().gen_bool(f.reset_chance.min(1.0)) {
            net.count_reset(to);
            return;
        }
        if f.delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(f.delay_ms)).await;
        }
        if wr.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
