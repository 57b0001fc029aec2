//! Carrier quirks, against the simulator in quirky mode over TCP: login and
//! heartbeat answers with trailing bytes keep the link (one login per
//! session, no reconnects), CMPP reports of odd length and SMPP receipts
//! with decimal ids are matched, and the profile's fee defaults are what
//! the simulator received.

mod common;

use std::time::Duration;

use common::*;
use smsgw_actors::proto::default_profile;
use smsgw_actors::{CarrierSpec, MessageState, Priority};
use smsgw_config::IdFormat;
use smsgw_simulator::ledger::Filter;
use smsgw_simulator::quirks::Quirks;

/// A carrier whose idle link heartbeats every 100 ms and is declared dead
/// after 1 s without any PDU (wide enough that a loaded 2-core test host
/// stalling the process does not look like a dead link).
fn fast_heartbeats(spec: &mut CarrierSpec) {
    spec.cfg.session.heartbeat_every = Some(Duration::from_millis(100));
    spec.cfg.session.dead_after_missed = 10;
}

fn logins(sim: &smsgw_simulator::Simulator) -> u64 {
    sim.shared().ledger.counts().logins_ok
}

/// `n` messages that all asked for a report reached a final state; returns
/// how many were DELIVERED.
async fn delivered(store: &smsgw_actors::MemoryStore, first: u64, n: u64) -> usize {
    let msgs = messages(first, n, Priority::Normal);
    let states = wait_done(store, &msgs, Duration::from_secs(10)).await;
    msgs.iter()
        .filter(|m| states.get(&m.id) == Some(&MessageState::Delivered))
        .count()
}

/// Login and heartbeat answers padded with a trailing byte: both sessions
/// log in once and stay up through 15 heartbeat periods, then carry
/// messages to DELIVERED.
async fn padded_answers_keep_the_links_up(p: Protocol) {
    let sim = sim().await;
    set_account(&sim, p, |a| {
        a.quirks = Quirks {
            trailing_bytes: 1,
            ..Quirks::default()
        }
    });
    let mut spec = carrier(&sim, p, "c1", 2, 8);
    fast_heartbeats(&mut spec);
    let (gw, store) = gateway(&sim, spec).await;
    assert_eq!(logins(&sim), 2, "{p}: both padded login answers accepted");
    // 15 heartbeat periods: unread answers would have killed the links.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        logins(&sim),
        2,
        "{p}: no reconnect while heartbeats were answered with padding"
    );
    let counts = sim.shared().ledger.counts();
    assert_eq!(counts.connections, 2, "{p}: {counts:?}");
    gw.send(messages(1, 20, Priority::Normal));
    assert_eq!(delivered(&store, 1, 20).await, 20, "{p}");
    gw.stop().await;
}

#[tokio::test]
async fn smgp_heartbeat_and_login_answers_with_trailing_bytes_keep_the_links_up() {
    padded_answers_keep_the_links_up(Protocol::Smgp).await;
}

#[tokio::test]
async fn cmpp_heartbeat_and_login_answers_with_trailing_bytes_keep_the_links_up() {
    padded_answers_keep_the_links_up(Protocol::Cmpp).await;
}

#[tokio::test]
async fn smpp_heartbeat_and_bind_answers_with_trailing_bytes_keep_the_links_up() {
    padded_answers_keep_the_links_up(Protocol::Smpp).await;
}

#[tokio::test]
async fn cmpp_reports_longer_or_shorter_than_the_spec_are_matched() {
    // 71 + 2 (padded), 71 - 5 (= 66: a 2.0 layout with 6 extra bytes), 71 - 30.
    for delta in [2i8, -5, -30] {
        let sim = sim().await;
        set_account(&sim, Protocol::Cmpp, |a| {
            a.quirks = Quirks {
                report_length_delta: delta,
                ..Quirks::default()
            }
        });
        let (gw, store) = gateway(&sim, carrier(&sim, Protocol::Cmpp, "c1", 1, 16)).await;
        gw.send(messages(1, 10, Priority::Normal));
        assert_eq!(delivered(&store, 1, 10).await, 10, "report length 71{delta:+}");
        gw.stop().await;
    }
}

#[tokio::test]
async fn smpp_receipts_with_decimal_ids_match_hex_submit_resp_ids_when_the_profile_says_so() {
    let sim = sim().await;
    set_account(&sim, Protocol::Smpp, |a| a.quirks = Quirks::quirky());
    let mut spec = carrier(&sim, Protocol::Smpp, "c1", 1, 16);
    spec.profile.submit_resp_id = IdFormat::Hex;
    spec.profile.receipt_id = IdFormat::Decimal;
    let (gw, store) = gateway(&sim, spec).await;
    gw.send(messages(1, 10, Priority::Normal));
    assert_eq!(delivered(&store, 1, 10).await, 10);
    // The ids really differed on the wire: hex in the ledger (what
    // submit_sm_resp said), decimal in the receipts.
    let recs = all_records(&sim);
    assert!(recs.iter().all(|r| r.carrier_msg_id.len() == 10), "{recs:?}");
    gw.stop().await;
}

#[tokio::test]
async fn without_the_id_formats_decimal_receipts_are_not_matched() {
    // The control for the test above: the same quirk with the generic
    // profile (ids compared as text) matches nothing, so the messages end
    // EXPIRED at their validity instead of DELIVERED.
    let sim = sim().await;
    set_account(&sim, Protocol::Smpp, |a| a.quirks = Quirks::quirky());
    let spec = carrier(&sim, Protocol::Smpp, "c1", 1, 16);
    assert_eq!(spec.profile.receipt_id, IdFormat::Text);
    let (gw, store) = gateway(&sim, spec).await;
    let msgs: Vec<_> = messages(1, 3, Priority::Normal)
        .into_iter()
        .map(|mut m| {
            m.valid_until = std::time::Instant::now() + Duration::from_millis(700);
            m
        })
        .collect();
    gw.send(msgs.clone());
    let states = wait_done(&store, &msgs, Duration::from_secs(10)).await;
    assert!(states.values().all(|s| *s == MessageState::Expired), "{states:?}");
    gw.stop().await;
}

#[tokio::test]
async fn smgp_and_cmpp_submits_carry_the_profiles_fee_defaults_on_the_wire() {
    let sim = sim().await;
    let (gw, store) = gateway(&sim, carrier(&sim, Protocol::Smgp, "c1", 1, 16)).await;
    gw.send(messages(1, 3, Priority::Normal));
    assert_eq!(delivered(&store, 1, 3).await, 3);
    let fees: Vec<_> = all_records(&sim).into_iter().map(|r| r.fee).collect();
    assert_eq!(fees, vec![Some("00/000000/000000".to_string()); 3]);
    gw.stop().await;

    // Overridden per carrier: what the profile says is what is sent.
    let sim = common::sim().await;
    let mut spec = carrier(&sim, Protocol::Cmpp, "c1", 1, 16);
    spec.profile.fee.fee_type = "02".into();
    spec.profile.fee.fee_code = "000010".into();
    let (gw, store) = gateway(&sim, spec).await;
    gw.send(messages(1, 2, Priority::Normal));
    assert_eq!(delivered(&store, 1, 2).await, 2);
    let recs = sim.shared().ledger.submits(&Filter::default());
    assert!(!recs.is_empty());
    assert!(
        recs.iter().all(|r| r.fee.as_deref() == Some("02/000010")),
        "{recs:?}"
    );
    gw.stop().await;
}

#[test]
fn smgp_before_3_0_logs_in_with_its_version_byte_and_submits_without_tlvs() {
    use smsgw_actors::proto::smgp::SmgpClient;
    use smsgw_actors::proto::{ClientProtocol, Credentials};
    use smsgw_protocols::smgp::Body;
    let creds = Credentials {
        login: "90000001".into(),
        password: "secret".into(),
    };
    let long = messages(10, 1, Priority::Normal).remove(0);
    let part = smsgw_actors::split_message(&long, Protocol::Smgp, &default_profile(Protocol::Smgp))
        .unwrap()
        .remove(0);
    assert!(part.udhi);
    for (version, byte, tlvs) in [("1.3", 0x13, false), ("2.0", 0x20, false), ("3.0", 0x30, true)] {
        let mut profile = default_profile(Protocol::Smgp);
        profile.version = version.into();
        let c = SmgpClient::new(profile);
        let Body::Login(l) = c.login(1, &creds).unwrap().body else {
            panic!("login")
        };
        assert_eq!(l.client_version, byte, "{version}");
        let Body::Submit(s) = c.submit(2, &part, &creds).unwrap().body else {
            panic!("submit")
        };
        assert_eq!(!s.tlvs.is_empty(), tlvs, "{version}: {:?}", s.tlvs);
        assert_eq!(
            (s.fee_type.as_str(), s.fee_code.as_str(), s.fixed_fee.as_str()),
            ("00", "000000", "000000")
        );
    }
}

#[tokio::test]
async fn smgp_1_3_and_2_0_accounts_log_in_and_round_trip_submits_and_reports() {
    for version in ["1.3", "2.0"] {
        let sim = sim().await;
        let mut spec = carrier(&sim, Protocol::Smgp, "c1", 1, 16);
        spec.profile.version = version.into();
        let (gw, store) = gateway(&sim, spec).await;
        gw.send(messages(1, 3, Priority::Normal));
        assert_eq!(delivered(&store, 1, 3).await, 3, "SMGP {version}");
        gw.stop().await;
    }
}

#[test]
fn a_text_receipt_profile_matches_by_the_text_id_even_when_the_tlv_disagrees() {
    use smsgw_actors::proto::smpp::SmppClient;
    use smsgw_actors::proto::{ClientProtocol, Incoming};
    use smsgw_config::ReceiptStyle;
    use smsgw_protocols::report::ReportState;
    use smsgw_protocols::smpp::{self, tlv, Body, DeliverSm, Receipt};
    // Text id in decimal (123), and a receipted_message_id TLV this SMSC
    // fills with something else.
    let receipt = Receipt::new("123", ReportState::Delivered, "2611250809", "2611250810", 0);
    let mut sm = DeliverSm::receipt(&receipt, "13800138000", "10658899").unwrap();
    sm.tlvs.set(tlv::Tlv::ReceiptedMessageId(
        smsgw_protocols::FixedStr::new("zz-9").unwrap(),
    ));
    let pdu = |sm: DeliverSm| smpp::Pdu {
        command_status: 0,
        sequence_number: 4,
        body: Body::DeliverSm(sm),
    };
    let id_of = |i: Incoming<smpp::Pdu>| match i {
        Incoming::Report { report, .. } => report.carrier_msg_id,
        _ => panic!("not a report"),
    };
    let mut profile = default_profile(Protocol::Smpp);
    profile.submit_resp_id = IdFormat::Hex;
    profile.receipt_id = IdFormat::Decimal;
    assert_eq!(
        profile.receipts,
        ReceiptStyle::Both,
        "the shipped default reads both"
    );
    let both = SmppClient::new(profile.clone());
    assert_eq!(
        id_of(both.classify(pdu(sm.clone()), "c1")),
        "zz-9",
        "both: the TLV wins"
    );
    profile.receipts = ReceiptStyle::Text;
    let text = SmppClient::new(profile);
    // The hex submit_sm_resp id 7b is 123 too: both canonical forms agree.
    assert_eq!(id_of(text.classify(pdu(sm), "c1")), "123");
}

#[test]
fn sgip_numbers_padded_with_spaces_are_matched_and_routed_bare() {
    use smsgw_actors::proto::sgip::classify_pdu;
    use smsgw_actors::proto::Incoming;
    use smsgw_protocols::sgip::{self, Body, SequenceNumber};
    use smsgw_protocols::FixedStr;
    let seq = SequenceNumber::new(3_000_000_001, 1_203_101_010, 7);
    let mo = sgip::Deliver {
        user_number: FixedStr::new("13800138000   ").unwrap(),
        sp_number: FixedStr::new("110 ").unwrap(),
        tp_pid: 0,
        tp_udhi: 0,
        message_coding: 15,
        message_content: bytes::Bytes::from_static(b"help"),
        reserve: Default::default(),
    };
    match classify_pdu(
        sgip::Pdu::new(seq, Body::Deliver(mo)),
        "cu",
        &default_profile(Protocol::Sgip),
    ) {
        Incoming::Mo { mo, .. } => {
            assert_eq!(
                (mo.source.as_str(), mo.destination.as_str()),
                ("13800138000", "110")
            );
        }
        _ => panic!("not an MO"),
    }
    let report = sgip::Report::for_submit(seq, "13800138000  ", sgip::report::state::DELIVERED, 0).unwrap();
    match classify_pdu(
        sgip::Pdu::new(seq, Body::Report(report)),
        "cu",
        &default_profile(Protocol::Sgip),
    ) {
        Incoming::Report { report, .. } => {
            assert_eq!(report.destination.as_deref(), Some("13800138000"));
            assert_eq!(report.carrier_msg_id, seq.to_string());
        }
        _ => panic!("not a report"),
    }
}
