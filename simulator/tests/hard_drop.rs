//! The "hard drop" fault: a carrier link that dies with requests in flight,
//! unanswered — unlike the polite drop, which answers what is queued first.
//! This is what makes a gateway resend a submit the carrier already took.

mod common;

use bytes::Bytes;
use common::{addr, http, start, Client};
use smsgw_protocols::cmpp::{self, Body, Cmpp, CmppVersion, Connect, Pdu, Submit};
use smsgw_protocols::text::{self, Encoding};
use smsgw_protocols::FixedStr;
use smsgw_simulator::ledger::Filter;
use smsgw_simulator::{Protocol, Simulator};

async fn login(sim: &Simulator) -> Client<Cmpp> {
    let mut c =
        Client::<Cmpp>::connect(addr(sim, Protocol::Cmpp), cmpp::Options::new(CmppVersion::V30)).await;
    let connect = Connect::new("900001", "secret", cmpp::timestamp_now(), CmppVersion::V30).unwrap();
    c.send(Pdu::new(1, Body::Connect(connect))).await;
    match c.recv().await.body {
        Body::ConnectResp(r) => assert_eq!(r.status, 0),
        other => panic!("expected CONNECT_RESP, got {other:?}"),
    }
    c
}

fn text_submit(seq: u32, to: &str) -> Pdu {
    let s = Submit {
        registered_delivery: 0,
        msg_fmt: 8,
        src_id: FixedStr::new("10658899").unwrap(),
        msg_src: FixedStr::new("900001").unwrap(),
        dest_terminal_ids: vec![FixedStr::new(to).unwrap()],
        msg_content: Bytes::from(text::encode("hard", Encoding::Ucs2).unwrap()),
        ..Submit::default()
    };
    Pdu::new(seq, Body::Submit(Box::new(s)))
}

/// Reads until the link closes; returns the sequence ids of the SUBMIT_RESPs seen.
async fn answers_until_closed(c: &mut Client<Cmpp>) -> Vec<u32> {
    let mut seen = Vec::new();
    loop {
        match tokio::time::timeout(common::WAIT, futures::StreamExt::next(&mut c.io)).await {
            Ok(Some(Ok(Ok(p)))) => {
                if matches!(p.body, Body::SubmitResp(_)) {
                    seen.push(p.sequence_id);
                }
            }
            Ok(None) | Ok(Some(Err(_))) | Ok(Some(Ok(Err(_)))) => return seen,
            Err(_) => panic!("the link was not closed within {:?}", common::WAIT),
        }
    }
}

fn recorded(sim: &Simulator, to: &str) -> usize {
    let f = Filter {
        destination: Some(to.into()),
        ..Filter::default()
    };
    sim.shared().ledger.submits(&f).len()
}

#[tokio::test]
async fn hard_drop_after_submits_takes_the_last_submit_and_never_answers_it() {
    let sim = start().await;
    let (status, _) = http(&sim, "PUT", "/faults", Some(r#"{"hard_drop_after_submits":2}"#)).await;
    assert_eq!(status, 200);
    let mut c = login(&sim).await;
    c.send(text_submit(10, "13800000101")).await;
    c.send(text_submit(11, "13800000102")).await;
    assert_eq!(
        answers_until_closed(&mut c).await,
        vec![10],
        "only the first submit is answered"
    );
    // Both are at the carrier: a gateway that resends #11 sends it twice.
    assert_eq!(
        (recorded(&sim, "13800000101"), recorded(&sim, "13800000102")),
        (1, 1)
    );

    // The polite drop answers the submit that triggers it.
    http(&sim, "PUT", "/faults", Some(r#"{"drop_after_submits":2}"#)).await;
    let mut c = login(&sim).await;
    c.send(text_submit(20, "13800000103")).await;
    c.send(text_submit(21, "13800000104")).await;
    assert_eq!(answers_until_closed(&mut c).await, vec![20, 21]);
}

#[tokio::test]
async fn hard_drop_now_closes_every_link_with_its_held_responses_unanswered() {
    let sim = start().await;
    // Responses held 2 s: in flight when the drop comes.
    http(&sim, "PUT", "/faults", Some(r#"{"delay_ms":2000}"#)).await;
    let mut a = login(&sim).await;
    let mut b = login(&sim).await;
    a.send(text_submit(30, "13800000201")).await;
    b.send(text_submit(31, "13800000202")).await;
    common::wait_counts(&sim, |c| c["submits"] == 2).await;
    let (status, body) = http(&sim, "POST", "/faults/hard-drop", None).await;
    assert_eq!((status, body["hard"].as_bool()), (202, Some(true)));
    let started = std::time::Instant::now();
    assert!(
        answers_until_closed(&mut a).await.is_empty(),
        "a held response went out"
    );
    assert!(
        answers_until_closed(&mut b).await.is_empty(),
        "a held response went out"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_millis(1500),
        "closed at once, not after the delay"
    );
    assert_eq!(recorded(&sim, "13800000201") + recorded(&sim, "13800000202"), 2);
    let counts = http(&sim, "GET", "/counts", None).await.1;
    assert_eq!(counts["faults_dropped"], 2);
}

/// Drills tell which node sent a part by the connection it came on: the
/// ledger keeps the simulator's connection number and the client's address.
#[tokio::test]
async fn every_submit_records_its_connection_and_the_senders_address() {
    let sim = start().await;
    let mut a = login(&sim).await;
    let mut b = login(&sim).await;
    a.send(text_submit(40, "13800000301")).await;
    b.send(text_submit(41, "13800000302")).await;
    common::wait_counts(&sim, |c| c["submits"] == 2).await;
    let rec = |to: &str| {
        let f = Filter {
            destination: Some(to.into()),
            ..Filter::default()
        };
        sim.shared().ledger.submits(&f).remove(0)
    };
    let (ra, rb) = (rec("13800000301"), rec("13800000302"));
    let local = |c: &Client<Cmpp>| c.io.get_ref().local_addr().unwrap().to_string();
    assert_eq!(ra.peer, Some(local(&a)));
    assert_eq!(rb.peer, Some(local(&b)));
    assert_ne!(ra.conn, rb.conn, "two links, two connection numbers");
    assert!(ra.conn >= 1 && rb.conn >= 1);
    // The control API shows them too.
    let (_, body) = http(&sim, "GET", "/submits?destination=13800000301", None).await;
    assert_eq!(body[0]["peer"].as_str(), ra.peer.as_deref());
    assert_eq!(body[0]["conn"], ra.conn);
}
