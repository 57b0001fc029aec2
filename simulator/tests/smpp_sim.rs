//! The simulator as an SMPP 3.4 SMSC over TCP on 127.0.0.1.

mod common;

use bytes::Bytes;
use common::{addr, http, start, wait_counts, Client};
use smsgw_protocols::smpp::{self, status, Bind, Body, Pdu, Smpp, SubmitSm};
use smsgw_protocols::text::{self, Encoding};
use smsgw_protocols::udh;
use smsgw_simulator::{Protocol, Simulator};

fn pdu(seq: u32, body: Body) -> Pdu {
    Pdu {
        command_status: 0,
        sequence_number: seq,
        body,
    }
}

async fn bind(sim: &Simulator, password: &str, receive: bool) -> (Client<Smpp>, u32) {
    let mut c = Client::<Smpp>::connect(addr(sim, Protocol::Smpp), smpp::Options).await;
    let b = Bind::new("smsgw", password).unwrap();
    c.send(pdu(
        1,
        if receive {
            Body::BindTransceiver(b)
        } else {
            Body::BindTransmitter(b)
        },
    ))
    .await;
    let resp = c.recv().await;
    assert!(
        matches!(
            resp.body,
            Body::BindTransceiverResp(_) | Body::BindTransmitterResp(_)
        ),
        "{resp:?}"
    );
    (c, resp.command_status)
}

fn submit(seq: u32, to: &str, content: Bytes, udhi: bool, coding: u8) -> Pdu {
    let mut s = SubmitSm::new("10658899", to, coding, content).unwrap();
    s.registered_delivery = 1;
    s.set_udhi(udhi);
    pdu(seq, Body::SubmitSm(s))
}

async fn submit_resp(c: &mut Client<Smpp>, seq: u32) -> (u32, String) {
    c.recv_until(|p| match &p.body {
        Body::SubmitSmResp(r) if p.sequence_number == seq => {
            Some((p.command_status, r.message_id.to_string()))
        }
        _ => None,
    })
    .await
}

async fn next_receipt(c: &mut Client<Smpp>) -> smsgw_protocols::report::DeliveryReport {
    c.recv_until(|p| match &p.body {
        Body::DeliverSm(d) => d.delivery_report().map(|r| r.unwrap()),
        _ => None,
    })
    .await
}

#[tokio::test]
async fn bind_ok_and_refused() {
    let sim = start().await;
    let (_c, st) = bind(&sim, "secret", true).await;
    assert_eq!(st, status::ESME_ROK);
    let (mut bad, st) = bind(&sim, "nope", true).await;
    assert_eq!(st, status::ESME_RBINDFAIL);
    assert!(bad.closed().await);
}

#[tokio::test]
async fn submit_id_receipt_and_long_message_parts() {
    let sim = start().await;
    let (mut c, _) = bind(&sim, "secret", true).await;
    c.send(submit(2, "8613800138000", Bytes::from_static(b"hello"), false, 0))
        .await;
    let (st, id) = submit_resp(&mut c, 2).await;
    assert_eq!(st, 0);
    assert_eq!(id.len(), 10, "{id}");
    let r = next_receipt(&mut c).await;
    assert_eq!(r.carrier_msg_id, id);
    assert!(r.state.is_success());

    let parts = udh::split(
        &"x".repeat(400),
        udh::SplitRule::new(Encoding::Gsm7).with_packing(udh::Gsm7Packing::Unpacked),
        7,
    )
    .unwrap();
    assert_eq!(parts.len(), 3);
    let mut ids = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        c.send(submit(10 + i as u32, "8613800138001", p.content.clone(), true, 0))
            .await;
        ids.push(submit_resp(&mut c, 10 + i as u32).await.1);
    }
    let mut reported = Vec::new();
    for _ in 0..3 {
        reported.push(next_receipt(&mut c).await.carrier_msg_id);
    }
    ids.sort();
    reported.sort();
    assert_eq!(ids, reported);
}

#[tokio::test]
async fn throttle_answers_0x58_and_transmitter_gets_no_receipts() {
    let sim = start().await;
    http(
        &sim,
        "PUT",
        "/accounts",
        Some(r#"{"protocol":"smpp","login":"smsgw","password":"secret","tps":3}"#),
    )
    .await;
    let (mut tx, _) = bind(&sim, "secret", false).await;
    for seq in 1..=10 {
        tx.send(submit(seq, "447911123456", Bytes::from_static(b"t"), false, 0))
            .await;
    }
    let mut statuses = Vec::new();
    for seq in 1..=10 {
        statuses.push(submit_resp(&mut tx, seq).await.0);
    }
    assert!(
        statuses.iter().filter(|s| **s == status::ESME_RTHROTTLED).count() >= 5,
        "{statuses:?}"
    );
    // Receipts wait for a receiver and arrive when one binds.
    let (mut rx, _) = bind(&sim, "secret", true).await;
    let r = next_receipt(&mut rx).await;
    assert!(r.state.is_success());
}

#[tokio::test]
async fn mo_in_chinese_arrives_as_ucs2_deliver_sm() {
    let sim = start().await;
    let (mut c, _) = bind(&sim, "secret", true).await;
    let body = serde_json::json!({"protocol":"smpp","from":"8613700001111","to":"1101","text":"我需要帮助"})
        .to_string();
    let (st, _) = http(&sim, "POST", "/mo", Some(&body)).await;
    assert_eq!(st, 202);
    let d = c
        .recv_until(|p| match &p.body {
            Body::DeliverSm(d) if !d.is_receipt() => Some(d.clone()),
            _ => None,
        })
        .await;
    assert_eq!(d.destination_addr, "1101");
    assert_eq!(d.data_coding, 8);
    assert_eq!(
        text::decode(&d.short_message, Encoding::Ucs2).unwrap(),
        "我需要帮助"
    );
    let (st, v) = http(
        &sim,
        "POST",
        "/mo",
        Some(r#"{"protocol":"smpp","from":"1","to":"2","text":""}"#),
    )
    .await;
    assert_eq!(st, 422, "{v}");
    assert_eq!(v["error"]["code"], "bad_text");
}

#[tokio::test]
async fn unknown_command_gets_generic_nack_and_link_survives() {
    use tokio::io::AsyncWriteExt;
    let sim = start().await;
    let (mut c, _) = bind(&sim, "secret", true).await;
    // command id 0x000000ff, sequence 77.
    c.io.get_mut()
        .write_all(&[0, 0, 0, 16, 0, 0, 0, 0xff, 0, 0, 0, 0, 0, 0, 0, 77])
        .await
        .unwrap();
    let nack = c.recv().await;
    assert_eq!(nack.body, Body::GenericNack);
    assert_eq!(nack.command_status, status::ESME_RINVCMDID);
    assert_eq!(nack.sequence_number, 77);
    c.send(pdu(78, Body::EnquireLink)).await;
    let r = c
        .recv_until(|p| (p.sequence_number == 78).then_some(p.body.clone()))
        .await;
    assert_eq!(r, Body::EnquireLinkResp);
    let counts = wait_counts(&sim, |c| c["bad_pdus"] == 1).await;
    assert_eq!(counts["bad_pdus"], 1);
}

#[tokio::test]
async fn early_reports_arrive_before_the_response() {
    let sim = start().await;
    http(
        &sim,
        "PUT",
        "/reports",
        Some(r#"{"delay_ms":[0,0],"early_fraction":1.0}"#),
    )
    .await;
    let (mut c, _) = bind(&sim, "secret", true).await;
    c.send(submit(5, "8613800138009", Bytes::from_static(b"early"), false, 0))
        .await;
    let first = c.recv().await;
    let Body::DeliverSm(d) = &first.body else {
        panic!("report first, got {first:?}")
    };
    let report = d.delivery_report().unwrap().unwrap();
    let (_, id) = submit_resp(&mut c, 5).await;
    assert_eq!(report.carrier_msg_id, id);
}
