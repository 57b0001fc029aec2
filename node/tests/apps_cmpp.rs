//! The CMPP server for applications against a real node (the demo node:
//! its in-process simulator is the carrier): an SP CONNECTs in 3.0 and in
//! 2.0 with the demo account's SP id and secret, submits, gets SUBMIT_RESP
//! with our message id as Msg_Id after the commit, and receives every
//! report as DELIVER (`Registered_Delivery = 1`, Msg_Id = our id) and the
//! account's MOs; a wrong secret is refused.

mod apps_support;
mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use apps_support::cmpp::CmppClient;
use apps_support::{demo_password, ready_addr};
use common::{http, sim_control, Node};
use smsgw_protocols::cmpp::{ActiveTestResp, Body, CmppVersion};
use smsgw_protocols::text::{self, Encoding};

#[test]
fn an_sp_submits_in_both_versions_and_gets_reports_and_mos() {
    let node = Node::start(&["--smpp-addr", "127.0.0.1:0", "--cmpp-addr", "127.0.0.1:0"]);
    let addr = ready_addr(&node, "cmpp=");
    let secret = demo_password(&node);

    let (_, st) = CmppClient::connect(&addr, CmppVersion::V30, "900100", "not-the-secret");
    assert_eq!(st, 3, "authentication failed");
    let (_, st) = CmppClient::connect(&addr, CmppVersion::V30, "900999", &secret);
    assert_eq!(st, 3, "an unknown SP id is refused the same way");

    let key = node.demo_key();
    for (version, numbers) in [
        (
            CmppVersion::V30,
            vec!["13800138101", "13800138102", "13300133103"],
        ),
        (CmppVersion::V20, vec!["13800138201"]),
    ] {
        let (mut sp, st) = CmppClient::connect(&addr, version, "900100", &secret);
        assert_eq!(st, 0, "{version:?}");
        for n in &numbers {
            sp.submit("900100", n, "你好，世界");
        }
        assert!(sp.pump(30, |c| c.resps.len() == numbers.len()), "{:?}", sp.resps);
        let ids: BTreeSet<u64> = sp.resps.iter().map(|r| r.2).collect();
        assert!(sp.resps.iter().all(|r| r.1 == 0 && r.2 != 0), "{:?}", sp.resps);
        assert_eq!(ids.len(), numbers.len());
        for id in &ids {
            let r = node.call("GET", &format!("/v1/messages/{id}"), Some(&key), None);
            assert_eq!(r.status, 200, "{:?}", r.body);
            assert_eq!(r.body["encoding"], "ucs2", "{:?}", r.body);
        }
        let all = sp.pump(60, |c| {
            let got: BTreeSet<u64> = c.report_ids().into_iter().collect();
            ids.is_subset(&got)
        });
        assert!(all, "{version:?}: reports {:?} for {ids:?}", sp.report_ids());
        for d in sp.delivered.iter().filter(|d| d.is_report()) {
            let r = d.report().expect("report body").expect("a report");
            assert_eq!(r.stat.as_str(), "DELIVRD");
        }
        let seq = sp.send(Body::ActiveTest);
        let r = sp.read(Duration::from_secs(5)).expect("ACTIVE_TEST_RESP");
        assert_eq!(
            (r.sequence_id, r.body),
            (seq, Body::ActiveTestResp(ActiveTestResp::default()))
        );
        let seq = sp.send(Body::Terminate);
        let r = sp.read(Duration::from_secs(5)).expect("TERMINATE_RESP");
        assert_eq!((r.sequence_id, r.body), (seq, Body::TerminateResp));
    }

    // An MO to the demo account's service code comes back as a DELIVER.
    let (mut sp, st) = CmppClient::connect(&addr, CmppVersion::V30, "900100", &secret);
    assert_eq!(st, 0);
    let body = serde_json::json!({"protocol": "cmpp", "from": "13900001111", "to": "1069000123", "text": "上行 hello"});
    let r = http(
        &sim_control(&node),
        "POST",
        "/mo",
        None,
        Some(body.to_string().as_bytes()),
    );
    assert_eq!(r.status, 202, "{:?}", r.body);
    let mo = |c: &CmppClient| {
        c.delivered
            .iter()
            .filter(|d| !d.is_report())
            .map(|d| {
                let enc = Encoding::from_msg_fmt(d.msg_fmt).expect("msg_fmt");
                let t = text::decode(&d.msg_content, enc).expect("text");
                (
                    d.src_terminal_id.as_str().to_string(),
                    d.dest_id.as_str().to_string(),
                    t,
                )
            })
            .collect::<Vec<_>>()
    };
    assert!(sp.pump(30, |c| !mo(c).is_empty()), "no MO");
    assert_eq!(
        mo(&sp),
        vec![(
            "13900001111".to_string(),
            "1069000123".to_string(),
            "上行 hello".to_string()
        )]
    );
}
