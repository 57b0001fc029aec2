//! How many submits per second one simulator absorbs on this machine, so
//! gateway benchmarks know it is not their bottleneck.
//!
//! Loopback, in one process: 4 connections per protocol, each keeping up to
//! 256 submits unanswered, pre-encoded frames, responses counted by frame
//! length only (the client does as little as possible; it still shares the
//! CPU with the simulator, so the figure is a floor). Three runs per
//! protocol; the median is printed.
//!
//! Run: `cargo bench -p smsgw-simulator --bench absorb` (env `ABSORB_COUNT`
//! changes the submits per run, default 200000).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use futures::{SinkExt, StreamExt};
use smsgw_protocols::framing::{split_frame, FrameCodec, Wire};
use smsgw_protocols::{cmpp, smpp, FixedStr};
use smsgw_simulator::{Protocol, SimConfig, Simulator};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio_util::codec::Framed;

const CONNECTIONS: usize = 4;
const WINDOW: usize = 256;

fn main() {
    let count: usize = std::env::var("ABSORB_COUNT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        for proto in [Protocol::Smpp, Protocol::Cmpp] {
            let mut rates = Vec::new();
            for _ in 0..3 {
                rates.push(run(proto, count).await);
            }
            rates.sort_by(f64::total_cmp);
            println!(
                "absorb/{proto}: {CONNECTIONS} connections, {count} submits per run, median {:.0} submits/s (runs: {})",
                rates[1],
                rates.iter().map(|r| format!("{r:.0}")).collect::<Vec<_>>().join(", ")
            );
        }
    });
}

async fn run(proto: Protocol, count: usize) -> f64 {
    let mut cfg = SimConfig::for_tests();
    cfg.max_records = 10_000;
    for a in &mut cfg.accounts {
        a.window = WINDOW * 2;
    }
    let sim = Simulator::start(cfg).await.expect("simulator");
    let addr = sim.addr(proto).expect("listener");
    let mut streams = Vec::new();
    for _ in 0..CONNECTIONS {
        streams.push(match proto {
            Protocol::Smpp => login_smpp(addr).await,
            _ => login_cmpp(addr).await,
        });
    }
    let frame = match proto {
        Protocol::Smpp => smpp_frame(),
        _ => cmpp_frame(),
    };
    let header_len = match proto {
        Protocol::Smpp => smpp::Smpp::HEADER_LEN,
        _ => cmpp::Cmpp::HEADER_LEN,
    };
    let per_conn = count / CONNECTIONS;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for s in streams {
        let frame = frame.clone();
        tasks.push(tokio::spawn(blast(s, frame, per_conn, header_len)));
    }
    for t in tasks {
        t.await.expect("load task");
    }
    let secs = start.elapsed().as_secs_f64();
    let got = sim.shared().ledger.counts().submits as usize;
    assert_eq!(got, per_conn * CONNECTIONS, "every submit counted once");
    got as f64 / secs
}

async fn blast(stream: TcpStream, frame: Bytes, n: usize, header_len: usize) {
    let (mut rd, mut wr) = stream.into_split();
    let window = Arc::new(Semaphore::new(WINDOW));
    let w2 = window.clone();
    let writer = tokio::spawn(async move {
        let mut sent = 0;
        let mut batch = BytesMut::new();
        while sent < n {
            let take = (n - sent).min(64);
            let permits = w2.acquire_many(take as u32).await.expect("semaphore");
            permits.forget();
            batch.clear();
            for _ in 0..take {
                batch.extend_from_slice(&frame);
            }
            wr.write_all(&batch).await.expect("write");
            sent += take;
        }
        wr
    });
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let mut answered = 0;
    let deadline = Instant::now() + Duration::from_secs(120);
    while answered < n && Instant::now() < deadline {
        if rd.read_buf(&mut buf).await.expect("read") == 0 {
            break;
        }
        let mut k = 0;
        while let Ok(Some(_)) = split_frame(&mut buf, header_len, 1 << 16) {
            k += 1;
        }
        answered += k;
        window.add_permits(k);
    }
    let _ = writer.await;
    assert_eq!(answered, n, "every submit answered");
}

async fn login_smpp(addr: std::net::SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).await.expect("connect");
    s.set_nodelay(true).ok();
    let mut f = Framed::new(s, FrameCodec::<smpp::Smpp>::new());
    let bind = smpp::Bind::new("smsgw", "secret").expect("bind");
    f.send(smpp::Pdu::new(1, smpp::Body::BindTransmitter(bind)))
        .await
        .expect("send");
    let _ = f.next().await;
    f.into_inner()
}

async fn login_cmpp(addr: std::net::SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).await.expect("connect");
    s.set_nodelay(true).ok();
    let opts = cmpp::Options::new(cmpp::CmppVersion::V30);
    let mut f = Framed::new(s, FrameCodec::<cmpp::Cmpp>::new().with_options(opts));
    let c = cmpp::Connect::new("900001", "secret", cmpp::timestamp_now(), cmpp::CmppVersion::V30)
        .expect("connect");
    f.send(cmpp::Pdu::new(1, cmpp::Body::Connect(c)))
        .await
        .expect("send");
    let _ = f.next().await;
    f.into_inner()
}

fn smpp_frame() -> Bytes {
    let sm = smpp::SubmitSm::new(
        "10658899",
        "8613800138000",
        0,
        Bytes::from_static(b"load test message"),
    )
    .expect("submit_sm");
    let mut b = BytesMut::new();
    smpp::Pdu::new(2, smpp::Body::SubmitSm(sm))
        .encode(&smpp::Options, &mut b)
        .expect("encode");
    b.freeze()
}

fn cmpp_frame() -> Bytes {
    let s = cmpp::Submit {
        msg_fmt: 8,
        src_id: FixedStr::new("10658899").expect("src"),
        dest_terminal_ids: vec![FixedStr::new("13800138000").expect("dest")],
        msg_content: Bytes::from_static(&[0x4e, 0x2d, 0x65, 0x87]),
        ..cmpp::Submit::default()
    };
    cmpp::Pdu::new(2, cmpp::Body::Submit(Box::new(s)))
        .to_bytes(&cmpp::Options::new(cmpp::CmppVersion::V30))
        .expect("encode")
}
