//! The simulator as China Unicom's SMG (SGIP 1.2, both directions) and
//! China Telecom's SMGW (SMGP 3.0), over TCP on 127.0.0.1.

mod common;

use bytes::Bytes;
use common::{addr, http, start, Client};
use smsgw_protocols::sgip::{self, Bind, SequenceNumber, Sgip};
use smsgw_protocols::smgp::{self, Login, Smgp};
use smsgw_protocols::text::{self, Encoding};
use smsgw_protocols::FixedStr;
use smsgw_simulator::{Protocol, Simulator};
use tokio::net::TcpListener;

fn seq(counter: u32) -> SequenceNumber {
    SequenceNumber {
        node_id: 3_020_012_345,
        time: 1_125_103_000,
        counter,
    }
}

async fn sgip_bind(sim: &Simulator, password: &str) -> (Client<Sgip>, bool) {
    let mut c = Client::<Sgip>::connect(addr(sim, Protocol::Sgip), sgip::Options).await;
    let b = Bind::new(Bind::SP_TO_SMG, "900001", password).unwrap();
    c.send(sgip::Pdu::new(seq(1), sgip::Body::Bind(b))).await;
    match c.recv().await.body {
        sgip::Body::BindResp(r) => (c, r.is_ok()),
        other => panic!("expected BIND_RESP, got {other:?}"),
    }
}

fn sgip_submit(counter: u32, to: &str, t: &str) -> sgip::Pdu {
    let s = sgip::Submit {
        sp_number: FixedStr::new("10655").unwrap(),
        user_numbers: vec![FixedStr::new(to).unwrap()],
        report_flag: 1,
        message_coding: 8,
        message_content: Bytes::from(text::encode(t, Encoding::Ucs2).unwrap()),
        ..sgip::Submit::default()
    };
    sgip::Pdu::new(seq(counter), sgip::Body::Submit(s))
}

/// Accepts the carrier's connection at the SP's own server and answers its
/// bind, as the gateway's SGIP listener will.
async fn accept_smg(listener: &TcpListener) -> Client<Sgip> {
    let (s, _) = tokio::time::timeout(common::WAIT, listener.accept())
        .await
        .expect("the SMG dials the SP")
        .unwrap();
    let mut c = Client::<Sgip> {
        io: tokio_util::codec::Framed::new(s, smsgw_protocols::framing::FrameCodec::new()),
        backlog: Default::default(),
    };
    let bind = c.recv().await;
    match &bind.body {
        sgip::Body::Bind(b) => {
            assert_eq!(b.login_type, Bind::SMG_TO_SP);
            assert_eq!(b.login_name, "900001");
        }
        other => panic!("expected BIND, got {other:?}"),
    }
    c.send(bind.response(0).unwrap()).await;
    c
}

#[tokio::test]
async fn sgip_bind_submit_and_report_over_the_sp_server() {
    let sim = start().await;
    let (mut bad, ok) = sgip_bind(&sim, "wrong").await;
    assert!(!ok);
    assert!(bad.closed().await);

    let sp = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let body = serde_json::json!({"protocol":"sgip","login":"900001","password":"secret",
        "sgip_sp_addr": sp.local_addr().unwrap().to_string()})
    .to_string();
    assert_eq!(http(&sim, "PUT", "/accounts", Some(&body)).await.0, 200);

    let (mut c, ok) = sgip_bind(&sim, "secret").await;
    assert!(ok);
    c.send(sgip_submit(42, "13012345678", "联通测试")).await;
    let resp = c.recv().await;
    assert_eq!(resp.sequence, seq(42));
    assert!(matches!(resp.body, sgip::Body::SubmitResp(r) if r.is_ok()));

    let mut smg = accept_smg(&sp).await;
    let report = smg
        .recv_until(|p| match &p.body {
            sgip::Body::Report(r) => Some((p.clone(), r.clone())),
            _ => None,
        })
        .await;
    assert_eq!(report.1.submit_sequence_number, seq(42));
    assert_eq!(report.1.user_number, "13012345678");
    assert_eq!(report.1.to_delivery_report().carrier_msg_id, seq(42).to_string());
    smg.send(report.0.response(0).unwrap()).await;

    // An MO goes down the same carrier-to-SP link.
    let mo = serde_json::json!({"protocol":"sgip","from":"13012345678","to":"110","text":"求助"}).to_string();
    assert_eq!(http(&sim, "POST", "/mo", Some(&mo)).await.0, 202);
    let d = smg
        .recv_until(|p| match &p.body {
            sgip::Body::Deliver(d) => Some(d.clone()),
            _ => None,
        })
        .await;
    assert_eq!(d.sp_number, "110");
    assert_eq!(text::decode(&d.message_content, Encoding::Ucs2).unwrap(), "求助");
}

#[tokio::test]
async fn sgip_throttle_answers_node_busy() {
    let sim = start().await;
    http(
        &sim,
        "PUT",
        "/accounts",
        Some(r#"{"protocol":"sgip","login":"900001","password":"secret","tps":2}"#),
    )
    .await;
    let (mut c, _) = sgip_bind(&sim, "secret").await;
    for n in 0..8 {
        c.send(sgip_submit(100 + n, "13012345678", "x")).await;
    }
    let mut busy = 0;
    for _ in 0..8 {
        if let sgip::Body::SubmitResp(r) = c.recv().await.body {
            if r.result == sgip::result::NODE_BUSY as u8 {
                busy += 1;
            }
        }
    }
    assert!(busy >= 4, "{busy} of 8 refused at 2 TPS");
}

async fn smgp_login(sim: &Simulator, password: &str) -> (Client<Smgp>, u32) {
    let mut c = Client::<Smgp>::connect(addr(sim, Protocol::Smgp), smgp::Options).await;
    let l = Login::new(
        "90000001",
        password,
        smgp::login_mode::TRANSMIT,
        smgp::timestamp_now(),
    )
    .unwrap();
    c.send(smgp::Pdu::new(1, smgp::Body::Login(l))).await;
    match c.recv().await.body {
        smgp::Body::LoginResp(r) => (c, r.status),
        other => panic!("expected LOGIN_RESP, got {other:?}"),
    }
}

#[tokio::test]
async fn smgp_login_submit_report_and_mo() {
    let sim = start().await;
    let (mut bad, st) = smgp_login(&sim, "bad").await;
    assert_eq!(st, smgp::status::AUTH_FAILED);
    assert!(bad.closed().await);

    let (mut c, st) = smgp_login(&sim, "secret").await;
    assert_eq!(st, 0);
    let s = smgp::Submit {
        need_report: 1,
        msg_format: 8,
        src_term_id: FixedStr::new("10659").unwrap(),
        dest_term_ids: vec![FixedStr::new("13312345678").unwrap()],
        msg_content: Bytes::from(text::encode("电信测试", Encoding::Ucs2).unwrap()),
        ..smgp::Submit::default()
    };
    c.send(smgp::Pdu::new(9, smgp::Body::Submit(s))).await;
    let id = c
        .recv_until(|p| match &p.body {
            smgp::Body::SubmitResp(r) if p.sequence_id == 9 => Some(r.clone()),
            _ => None,
        })
        .await;
    assert_eq!(id.status, 0);
    assert_eq!(id.msg_id.to_string().len(), 20);
    let report = c
        .recv_until(|p| match &p.body {
            smgp::Body::Deliver(d) => d.report().map(|r| r.unwrap()),
            _ => None,
        })
        .await;
    assert_eq!(report.msg_id, id.msg_id);
    assert_eq!(report.to_delivery_report().carrier_msg_id, id.msg_id.to_string());

    let mo =
        serde_json::json!({"protocol":"smgp","from":"13312345678","to":"1101","text":"help"}).to_string();
    assert_eq!(http(&sim, "POST", "/mo", Some(&mo)).await.0, 202);
    let d = c
        .recv_until(|p| match &p.body {
            smgp::Body::Deliver(d) if d.is_report == 0 => Some(d.clone()),
            _ => None,
        })
        .await;
    assert_eq!(d.dest_term_id, "1101");
    assert_eq!(&d.msg_content[..], b"help");
}
