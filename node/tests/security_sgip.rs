//! The SGIP SP-side listener of a real node (where the carrier pushes MOs
//! and reports): a BIND with wrong credentials is answered "illegal login"
//! and closed, bytes that are not a BIND close the link unanswered, both
//! counted in `smsgw_auth_failures_total{port="sgip"}`; the carrier's own
//! credentials (from the cluster document) log in.

mod common;

use std::time::{Duration, Instant};

use common::{cli, Node};
use futures::{SinkExt, StreamExt};
use smsgw_protocols::framing::FrameCodec;
use smsgw_protocols::sgip::{Bind, Body, Pdu, SequenceNumber, Sgip};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

const LOGIN: &str = "sgipuser";
const PASSWORD: &str = "sgip-pass1";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn metric(node: &Node) -> f64 {
    let r = node.call("GET", "/metrics", None, None);
    r.body
        .as_str()
        .unwrap_or("")
        .lines()
        .find(|l| l.starts_with("smsgw_auth_failures_total{port=\"sgip\"}"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// BINDs as the carrier would; returns the Bind_Resp result and whether
/// the link was closed after it.
async fn bind(addr: &str, login: &str, password: &str) -> (Option<u8>, bool) {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let mut io = Framed::new(stream, FrameCodec::<Sgip>::new());
    let b = Bind::new(Bind::SMG_TO_SP, login, password).expect("bind");
    io.send(Pdu::new(SequenceNumber::new(1, 1, 1), Body::Bind(b)))
        .await
        .expect("send");
    let result = match tokio::time::timeout(Duration::from_secs(5), io.next()).await {
        Ok(Some(Ok(Ok(Pdu {
            body: Body::BindResp(r),
            ..
        })))) => Some(r.result),
        _ => None,
    };
    let closed = matches!(
        tokio::time::timeout(Duration::from_secs(3), io.next()).await,
        Ok(None) | Ok(Some(Err(_)))
    );
    (result, closed)
}

#[test]
fn a_wrong_bind_or_garbage_before_login_is_refused_counted_and_closed() {
    // A node without the demo (whose simulator would bind too, with its own
    // credentials).
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("node.toml"),
        "node_id = 1\ndata_dir = \"smsgw-data\"\nbootstrap = true\n",
    )
    .expect("write");
    let node = Node::start_in(dir, &["--config", "node.toml"]);
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let doc = format!(
        r#"
[[carriers]]
name = "cu"
protocol = "sgip"
address = "127.0.0.1:9"
login = "{LOGIN}"
password = "{PASSWORD}"
sgip_sp_listen = "{listen}"

[[routes]]
prefixes = ["*"]
carrier = "cu"

[[accounts]]
name = "app"
api_keys = ["sk_sgip_test_0123456789"]
"#
    );
    std::fs::write(node.dir.path().join("sgip.toml"), doc).expect("write");
    let (ok, out, err) = cli(
        node.dir.path(),
        &["config", "apply", "sgip.toml", "--addr", &node.raft],
    );
    assert!(ok, "{out}{err}");
    let deadline = Instant::now() + Duration::from_secs(15);
    while std::net::TcpStream::connect(&listen).is_err() {
        assert!(Instant::now() < deadline, "SGIP listener not up");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Connections made by the wait above closed without a byte: not counted
    // until their login timeout; measure from a settled count.
    std::thread::sleep(Duration::from_millis(200));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let before = metric(&node);
    rt.block_on(async {
        let (r, closed) = bind(&listen, LOGIN, "wrong-pass").await;
        assert_eq!(r, Some(smsgw_protocols::sgip::result::ILLEGAL_LOGIN as u8));
        assert!(closed, "link left open after a refused BIND");
        let (r, closed) = bind(&listen, "someone", PASSWORD).await;
        assert_eq!(r, Some(smsgw_protocols::sgip::result::ILLEGAL_LOGIN as u8));
        assert!(closed);

        // Garbage: a frame header announcing a length that is no SGIP PDU.
        let mut s = TcpStream::connect(&listen).await.expect("connect");
        s.write_all(&[
            0, 0, 0, 30, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
            18, 19, 20, 21, 22,
        ])
        .await
        .expect("write");
        let mut buf = Vec::new();
        let n = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf))
            .await
            .expect("closed in time")
            .unwrap_or(0);
        assert_eq!(n, 0, "garbage was answered: {buf:?}");

        let (r, _) = bind(&listen, LOGIN, PASSWORD).await;
        assert_eq!(
            r,
            Some(smsgw_protocols::sgip::result::OK as u8),
            "the carrier's own BIND"
        );
    });
    assert_eq!(metric(&node) - before, 3.0);
}
