//! Step 1: each protocol's SP side against the simulator over TCP, with no
//! actors: log in, submit a short and a long message, match every response
//! to its request, and every report to a carrier id.

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use smsgw_actors::link::{self, ConnectTimeouts, Delivered, LinkEvent};
use smsgw_actors::proto::cmpp::CmppClient;
use smsgw_actors::proto::sgip::SgipClient;
use smsgw_actors::proto::smgp::SmgpClient;
use smsgw_actors::proto::smpp::SmppClient;
use smsgw_actors::proto::{ClientProtocol, Credentials};
use smsgw_actors::sgip_listener::SgipListener;
use smsgw_actors::{split_message, OutboundMessage, Priority, SubmitStatus};
use tokio::sync::mpsc;

async fn round_trip<P: ClientProtocol>(proto: P) {
    let sim = sim().await;
    let p = P::PROTOCOL;
    let (dtx, mut drx) = mpsc::unbounded_channel();
    let deliver: link::DeliverSink = Arc::new(move |d, ack: link::Ack| {
        ack.fire();
        let _ = dtx.send(d);
    });
    let _listener = if p == Protocol::Sgip {
        let l = SgipListener::start(
            "127.0.0.1:0".parse().unwrap(),
            "c1".into(),
            None,
            smsgw_actors::proto::default_profile(Protocol::Sgip),
            deliver.clone(),
            Duration::from_secs(30),
        )
        .await
        .unwrap();
        let at = l.addr();
        set_account(&sim, p, |a| a.sgip_sp_addr = Some(at));
        Some(l)
    } else {
        None
    };
    let creds = Credentials {
        login: login(p).into(),
        password: "secret".into(),
    };
    let proto = Arc::new(proto);
    let conn = link::connect(&*proto, &addr(&sim, p), &creds, ConnectTimeouts::default())
        .await
        .expect("login");
    let (etx, mut erx) = mpsc::unbounded_channel();
    let events: link::EventSink = Arc::new(move |e| {
        let _ = etx.send(e);
    });
    let io = link::spawn(conn, proto.clone(), "c1".into(), deliver, events);

    let dest = "13800138000";
    let short = OutboundMessage::new(
        1,
        "a",
        Priority::Normal,
        "10658899",
        dest,
        "hello",
        Duration::from_secs(60),
    );
    let long_text = "长".repeat(150);
    let long = OutboundMessage::new(
        2,
        "a",
        Priority::Normal,
        "10658899",
        dest,
        &long_text,
        Duration::from_secs(60),
    );
    let mut parts = split_message(&short, p, &smsgw_actors::proto::default_profile(p)).unwrap();
    parts.extend(split_message(&long, p, &smsgw_actors::proto::default_profile(p)).unwrap());
    assert_eq!(parts.len(), 4);
    for (i, part) in parts.iter().enumerate() {
        assert!(io.send(proto.submit(10 + i as u32, part, &creds).unwrap()));
    }
    let mut ids = HashSet::new();
    let mut seqs = HashSet::new();
    while ids.len() < 4 {
        match tokio::time::timeout(Duration::from_secs(5), erx.recv()).await {
            Ok(Some(LinkEvent::Response {
                seq,
                status: SubmitStatus::Accepted(id),
            })) => {
                assert!(seqs.insert(seq), "response matched once: {seq}");
                assert!((10..14).contains(&seq), "{seq}");
                ids.insert(id);
            }
            other => panic!("{p}: expected a response, got {other:?}"),
        }
    }
    let mut reported = HashSet::new();
    while reported.len() < 4 {
        match tokio::time::timeout(Duration::from_secs(5), drx.recv()).await {
            Ok(Some(Delivered::Report { report, .. })) => {
                assert!(report.state.is_success());
                reported.insert(report.carrier_msg_id);
            }
            other => panic!("{p}: expected a report, got {other:?}"),
        }
    }
    assert_eq!(ids, reported, "{p}: every report matches a carrier id");
    let recs = records_to(&sim, dest);
    assert_eq!(recs.len(), 4);
    assert_eq!(recs[0].text, "hello");
    let joined: String = recs[1..].iter().map(|r| r.text.as_str()).collect();
    assert_eq!(joined, long_text);

    // An MO comes through the same sink.
    let mo = smsgw_simulator::dialect::Deliverable::Mo(
        smsgw_simulator::mo::parts(p, "13700001111", "110", "help")
            .unwrap()
            .remove(0),
    );
    sim.shared().deliver(p, login(p), mo);
    match tokio::time::timeout(Duration::from_secs(5), drx.recv()).await {
        Ok(Some(Delivered::Mo(m))) => {
            assert_eq!(m.source, "13700001111");
            assert_eq!(m.destination, "110");
        }
        other => panic!("{p}: expected an MO, got {other:?}"),
    }
    io.close(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn cmpp_round_trip() {
    round_trip(CmppClient::default()).await;
}

#[tokio::test]
async fn sgip_round_trip() {
    round_trip(SgipClient::default()).await;
}

#[tokio::test]
async fn smgp_round_trip() {
    round_trip(SmgpClient::default()).await;
}

#[tokio::test]
async fn smpp_round_trip() {
    round_trip(SmppClient::default()).await;
}

#[tokio::test]
async fn wrong_password_is_refused() {
    let sim = sim().await;
    let creds = Credentials {
        login: "900001".into(),
        password: "nope".into(),
    };
    let r = link::connect(
        &CmppClient::default(),
        &addr(&sim, Protocol::Cmpp),
        &creds,
        ConnectTimeouts::default(),
    )
    .await;
    assert!(
        matches!(r, Err(smsgw_actors::LinkError::LoginRefused { .. })),
        "{:?}",
        r.err()
    );
}
