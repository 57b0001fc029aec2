//! The SMPP server for applications against a real node (the demo node:
//! its in-process simulator is the carrier): bind with the demo account's
//! generated password, submit, get `submit_sm_resp` with our message id
//! after the commit and every receipt back as `deliver_sm` carrying that
//! id; a wrong password is refused, a bad PDU gets `generic_nack`, and a
//! second account's session sees only its own receipts.

mod apps_support;
mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use apps_support::{apply_demo_doc, bind_eventually, demo_password, ready_addr, Kind, SmppClient};
use bytes::Bytes;
use common::Node;
use smsgw_protocols::smpp::tlv::Octets;
use smsgw_protocols::smpp::{status, Body, Receipt, SubmitSm, Tlv};
use smsgw_protocols::text::Encoding;

fn node() -> Node {
    Node::start(&["--smpp-addr", "127.0.0.1:0", "--cmpp-addr", "127.0.0.1:0"])
}

#[test]
fn an_app_binds_submits_and_gets_every_receipt_with_our_message_id() {
    let node = node();
    let addr = ready_addr(&node, "smpp=");
    let pw = demo_password(&node);
    assert_eq!(pw.len(), 8);
    let banner = node.stdout.join("\n");
    assert!(
        banner.contains("system_id demo") && banner.contains("sp_id 900100"),
        "{banner}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(node.data().join("demo-password"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // A wrong password is refused and the connection closed.
    let (mut bad, st) = SmppClient::bind(&addr, Kind::Transceiver, "demo", "wrong");
    assert_eq!(st, status::ESME_RINVPASWD);
    assert!(
        bad.read(Duration::from_secs(3)).is_none(),
        "closed after a refused bind"
    );
    let (_, st) = SmppClient::bind(&addr, Kind::Transceiver, "nobody", &pw);
    assert_eq!(
        st,
        status::ESME_RINVPASWD,
        "an unknown id is refused the same way"
    );

    let (mut app, st) = SmppClient::bind(&addr, Kind::Transceiver, "demo", &pw);
    assert_eq!(st, 0);
    let numbers = [
        "13800138001",
        "13800138002",
        "13300133003",
        "447700900004",
        "13100131005",
    ];
    let seqs: Vec<u32> = numbers
        .iter()
        .map(|n| app.submit(n, &format!("hello {n}")))
        .collect();
    assert!(
        app.pump(30, |c| c.resps.len() == seqs.len()),
        "answers: {:?}",
        app.resps
    );
    let mut ids = BTreeSet::new();
    for (seq, st, id) in &app.resps {
        assert!(seqs.contains(seq));
        assert_eq!(*st, 0, "submit {seq} refused");
        assert!(!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()), "{id}");
        ids.insert(id.clone());
    }
    assert_eq!(ids.len(), numbers.len(), "one id per message");
    // Committed before the answer: readable through the API at once.
    let key = node.demo_key();
    for id in &ids {
        let r = node.call("GET", &format!("/v1/messages/{id}"), Some(&key), None);
        assert_eq!(r.status, 200, "{:?}", r.body);
    }
    let got = app.pump(60, |c| {
        let r: BTreeSet<String> = c.receipt_ids().into_iter().collect();
        ids.is_subset(&r)
    });
    assert!(got, "receipts {:?} for {ids:?}", app.receipt_ids());
    for d in app.delivered.iter().filter(|d| d.is_receipt()) {
        let r = Receipt::parse(&d.short_message).expect("receipt text");
        assert_eq!(Some(r.id.as_str()), d.tlvs.receipted_message_id());
        assert_eq!(r.stat, "DELIVRD");
        assert_eq!(d.tlvs.message_state(), Some(2));
    }

    // An MO to the account's service code comes back as a deliver_sm.
    let mo = serde_json::json!({"protocol": "cmpp", "from": "13900002222", "to": "1069000456", "text": "上行 SMPP"});
    let r = common::http(
        &common::sim_control(&node),
        "POST",
        "/mo",
        None,
        Some(mo.to_string().as_bytes()),
    );
    assert_eq!(r.status, 202, "{:?}", r.body);
    let mos = |c: &SmppClient| -> Vec<(String, String, String)> {
        c.delivered
            .iter()
            .filter(|d| !d.is_receipt())
            .map(|d| {
                let enc = Encoding::from_data_coding(d.data_coding).expect("data_coding");
                let text = smsgw_protocols::text::decode(d.payload(), enc).expect("text");
                (
                    d.source_addr.as_str().into(),
                    d.destination_addr.as_str().into(),
                    text,
                )
            })
            .collect()
    };
    assert!(app.pump(30, |c| !mos(c).is_empty()), "no MO");
    assert_eq!(
        mos(&app),
        vec![("13900002222".into(), "1069000456".into(), "上行 SMPP".into())]
    );

    // enquire_link, a bad PDU, unbind.
    let seq = app.send(Body::EnquireLink);
    let r = app.read(Duration::from_secs(5)).expect("enquire_link_resp");
    assert_eq!((r.sequence_number, &r.body), (seq, &Body::EnquireLinkResp));
    app.send_raw(&[0, 0, 0, 16, 0, 0, 0, 0x99, 0, 0, 0, 0, 0, 0, 0, 77]);
    let r = app.read(Duration::from_secs(5)).expect("generic_nack");
    assert_eq!(
        (r.sequence_number, r.command_status, &r.body),
        (77, status::ESME_RINVCMDID, &Body::GenericNack)
    );
    let seq = app.send(Body::Unbind);
    let r = app.read(Duration::from_secs(5)).expect("unbind_resp");
    assert_eq!((r.sequence_number, &r.body), (seq, &Body::UnbindResp));
    assert!(app.read(Duration::from_secs(3)).is_none(), "closed after unbind");
}

#[test]
fn a_second_account_sees_only_its_own_receipts() {
    let node = node();
    let addr = ready_addr(&node, "smpp=");
    let pw = demo_password(&node);
    apply_demo_doc(&node, |doc| {
        let mut other = doc.accounts[0].clone();
        other.name = "other".into();
        other.api_key_hashes = vec![smsgw_config::ApiKeyHash::of("sk_other_0123456789abcdef")];
        other.service_codes = vec!["1069000777".into()];
        other.apps = Some(smsgw_config::AppLogins {
            system_id: Some("other".into()),
            password: Some("otherpw1".into()),
            sp_id: Some("900777".into()),
            secret: Some("other-secret".into()),
            tps: None,
        });
        doc.accounts[0].service_codes.retain(|c| c != "1069000");
        doc.accounts.push(other);
        doc.admin.api_key_hashes = vec![smsgw_config::ApiKeyHash::of(ADMIN)];
    });
    let mut other = bind_eventually(&addr, Kind::Transceiver, "other", "otherpw1");
    let mut demo = bind_eventually(&addr, Kind::Receiver, "demo", &pw);
    // A receiver cannot submit.
    let seq = demo.submit("13800138000", "no");
    let r = demo.read(Duration::from_secs(5)).expect("answer");
    assert_eq!(
        (r.sequence_number, r.command_status),
        (seq, status::ESME_RINVBNDSTS)
    );

    for n in ["13800138011", "13800138012", "13800138013"] {
        other.submit(n, "from other");
    }
    assert!(other.pump(30, |c| c.resps.len() == 3));
    let other_ids: BTreeSet<String> = other.resps.iter().map(|r| r.2.clone()).collect();
    assert!(other.resps.iter().all(|r| r.1 == 0), "{:?}", other.resps);
    // The demo account's own message, sent over HTTP.
    let r = node.post(
        &node.demo_key(),
        &serde_json::json!({"to": ["13800138099"], "text": "from demo"}),
    );
    assert_eq!(r.status, 202, "{:?}", r.body);
    let demo_id = r.body["messages"][0]["id"].as_str().expect("id").to_string();

    assert!(
        other.pump(60, |c| c.receipt_ids().len() >= 3),
        "other's receipts: {:?}",
        other.receipt_ids()
    );
    assert!(demo.pump(60, |c| !c.receipt_ids().is_empty()), "demo's receipt");
    // A little longer: nothing of the other account may follow.
    other.pump(2, |_| false);
    demo.pump(2, |_| false);
    let got_other: BTreeSet<String> = other.receipt_ids().into_iter().collect();
    assert_eq!(got_other, other_ids);
    let got_demo: BTreeSet<String> = demo.receipt_ids().into_iter().collect();
    assert_eq!(got_demo, BTreeSet::from([demo_id]));

    // The node lists both sessions to an admin, without their passwords.
    let r = node.call("GET", "/v1/admin/sessions", Some(ADMIN), None);
    assert_eq!(r.status, 200, "{:?}", r.body);
    let mut seen: Vec<(String, String)> = r.body["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .map(|s| {
            (
                s["account"].as_str().unwrap_or("").into(),
                s["mode"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        vec![
            ("demo".into(), "receiver".into()),
            ("other".into(), "transceiver".into())
        ]
    );
    assert!(!r.body.to_string().contains("otherpw1"));
    let other_row = r.body["sessions"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["account"] == "other").cloned())
        .expect("other's session");
    assert_eq!(other_row["submits"], 3);
    let m = node.call("GET", "/metrics", None, None);
    let text = m.body.as_str().unwrap_or_default().to_string();
    for want in [
        "smsgw_app_sessions{account=\"other\"} 1",
        "smsgw_app_sessions{account=\"demo\"} 1",
        "smsgw_app_submits_total{account=\"other\",result=\"accepted\"} 3",
        "smsgw_app_events_pending{account=\"other\"}",
    ] {
        assert!(text.contains(want), "{want} in {text}");
    }
    let r = node.call("GET", "/v1/admin/sessions", Some(&node.demo_key()), None);
    assert_eq!(r.status, 403, "an account key is not an admin key");
}

const ADMIN: &str = "sk_admin_0123456789abcdef";

/// Segments of `text` in UCS-2, `per` characters each.
fn ucs2_chunks(text: &str, per: usize) -> Vec<Vec<u8>> {
    let chars: Vec<char> = text.chars().collect();
    chars
        .chunks(per)
        .map(|c| smsgw_protocols::text::encode(&c.iter().collect::<String>(), Encoding::Ucs2).expect("ucs2"))
        .collect()
}

#[test]
fn long_messages_arrive_as_one_and_an_account_over_its_rate_is_throttled() {
    let node = node();
    let addr = ready_addr(&node, "smpp=");
    let pw = demo_password(&node);
    apply_demo_doc(&node, |doc| {
        let mut slow = doc.accounts[0].clone();
        slow.name = "slow".into();
        slow.api_key_hashes = vec![smsgw_config::ApiKeyHash::of("sk_slow_0123456789abcdef")];
        slow.service_codes.clear();
        slow.apps = Some(smsgw_config::AppLogins {
            system_id: Some("slow".into()),
            password: Some("slowpw12".into()),
            sp_id: None,
            secret: None,
            tps: Some(2),
        });
        doc.accounts.push(slow);
    });
    let mut app = bind_eventually(&addr, Kind::Transceiver, "demo", &pw);
    let text = "长短信测试".repeat(30);
    // UDH segments (8-bit reference), out of order.
    let chunks = ucs2_chunks(&text, 67);
    let total = chunks.len() as u8;
    let mut udh_seqs = Vec::new();
    for (i, c) in chunks.iter().enumerate().rev() {
        let mut content = vec![5, 0, 3, 0x2a, total, i as u8 + 1];
        content.extend_from_slice(c);
        let mut sm = SubmitSm::new("", "13800138301", 8, Bytes::from(content)).unwrap();
        sm.esm_class = 0x40;
        sm.registered_delivery = 1;
        udh_seqs.push(app.send(Body::SubmitSm(sm)));
    }
    // sar_* TLVs.
    let mut sar_seqs = Vec::new();
    for (i, c) in chunks.iter().enumerate() {
        let mut sm = SubmitSm::new("", "13800138302", 8, Bytes::from(c.clone())).unwrap();
        sm.registered_delivery = 1;
        for t in smsgw_protocols::smpp::sm::sar_tlvs(0x1234, total, i as u8 + 1) {
            sm.tlvs.push(t);
        }
        sar_seqs.push(app.send(Body::SubmitSm(sm)));
    }
    // message_payload.
    let whole = smsgw_protocols::text::encode(&text, Encoding::Ucs2).unwrap();
    let mut sm = SubmitSm::new("", "13800138303", 8, Bytes::new()).unwrap();
    sm.registered_delivery = 1;
    sm.tlvs.push(Tlv::MessagePayload(Octets(Bytes::from(whole))));
    let payload_seq = app.send(Body::SubmitSm(sm));
    let n = udh_seqs.len() + sar_seqs.len() + 1;
    assert!(app.pump(30, |c| c.resps.len() == n), "{:?}", app.resps);
    let id_of = |seq: &u32| {
        let r = app.resps.iter().find(|r| r.0 == *seq).expect("answered");
        assert_eq!(r.1, 0, "segment {seq} refused");
        r.2.clone()
    };
    let key = node.demo_key();
    for group in [udh_seqs.clone(), sar_seqs.clone(), vec![payload_seq]] {
        let ids: BTreeSet<String> = group.iter().map(id_of).collect();
        assert_eq!(ids.len(), 1, "every segment answered with the one message's id");
        let id = ids.into_iter().next().unwrap();
        let r = node.call("GET", &format!("/v1/messages/{id}"), Some(&key), None);
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(
            r.body["parts"].as_array().map(Vec::len),
            Some(chunks.len()),
            "{:?}",
            r.body
        );
    }

    // Two submits a second: a burst of ten is mostly throttled.
    let mut slow = bind_eventually(&addr, Kind::Transmitter, "slow", "slowpw12");
    for i in 0..10 {
        slow.submit(&format!("1380013840{i}"), "fast");
    }
    assert!(slow.pump(30, |c| c.resps.len() == 10));
    let throttled = slow
        .resps
        .iter()
        .filter(|r| r.1 == status::ESME_RTHROTTLED)
        .count();
    let ok = slow.resps.iter().filter(|r| r.1 == 0).count();
    assert!(
        ok >= 1 && throttled >= 5 && ok + throttled == 10,
        "{:?}",
        slow.resps
    );
    let m = node.call("GET", "/metrics", None, None);
    let text = m.body.as_str().unwrap_or_default().to_string();
    assert!(
        text.contains("smsgw_app_throttled_total{account=\"slow\"}"),
        "{text}"
    );
}
