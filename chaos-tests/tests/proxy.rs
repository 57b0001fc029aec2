//! The link proxy on its own: it tells nodes apart by their source address,
//! cuts a directed link (open connections closed, new ones refused) while
//! leaving other callers alone, delays chunks, and heals. Then against a real
//! cluster: isolating the leader makes the others elect a new one.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use smsgw_chaos_tests::binary;
use smsgw_chaos_tests::cluster::{Cluster, ClusterSpec};
use smsgw_chaos_tests::proxy::{LinkFault, Net};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

async fn echo_server() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                while let Ok(n) = s.read(&mut buf).await {
                    if n == 0 || s.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    addr
}

async fn connect_from(ip: [u8; 4], to: SocketAddr) -> TcpStream {
    let s = TcpSocket::new_v4().unwrap();
    s.bind(SocketAddr::from((ip, 0))).unwrap();
    s.connect(to).await.unwrap()
}

/// Sends a byte and waits for its echo; false when the link is closed.
async fn echoes(s: &mut TcpStream) -> bool {
    if s.write_all(b"x").await.is_err() {
        return false;
    }
    let mut b = [0u8; 1];
    matches!(
        tokio::time::timeout(Duration::from_secs(2), s.read(&mut b)).await,
        Ok(Ok(1))
    )
}

#[tokio::test]
async fn a_cut_link_closes_and_refuses_only_that_nodes_connections_until_healed() {
    let echo = echo_server().await;
    let net = Net::default();
    net.register_source([127, 0, 0, 11].into(), 1);
    let proxy = net
        .proxy(2, Arc::new(Mutex::new(echo.to_string())))
        .await
        .unwrap();
    let mut from1 = connect_from([127, 0, 0, 11], proxy.addr).await;
    let mut outsider = connect_from([127, 0, 0, 1], proxy.addr).await;
    assert!(echoes(&mut from1).await && echoes(&mut outsider).await);

    net.set(
        1,
        2,
        LinkFault {
            cut: true,
            ..LinkFault::default()
        },
    );
    assert!(
        !echoes(&mut from1).await,
        "the open connection of the cut link was closed"
    );
    let mut again = connect_from([127, 0, 0, 11], proxy.addr).await;
    assert!(
        !echoes(&mut again).await,
        "a new connection on the cut link was refused"
    );
    assert!(
        echoes(&mut outsider).await,
        "callers that are not nodes are never cut"
    );
    net.heal();
    let mut healed = connect_from([127, 0, 0, 11], proxy.addr).await;
    assert!(echoes(&mut healed).await);

    net.set(
        1,
        2,
        LinkFault {
            delay_ms: 150,
            ..LinkFault::default()
        },
    );
    let t = Instant::now();
    assert!(echoes(&mut healed).await);
    assert!(
        t.elapsed() >= Duration::from_millis(150),
        "delayed {:?}",
        t.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn isolating_the_leader_makes_the_others_elect_a_new_one_and_healing_rejoins_it() {
    let bin = binary::build_for_tests().expect("the smsgw binary");
    let c = Cluster::start(&bin, ClusterSpec::default())
        .await
        .expect("cluster");
    let old = c.wait_leader(Duration::from_secs(20)).await.expect("leader");
    c.net.isolate(old, &c.ids());
    let deadline = Instant::now() + Duration::from_secs(20);
    let new = loop {
        // Ask only the majority side: the isolated node may still think it leads.
        let mut seen = None;
        for n in c.nodes.iter().filter(|n| n.id != old) {
            let a = smsgw_chaos_tests::http::request(
                &n.http,
                "GET",
                "/readyz",
                None,
                None,
                Duration::from_secs(2),
            )
            .await;
            if let Some(l) = a.body().and_then(|b| b["leader"].as_u64()).filter(|&l| l != old) {
                seen = Some(l);
            }
        }
        if let Some(l) = seen {
            break l;
        }
        assert!(
            Instant::now() < deadline,
            "the majority never elected a new leader: the partition leaks"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_ne!(new, old);
    c.net.heal();
    c.wait_ready(Duration::from_secs(30))
        .await
        .expect("every node ready after the heal");
    let l = c.wait_leader(Duration::from_secs(20)).await.expect("one leader");
    assert_eq!(l, new, "the healed node rejoined as a follower");
}

/// A server that answers every connection with the caller's address.
async fn who_server() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, peer)) = l.accept().await {
            tokio::spawn(async move {
                let _ = s.write_all(format!("{}\n", peer.ip()).as_bytes()).await;
                let mut buf = [0u8; 64];
                while let Ok(n) = s.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                }
            });
        }
    });
    addr
}

async fn first_line(s: &mut TcpStream) -> String {
    let mut buf = vec![0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(3), s.read(&mut buf))
        .await
        .expect("an answer")
        .expect("read");
    String::from_utf8_lossy(&buf[..n]).trim().to_string()
}

#[tokio::test]
async fn the_carrier_proxy_passes_on_the_owning_nodes_address_and_a_kick_resets_its_links() {
    use smsgw_chaos_tests::carrier_link::{CarrierProxy, Owners, CARRIER};
    let who = who_server().await;
    let net = Net::default();
    let owners = Owners::default();
    let proxy = CarrierProxy::start(net.clone(), owners.clone(), who)
        .await
        .unwrap();
    // Nobody owns the caller yet: relayed from 127.0.0.1.
    let mut s = TcpStream::connect(proxy.addr).await.unwrap();
    assert_eq!(first_line(&mut s).await, "127.0.0.1");
    // This process registered as node 3: the carrier sees 127.0.0.13.
    owners.insert(std::process::id(), 3);
    let mut s = TcpStream::connect(proxy.addr).await.unwrap();
    assert_eq!(first_line(&mut s).await, "127.0.0.13");
    // A kick closes the open links and counts a reset; new links work.
    net.kick(CARRIER);
    let mut b = [0u8; 8];
    let closed = tokio::time::timeout(Duration::from_secs(3), s.read(&mut b)).await;
    assert!(matches!(closed, Ok(Ok(0)) | Ok(Err(_))), "{closed:?}");
    assert!(net.resets_to(CARRIER) >= 1);
    let mut s = TcpStream::connect(proxy.addr).await.unwrap();
    assert_eq!(first_line(&mut s).await, "127.0.0.13");
}
