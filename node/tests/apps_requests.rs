//! The application servers beyond plain submits, against a real node (the
//! demo node; its in-process simulator is the carrier): a CMPP SUBMIT to
//! several destinations is one message each under ONE SUBMIT_RESP, and
//! every destination's report carries that Msg_Id with its own number;
//! SMPP `data_sm` is sent like `submit_sm`, `query_sm` follows an own
//! message to DELIVERED, and `query_sm` / `cancel_sm` of another
//! account's message answer `ESME_RINVMSGID`.

mod apps_support;
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use apps_support::cmpp::CmppClient;
use apps_support::{apply_demo_doc, bind_eventually, demo_password, ready_addr, Kind, SmppClient};
use bytes::Bytes;
use common::Node;
use smsgw_protocols::cmpp::{Body as CBody, CmppVersion, Submit};
use smsgw_protocols::smpp::tlv::Octets;
use smsgw_protocols::smpp::{status, Body, CancelSm, DataSm, Pdu, QuerySm, SubmitSm, Tlv};
use smsgw_protocols::text::{self, Encoding};
use smsgw_protocols::FixedStr;

fn node() -> Node {
    Node::start(&["--smpp-addr", "127.0.0.1:0", "--cmpp-addr", "127.0.0.1:0"])
}

#[test]
fn a_cmpp_submit_to_several_destinations_is_one_message_each_under_one_msg_id() {
    let node = node();
    let addr = ready_addr(&node, "cmpp=");
    let secret = demo_password(&node);
    let (mut sp, st) = CmppClient::connect(&addr, CmppVersion::V30, "900100", &secret);
    assert_eq!(st, 0);
    let numbers = ["13800138501", "13800138502", "13300133503", "13100131504"];
    let s = Submit {
        pk_total: 1,
        pk_number: 1,
        registered_delivery: 1,
        msg_fmt: 8,
        msg_src: FixedStr::for_field("msg_src", "900100").unwrap(),
        src_id: FixedStr::for_field("src_id", "1069000").unwrap(),
        dest_terminal_ids: numbers
            .iter()
            .map(|n| FixedStr::for_field("dest", n).unwrap())
            .collect(),
        msg_content: Bytes::from(text::encode("群发测试", Encoding::Ucs2).unwrap()),
        ..Submit::default()
    };
    let seq = sp.send(CBody::Submit(Box::new(s)));
    // A single-destination submit beside it keeps its own id.
    sp.submit("900100", "13800138599", "单发");
    assert!(sp.pump(30, |c| c.resps.len() == 2), "{:?}", sp.resps);
    let (_, result, msg_id) = *sp.resps.iter().find(|r| r.0 == seq).expect("SUBMIT_RESP");
    assert_eq!(result, 0, "{:?}", sp.resps);
    assert_ne!(msg_id, 0);
    let single = sp.resps.iter().find(|r| r.0 != seq).expect("single").2;

    // One message per destination, the first under the answered id.
    let key = node.demo_key();
    let r = node.call("GET", &format!("/v1/messages/{msg_id}"), Some(&key), None);
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["to"], numbers[0], "{:?}", r.body);

    // Every destination's report, each with its number, all under msg_id.
    let reports = |c: &CmppClient| -> BTreeMap<String, (u64, String)> {
        c.delivered
            .iter()
            .filter_map(|d| d.report().ok().flatten())
            .map(|r| {
                (
                    r.dest_terminal_id.as_str().to_string(),
                    (r.msg_id.0, r.stat.as_str().to_string()),
                )
            })
            .collect()
    };
    let all = sp.pump(60, |c| reports(c).len() == numbers.len() + 1);
    let got = reports(&sp);
    assert!(all, "reports {got:?}");
    for n in numbers {
        assert_eq!(got.get(n), Some(&(msg_id, "DELIVRD".to_string())), "{n}: {got:?}");
    }
    assert_eq!(got.get("13800138599"), Some(&(single, "DELIVRD".to_string())));
    let ids: BTreeSet<u64> = sp.report_ids().into_iter().collect();
    assert_eq!(ids, BTreeSet::from([msg_id, single]));
}

/// Sends `body` and reads until its answer, answering deliveries meanwhile.
fn ask(app: &mut SmppClient, body: Body) -> Pdu {
    let seq = app.send(body);
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        let Some(p) = app.read(Duration::from_millis(200)) else {
            continue;
        };
        if p.sequence_number == seq && p.body.is_response() {
            return p;
        }
        if let Body::DeliverSm(d) = &p.body {
            if let Some(r) = p.response(0) {
                app.send_pdu(&r);
            }
            app.delivered.push(d.clone());
        }
    }
    panic!("no answer to sequence {seq}");
}

fn query(id: &str) -> Body {
    Body::QuerySm(QuerySm {
        message_id: FixedStr::for_field("message_id", id).unwrap(),
        ..QuerySm::default()
    })
}

const OTHER_KEY: &str = "sk_other_0123456789abcdef";

#[test]
fn data_sm_is_sent_and_query_and_cancel_see_only_own_messages() {
    let node = node();
    let addr = ready_addr(&node, "smpp=");
    let pw = demo_password(&node);
    apply_demo_doc(&node, |doc| {
        let mut other = doc.accounts[0].clone();
        other.name = "other".into();
        other.api_key_hashes = vec![smsgw_config::ApiKeyHash::of(OTHER_KEY)];
        other.service_codes.clear();
        other.apps = None;
        doc.accounts.push(other);
    });
    let mut app = bind_eventually(&addr, Kind::Transceiver, "demo", &pw);

    // data_sm: the content in message_payload, answered with data_sm_resp.
    let mut sm = DataSm {
        destination_addr: FixedStr::for_field("destination_addr", "13800138601").unwrap(),
        registered_delivery: 1,
        data_coding: 8,
        ..DataSm::default()
    };
    let content = text::encode("数据短信", Encoding::Ucs2).unwrap();
    sm.tlvs.push(Tlv::MessagePayload(Octets(Bytes::from(content))));
    let r = ask(&mut app, Body::DataSm(sm));
    let Body::DataSmResp(resp) = &r.body else {
        panic!("not a data_sm_resp: {r:?}")
    };
    assert_eq!(r.command_status, 0);
    let id = resp.message_id.as_str().to_string();
    assert!(!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()), "{id}");
    let m = node.call("GET", &format!("/v1/messages/{id}"), Some(&node.demo_key()), None);
    assert_eq!(m.status, 200, "{:?}", m.body);
    assert_eq!(m.body["encoding"], "ucs2", "{:?}", m.body);

    // query_sm follows it to DELIVERED (2) with a final date.
    let deadline = Instant::now() + Duration::from_secs(60);
    let last = loop {
        let r = ask(&mut app, query(&id));
        assert_eq!(r.command_status, 0, "{r:?}");
        let Body::QuerySmResp(q) = r.body else {
            panic!("not a query_sm_resp")
        };
        assert_eq!(q.message_id.as_str(), id);
        if q.message_state == 2 || Instant::now() > deadline {
            break q;
        }
        assert_eq!(q.message_state, 1, "ENROUTE until its report");
        std::thread::sleep(Duration::from_millis(300));
    };
    assert_eq!(last.message_state, 2, "{last:?}");
    assert_eq!(last.final_date.as_str().len(), 16, "{last:?}");
    // Too late to cancel an own message that was already sent.
    let cancel = |id: &str| {
        Body::CancelSm(CancelSm {
            message_id: FixedStr::for_field("message_id", id).unwrap(),
            ..CancelSm::default()
        })
    };
    let r = ask(&mut app, cancel(&id));
    assert_eq!(
        (r.command_status, &r.body),
        (status::ESME_RCANCELFAIL, &Body::CancelSmResp)
    );

    // Another account's message is not ours to query or cancel.
    let r = node.post(
        OTHER_KEY,
        &serde_json::json!({"to": ["13800138602"], "text": "other's"}),
    );
    assert_eq!(r.status, 202, "{:?}", r.body);
    let theirs = r.body["messages"][0]["id"].as_str().expect("id").to_string();
    for body in [
        query(&theirs),
        cancel(&theirs),
        query("999999999"),
        query("not-an-id"),
    ] {
        let r = ask(&mut app, body);
        assert_eq!(r.command_status, status::ESME_RINVMSGID, "{r:?}");
    }
}

const ADMIN: &str = "sk_admin_0123456789abcdef";

#[test]
fn a_submit_held_for_review_is_answered_and_its_receipt_follows_the_release() {
    let node = node();
    let addr = ready_addr(&node, "smpp=");
    let pw = demo_password(&node);
    apply_demo_doc(&node, |doc| {
        doc.content.categories.insert("fraud".into(), vec!["发票".into()]);
        // A prepaid account, as the content rules' accounts are.
        doc.accounts[0].balance = Some(1000);
        doc.accounts[0].billing = Some(smsgw_config::AccountBilling {
            content: smsgw_config::ContentAction::Review,
            ..Default::default()
        });
        doc.admin.api_key_hashes = vec![smsgw_config::ApiKeyHash::of(ADMIN)];
    });
    let mut app = bind_eventually(&addr, Kind::Transceiver, "demo", &pw);
    // The billing worker opens the prepaid account with its balance.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = node.call("GET", "/v1/account", Some(&node.demo_key()), None);
        if r.status == 200 && r.body["balance"].as_u64().is_some_and(|b| b > 0) {
            break;
        }
        assert!(Instant::now() < deadline, "no balance: {:?}", r.body);
        std::thread::sleep(Duration::from_millis(200));
    }
    // Until the new rules are in force a plain submit goes straight out.
    let deadline = Instant::now() + Duration::from_secs(10);
    let (held_id, items) = loop {
        app.resps.clear();
        let content = text::encode("代开发票", Encoding::Ucs2).unwrap();
        let mut sm = SubmitSm::new("", "13800138701", 8, Bytes::from(content)).unwrap();
        sm.registered_delivery = 1;
        app.send(Body::SubmitSm(sm));
        assert!(app.pump(15, |c| c.resps.len() == 1), "{:?}", app.resps);
        let (_, st, id) = app.resps[0].clone();
        assert_eq!(st, 0, "a held submit is answered with success");
        // The admin key is in force with the rules.
        let list = node.call("GET", "/v1/admin/review", Some(ADMIN), None);
        let items: Vec<serde_json::Value> = list.body["items"].as_array().cloned().unwrap_or_default();
        if !items.is_empty() {
            break (id, items);
        }
        assert!(Instant::now() < deadline, "never held: {:?}", list.body);
        std::thread::sleep(Duration::from_millis(300));
    };
    assert_eq!(items.len(), 1, "{items:?}");
    let job = items[0]["id"].as_u64().expect("job id");
    assert_eq!(items[0]["account"], "demo");
    assert_eq!(items[0]["sample_text"], "代开发票");
    // Nothing is sent, nor reported, while it is held.
    app.pump(2, |_| false);
    assert!(!app.receipt_ids().contains(&held_id), "{:?}", app.receipt_ids());

    let r = node.call(
        "POST",
        &format!("/v1/admin/review/{job}"),
        Some(ADMIN),
        Some(br#"{"decision": "approve"}"#),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(
        app.pump(60, |c| c.receipt_ids().contains(&held_id)),
        "receipt for {held_id}: {:?}",
        app.receipt_ids()
    );
    let d = app
        .delivered
        .iter()
        .find(|d| d.tlvs.receipted_message_id() == Some(held_id.as_str()))
        .expect("receipt");
    assert_eq!(d.source_addr.as_str(), "13800138701", "the handset");
    let receipt = smsgw_protocols::smpp::Receipt::parse(&d.short_message).expect("receipt text");
    assert_eq!(
        (receipt.id.as_str(), receipt.stat.as_str()),
        (held_id.as_str(), "DELIVRD")
    );
}
