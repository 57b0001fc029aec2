//! The simulator as a CMPP 2.0/3.0 ISMG, over TCP on 127.0.0.1, driven by a
//! bare client made of the protocols crate's framing.

mod common;

use bytes::Bytes;
use common::{addr, http, start, wait_counts, Client};
use smsgw_protocols::cmpp::{self, result, Body, Cmpp, CmppVersion, Connect, MsgId, Pdu, Submit};
use smsgw_protocols::text::{self, Encoding};
use smsgw_protocols::udh;
use smsgw_protocols::FixedStr;
use smsgw_simulator::{Protocol, Simulator};

async fn login(sim: &Simulator, version: CmppVersion, password: &str) -> (Client<Cmpp>, u32) {
    let mut c = Client::<Cmpp>::connect(addr(sim, Protocol::Cmpp), cmpp::Options::new(version)).await;
    let connect = Connect::new("900001", password, cmpp::timestamp_now(), version).unwrap();
    c.send(Pdu::new(1, Body::Connect(connect))).await;
    let status = match c.recv().await.body {
        Body::ConnectResp(r) => r.status,
        other => panic!("expected CONNECT_RESP, got {other:?}"),
    };
    (c, status)
}

fn submit(seq: u32, to: &str, content: Bytes, udhi: bool, fmt: u8) -> Pdu {
    let mut s = Submit {
        registered_delivery: 1,
        msg_fmt: fmt,
        src_id: FixedStr::new("10658899").unwrap(),
        msg_src: FixedStr::new("900001").unwrap(),
        dest_terminal_ids: vec![FixedStr::new(to).unwrap()],
        msg_content: content,
        ..Submit::default()
    };
    s.set_udhi(udhi);
    Pdu::new(seq, Body::Submit(Box::new(s)))
}

fn text_submit(seq: u32, to: &str, t: &str) -> Pdu {
    submit(
        seq,
        to,
        Bytes::from(text::encode(t, Encoding::Ucs2).unwrap()),
        false,
        8,
    )
}

async fn submit_resp(c: &mut Client<Cmpp>, seq: u32) -> cmpp::SubmitResp {
    c.recv_until(|p| match &p.body {
        Body::SubmitResp(r) if p.sequence_id == seq => Some(*r),
        _ => None,
    })
    .await
}

/// The next status report, acknowledged as a well-behaved SP does.
async fn next_report(c: &mut Client<Cmpp>) -> cmpp::Report {
    let (report, seq) = c
        .recv_until(|p| match &p.body {
            Body::Deliver(d) if d.is_report() => d.report().unwrap().map(|r| (r, p.sequence_id)),
            _ => None,
        })
        .await;
    let ack = cmpp::DeliverResp {
        msg_id: MsgId(0),
        result: 0,
    };
    c.send(Pdu::new(seq, Body::DeliverResp(ack))).await;
    report
}

#[tokio::test]
async fn login_ok_and_refused_in_both_versions() {
    let sim = start().await;
    let (_c, status) = login(&sim, CmppVersion::V30, "secret").await;
    assert_eq!(status, result::OK);
    let (_c2, status) = login(&sim, CmppVersion::V20, "secret").await;
    assert_eq!(status, result::OK, "2.0 login answered in 2.0");
    let (mut bad, status) = login(&sim, CmppVersion::V30, "wrong").await;
    assert_eq!(status, result::CONNECT_AUTH_FAILED);
    assert!(bad.closed().await, "refused login is closed");
    let c = wait_counts(&sim, |c| c["logins_refused"] == 1).await;
    assert_eq!(c["logins_ok"], 2);
}

#[tokio::test]
async fn submit_gets_an_id_and_a_matching_report() {
    let sim = start().await;
    for version in [CmppVersion::V30, CmppVersion::V20] {
        let (mut c, _) = login(&sim, version, "secret").await;
        c.send(text_submit(7, "13800138000", "台风预警")).await;
        let r = submit_resp(&mut c, 7).await;
        assert_eq!(r.result, result::OK);
        assert_eq!(r.msg_id.gateway(), 1234, "well-formed id: {}", r.msg_id);
        let report = next_report(&mut c).await;
        assert_eq!(report.msg_id, r.msg_id);
        assert_eq!(report.stat, "DELIVRD");
        assert_eq!(report.dest_terminal_id, "13800138000");
    }
    let (_, recs) = http(&sim, "GET", "/submits?destination=13800138000", None).await;
    assert_eq!(recs.as_array().unwrap().len(), 2);
    assert_eq!(recs[0]["text"], "台风预警");
}

#[tokio::test]
async fn long_message_parts_each_reported() {
    let sim = start().await;
    let (mut c, _) = login(&sim, CmppVersion::V30, "secret").await;
    let long = "长".repeat(150);
    let parts = udh::split(&long, udh::SplitRule::new(Encoding::Ucs2), 42).unwrap();
    assert_eq!(parts.len(), 3);
    let mut ids = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        let seq = 100 + i as u32;
        c.send(submit(seq, "13900000000", p.content.clone(), true, 8))
            .await;
        ids.push(submit_resp(&mut c, seq).await.msg_id);
    }
    let mut reported: Vec<MsgId> = Vec::new();
    for _ in 0..3 {
        reported.push(next_report(&mut c).await.msg_id);
    }
    ids.sort_by_key(|m| m.0);
    reported.sort_by_key(|m| m.0);
    assert_eq!(ids, reported);
    let (_, recs) = http(&sim, "GET", "/submits?destination=13900000000", None).await;
    let seqs: Vec<u64> = recs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["concat"]["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, vec![1, 2, 3]);
}

#[tokio::test]
async fn window_and_tps_overflow_get_flow_control() {
    let sim = start().await;
    // Window 2 and responses held 300 ms: the 3rd and 4th submit overflow.
    http(
        &sim,
        "PUT",
        "/accounts",
        Some(r#"{"protocol":"cmpp","login":"900001","password":"secret","window":2}"#),
    )
    .await;
    http(&sim, "PUT", "/faults", Some(r#"{"delay_ms":300}"#)).await;
    let (mut c, _) = login(&sim, CmppVersion::V30, "secret").await;
    for seq in 1..=4 {
        c.send(text_submit(seq, "13800000001", "w")).await;
    }
    let mut results = Vec::new();
    for seq in 1..=4 {
        results.push(submit_resp(&mut c, seq).await.result);
    }
    results.sort();
    assert_eq!(results, vec![0, 0, result::FLOW_CONTROL, result::FLOW_CONTROL]);

    http(&sim, "PUT", "/faults", Some("{}")).await;
    http(
        &sim,
        "PUT",
        "/accounts",
        Some(r#"{"protocol":"cmpp","login":"900001","password":"secret","tps":5}"#),
    )
    .await;
    for seq in 10..30 {
        c.send(text_submit(seq, "13800000002", "t")).await;
    }
    let mut throttled = 0;
    for seq in 10..30 {
        if submit_resp(&mut c, seq).await.result == result::THROTTLED {
            throttled += 1;
        }
    }
    assert!(throttled >= 10, "only {throttled} of 20 throttled at 5 TPS");
    let counts = wait_counts(&sim, |c| c["throttled"].as_u64() >= Some(10)).await;
    assert_eq!(counts["window_rejected"], 2);
}

#[tokio::test]
async fn mo_injected_reaches_the_client_in_parts() {
    let sim = start().await;
    let (mut c, _) = login(&sim, CmppVersion::V30, "secret").await;
    let text = "有人抢劫，地点在人民路与解放路交叉口，请速来。".repeat(4);
    let body = serde_json::json!({"protocol":"cmpp","from":"13700001111","to":"110","text":text}).to_string();
    let (status, v) = http(&sim, "POST", "/mo", Some(&body)).await;
    assert_eq!(status, 202, "{v}");
    let n = v["parts"].as_u64().unwrap() as usize;
    assert!(n >= 2);
    let mut got = String::new();
    for _ in 0..n {
        let d = c
            .recv_until(|p| match &p.body {
                Body::Deliver(d) if !d.is_report() => Some(d.clone()),
                _ => None,
            })
            .await;
        assert_eq!(d.dest_id, "110");
        assert_eq!(d.src_terminal_id, "13700001111");
        let (_, payload) = udh::parse_udh(&d.msg_content).unwrap();
        got.push_str(&text::decode(payload, Encoding::Ucs2).unwrap());
    }
    assert_eq!(got, text);
}

/// True when no SUBMIT_RESP arrives within 300 ms (reports may).
async fn no_submit_resp(c: &mut Client<Cmpp>) -> bool {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_millis(300);
    loop {
        match tokio::time::timeout_at(deadline, futures::StreamExt::next(&mut c.io)).await {
            Err(_) => return true,
            Ok(Some(Ok(Ok(Pdu {
                body: Body::SubmitResp(_),
                ..
            })))) => return false,
            Ok(Some(_)) => continue,
            Ok(None) => return true,
        }
    }
}

#[tokio::test]
async fn faults_are_applied() {
    let sim = start().await;
    // Refused logins.
    http(&sim, "PUT", "/faults", Some(r#"{"refuse_logins":true}"#)).await;
    let (_c, status) = login(&sim, CmppVersion::V30, "secret").await;
    assert_eq!(status, result::CONNECT_AUTH_FAILED);
    // Drop after 2 submits.
    http(&sim, "PUT", "/faults", Some(r#"{"drop_after_submits":2}"#)).await;
    let (mut c, _) = login(&sim, CmppVersion::V30, "secret").await;
    c.send(text_submit(1, "13800000003", "a")).await;
    c.send(text_submit(2, "13800000003", "b")).await;
    assert!(c.closed().await, "dropped after 2 submits");
    // Stall: no answer at all.
    http(&sim, "PUT", "/faults", Some(r#"{"stall":true}"#)).await;
    let (mut c, _) = login(&sim, CmppVersion::V30, "secret").await;
    c.send(text_submit(3, "13800000003", "c")).await;
    assert!(no_submit_resp(&mut c).await, "stalled carrier answered");
    // Garbage: the response is not a CMPP frame we can use.
    http(&sim, "PUT", "/faults", Some(r#"{"garbage":true}"#)).await;
    let (mut c, _) = login(&sim, CmppVersion::V30, "secret").await;
    c.send(text_submit(4, "13800000003", "d")).await;
    let got = tokio::time::timeout(common::WAIT, futures::StreamExt::next(&mut c.io))
        .await
        .unwrap();
    assert!(
        !matches!(
            got,
            Some(Ok(Ok(Pdu {
                body: Body::SubmitResp(_),
                ..
            })))
        ),
        "{got:?}"
    );
    // Stop reports: accepted, never reported.
    http(&sim, "PUT", "/faults", Some(r#"{"stop_reports":true}"#)).await;
    let (mut c, _) = login(&sim, CmppVersion::V30, "secret").await;
    c.send(text_submit(5, "13800000004", "e")).await;
    assert_eq!(submit_resp(&mut c, 5).await.result, 0);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_millis(300);
    while let Ok(Some(Ok(Ok(p)))) =
        tokio::time::timeout_at(deadline, futures::StreamExt::next(&mut c.io)).await
    {
        if let Body::Deliver(d) = &p.body {
            let r = d.report().unwrap();
            assert!(
                r.is_none_or(|r| r.dest_terminal_id != "13800000004"),
                "a report came despite stop_reports"
            );
        }
    }
    // Drop now.
    http(&sim, "PUT", "/faults", Some("{}")).await;
    let (mut c, _) = login(&sim, CmppVersion::V30, "secret").await;
    http(&sim, "POST", "/faults/drop", None).await;
    assert!(c.closed().await);
}

#[tokio::test]
async fn bad_input_never_crashes_the_simulator() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let sim = start().await;
    let a = addr(&sim, Protocol::Cmpp);
    // Garbage, an oversized length, and a submit before login: each closed.
    for junk in [
        &b"GET / HTTP/1.1\r\n\r\n"[..],
        &[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 4][..],
        &[0, 0, 0, 12, 0, 0, 0, 8, 0, 0, 0, 1][..],
    ] {
        let mut s = tokio::net::TcpStream::connect(a).await.unwrap();
        s.write_all(junk).await.unwrap();
        let mut buf = Vec::new();
        let r = tokio::time::timeout(common::WAIT, s.read_to_end(&mut buf)).await;
        assert!(r.is_ok(), "connection closed after {junk:?}");
    }
    // A submit before login is answered with an error and closed.
    let mut c = Client::<Cmpp>::connect(a, cmpp::Options::default()).await;
    c.send(text_submit(9, "13800000005", "x")).await;
    match c.recv().await.body {
        Body::SubmitResp(r) => assert_ne!(r.result, 0),
        other => panic!("{other:?}"),
    }
    assert!(c.closed().await);
    let counts = wait_counts(&sim, |c| c["bad_pdus"].as_u64() >= Some(3)).await;
    assert!(counts["bad_pdus"].as_u64().unwrap() >= 3, "{counts}");
    // Still serving.
    let (_c, status) = login(&sim, CmppVersion::V30, "secret").await;
    assert_eq!(status, 0);
}

#[tokio::test]
async fn ten_thousand_submits_over_four_connections_counted_once() {
    let sim = start().await;
    http(
        &sim,
        "PUT",
        "/reports",
        Some(r#"{"delay_ms":[0,0],"early_fraction":0.0}"#),
    )
    .await;
    let mut tasks = Vec::new();
    for conn in 0..4u32 {
        let (mut c, _) = login(&sim, CmppVersion::V30, "secret").await;
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            // Pipelined in windows of 16, as a real SP would.
            for batch in 0..(2500 / 25) {
                for k in 0..25u32 {
                    let n = conn * 2500 + batch * 25 + k;
                    let mut pdu = text_submit(n + 1, &format!("1380{n:07}"), "load");
                    if let Body::Submit(s) = &mut pdu.body {
                        s.registered_delivery = 0;
                    }
                    c.send(pdu).await;
                }
                for k in 0..25u32 {
                    let n = conn * 2500 + batch * 25 + k;
                    let r = submit_resp(&mut c, n + 1).await;
                    assert_eq!(r.result, 0);
                    ids.push(r.msg_id.0);
                }
            }
            ids
        }));
    }
    let mut all = std::collections::HashSet::new();
    for t in tasks {
        for id in t.await.unwrap() {
            assert!(all.insert(id), "duplicate carrier id {id}");
        }
    }
    assert_eq!(all.len(), 10_000);
    let counts = wait_counts(&sim, |c| c["submits"] == 10_000).await;
    assert_eq!(counts["submits"], 10_000);
    assert_eq!(counts["distinct_destinations"], 10_000, "each counted once");
}

#[tokio::test]
async fn idle_connections_are_closed() {
    let mut cfg = smsgw_simulator::SimConfig::for_tests();
    cfg.idle_timeout_secs = 1;
    let sim = common::start_with(cfg).await;
    let (mut c, status) = login(&sim, CmppVersion::V30, "secret").await;
    assert_eq!(status, 0);
    // Say nothing (not even to the simulator's own ACTIVE_TEST): closed.
    assert!(c.closed().await, "idle link closed");
    let counts = wait_counts(&sim, |c| c["idle_closed"] == 1).await;
    assert_eq!(counts["idle_closed"], 1);
}

#[tokio::test]
async fn unacknowledged_reports_are_delivered_again_on_another_link() {
    let sim = start().await;
    let (mut first, _) = login(&sim, CmppVersion::V30, "secret").await;
    first.send(text_submit(1, "13800000077", "ack me")).await;
    let id = submit_resp(&mut first, 1).await.msg_id;
    let report = first
        .recv_until(|p| match &p.body {
            Body::Deliver(d) if d.is_report() => d.report().unwrap(),
            _ => None,
        })
        .await;
    assert_eq!(report.msg_id, id);
    // The client dies without answering the DELIVER.
    drop(first);

    let (mut second, _) = login(&sim, CmppVersion::V30, "secret").await;
    let (again, seq) = second
        .recv_until(|p| match &p.body {
            Body::Deliver(d) if d.is_report() => d.report().unwrap().map(|r| (r, p.sequence_id)),
            _ => None,
        })
        .await;
    assert_eq!(again.msg_id, id, "the same report, again");
    let counts = wait_counts(&sim, |c| c["redelivered"] == 1).await;
    assert_eq!(counts["redelivered"], 1);
    // Acknowledged this time: not delivered a third time.
    second
        .send(Pdu::new(
            seq,
            Body::DeliverResp(cmpp::DeliverResp {
                msg_id: MsgId(0),
                result: 0,
            }),
        ))
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    drop(second);
    let (mut third, _) = login(&sim, CmppVersion::V30, "secret").await;
    let quiet = tokio::time::timeout(
        std::time::Duration::from_millis(300),
        futures::StreamExt::next(&mut third.io),
    )
    .await;
    assert!(quiet.is_err(), "an acknowledged report came back: {quiet:?}");
    assert_eq!(http(&sim, "GET", "/counts", None).await.1["redelivered"], 1);
}
