//! Carrier profiles end to end, over TCP against the simulator playing the
//! same profile: each shipped profile carries a short and a long message to
//! DELIVERED; the profile's UDH style (8-bit, 16-bit, SMPP `sar_*`),
//! `max_parts`, `data_coding` and SGIP fee defaults are what the simulator
//! received; the simulator reassembles every long message.

mod common;

use std::time::Duration;

use common::*;
use smsgw_actors::{MessageState, OutboundMessage, Priority};
use smsgw_config::{CarrierProfile, ProfileOverrides, UdhStyle};
use smsgw_protocols::udh::ConcatStyle;
use smsgw_simulator::ledger::{reassemble, SubmitRecord};
use smsgw_simulator::Simulator;

/// 140 Chinese characters: 3 parts of 67 with a UDH, 2 of 70 with `sar_*`.
fn long_text() -> String {
    "长".repeat(140)
}

fn message(id: u64, text: &str) -> OutboundMessage {
    OutboundMessage::new(
        id,
        "acct",
        Priority::Normal,
        "10658899",
        &dest(id),
        text,
        Duration::from_secs(60),
    )
}

/// The simulator's account of `p` plays `name` with `o` changed.
fn play(sim: &Simulator, p: Protocol, name: &str, o: &ProfileOverrides) {
    set_account(sim, p, |a| {
        a.profile = Some(name.to_string());
        a.profile_overrides = o.clone();
    });
}

/// Sends `msgs` to a gateway whose carrier has `profile` (the simulator
/// playing the same), waits until all are final, and returns their states
/// and what the simulator recorded per message (by destination).
async fn run(
    p: Protocol,
    name: &str,
    o: &ProfileOverrides,
    msgs: Vec<OutboundMessage>,
) -> (Vec<MessageState>, Vec<Vec<SubmitRecord>>) {
    let sim = sim().await;
    play(&sim, p, name, o);
    let mut spec = carrier(&sim, p, "c1", 1, 16);
    spec.profile = CarrierProfile::shipped(name).expect("shipped").with(o);
    let (gw, store) = gateway(&sim, spec).await;
    gw.send(msgs.clone());
    let states = wait_done(&store, &msgs, Duration::from_secs(10)).await;
    gw.stop().await;
    let states = msgs.iter().map(|m| states[&m.id]).collect();
    let recs = msgs.iter().map(|m| records_to(&sim, &m.destination)).collect();
    (states, recs)
}

/// A short and a long message through the gateway to the simulator
/// playing shipped profile `name`: both DELIVERED (their reports matched),
/// the long one in three parts with an 8-bit UDH, both reassembled.
async fn shipped_profile_round_trip(name: &str, p: Protocol) {
    let msgs = vec![message(1, "hello"), message(2, &long_text())];
    let (states, recs) = run(p, name, &ProfileOverrides::default(), msgs.clone()).await;
    assert_eq!(states, [MessageState::Delivered; 2], "{name}");
    assert_eq!(recs[0].len(), 1, "{name}: one part");
    assert_eq!(recs[1].len(), 3, "{name}: three parts");
    assert!(
        recs[1].iter().all(|r| r.numbering == Some(ConcatStyle::Udh8)),
        "{name}: 8-bit UDH: {:?}",
        recs[1]
    );
    for (m, r) in msgs.iter().zip(&recs) {
        assert_eq!(reassemble(r), [m.text.as_str()], "{name}");
    }
}

#[tokio::test]
async fn china_mobile_delivers_a_short_and_a_long_message() {
    shipped_profile_round_trip("china-mobile", Protocol::Cmpp).await;
}

#[tokio::test]
async fn china_unicom_delivers_a_short_and_a_long_message() {
    shipped_profile_round_trip("china-unicom", Protocol::Sgip).await;
}

#[tokio::test]
async fn china_telecom_delivers_a_short_and_a_long_message() {
    shipped_profile_round_trip("china-telecom", Protocol::Smgp).await;
}

#[tokio::test]
async fn generic_smpp_delivers_a_short_and_a_long_message() {
    shipped_profile_round_trip("generic-smpp", Protocol::Smpp).await;
}

#[tokio::test]
async fn a_16_bit_profile_numbers_long_parts_with_ie_0x08() {
    for (name, p) in [("generic-smpp", Protocol::Smpp), ("china-mobile", Protocol::Cmpp)] {
        let o = ProfileOverrides {
            udh: Some(UdhStyle::Bit16),
            ..ProfileOverrides::default()
        };
        let (states, recs) = run(p, name, &o, vec![message(1, &long_text())]).await;
        assert_eq!(states, [MessageState::Delivered], "{name}");
        assert_eq!(recs[0].len(), 3, "{name}: 66 units a part");
        assert!(
            recs[0].iter().all(|r| r.numbering == Some(ConcatStyle::Udh16)),
            "{name}: {:?}",
            recs[0]
        );
        assert_eq!(reassemble(&recs[0]), [long_text()], "{name}");
    }
}

#[tokio::test]
async fn a_sar_profile_sends_the_three_tlvs_and_no_udh() {
    let o = ProfileOverrides {
        udh: Some(UdhStyle::Sar),
        ..ProfileOverrides::default()
    };
    let (states, recs) = run(Protocol::Smpp, "generic-smpp", &o, vec![message(1, &long_text())]).await;
    assert_eq!(states, [MessageState::Delivered]);
    // No UDH takes room: two parts of 70, numbered by the sar_* TLVs only.
    assert_eq!(recs[0].len(), 2, "{:?}", recs[0]);
    assert!(
        recs[0].iter().all(|r| r.numbering == Some(ConcatStyle::Sar)),
        "{:?}",
        recs[0]
    );
    assert_eq!(reassemble(&recs[0]), [long_text()]);
}

#[tokio::test]
async fn a_message_over_the_profiles_max_parts_is_never_sent() {
    let o = ProfileOverrides {
        max_parts: Some(2),
        ..ProfileOverrides::default()
    };
    let msgs = vec![message(1, &long_text()), message(2, &"长".repeat(100))];
    let (states, recs) = run(Protocol::Cmpp, "china-mobile", &o, msgs).await;
    assert_eq!(states, [MessageState::Failed, MessageState::Delivered]);
    assert!(recs[0].is_empty(), "3 parts over a limit of 2: {:?}", recs[0]);
    assert_eq!(recs[1].len(), 2);
}

#[tokio::test]
async fn the_profiles_ucs2_code_is_the_msg_fmt_of_cmpp_sgip_and_smgp() {
    for (name, p) in [
        ("china-mobile", Protocol::Cmpp),
        ("china-unicom", Protocol::Sgip),
        ("china-telecom", Protocol::Smgp),
    ] {
        let o = ProfileOverrides {
            data_coding_ucs2: Some(24),
            ..ProfileOverrides::default()
        };
        let (states, recs) = run(p, name, &o, vec![message(1, "你好"), message(2, "hi")]).await;
        assert_eq!(states, [MessageState::Delivered; 2], "{name}");
        assert_eq!(recs[0][0].coding, 24, "{name}: UCS-2 went out as 24");
        assert_eq!(recs[0][0].text, "你好", "{name}: read back as UCS-2");
        assert_eq!(recs[1][0].coding, 0, "{name}: ASCII unchanged");
    }
}

#[tokio::test]
async fn sgip_submits_carry_the_profiles_fee_fields() {
    let (states, recs) = run(
        Protocol::Sgip,
        "china-unicom",
        &ProfileOverrides::default(),
        vec![message(1, "hi")],
    )
    .await;
    assert_eq!(states, [MessageState::Delivered]);
    // FeeType/FeeValue/GivenValue/ChargeNumber/CorpId/ServiceType: free,
    // the receiver charged, no CorpId set.
    assert_eq!(
        recs[0][0].fee.as_deref(),
        Some(format!("0/000000/0/{}//", dest(1)).as_str())
    );

    let o = ProfileOverrides {
        fee_type: Some("02".into()),
        fee_code: Some("000010".into()),
        fee_user_type: Some(2),
        service_id: Some("MUSIC".into()),
        corp_id: Some("41234".into()),
        ..ProfileOverrides::default()
    };
    let (states, recs) = run(Protocol::Sgip, "china-unicom", &o, vec![message(1, "hi")]).await;
    assert_eq!(states, [MessageState::Delivered]);
    assert_eq!(
        recs[0][0].fee.as_deref(),
        Some("2/000010/0/000000000000000000000/41234/MUSIC")
    );
}

#[tokio::test]
async fn a_simulator_playing_smgp_1_3_takes_only_1_3_logins() {
    let v13 = ProfileOverrides {
        version: Some("1.3".into()),
        ..ProfileOverrides::default()
    };
    // SMGP 1.3 has no TP_udhi: a long message could not be marked, so it is
    // refused (FAILED, never sent); a short one is DELIVERED.
    let msgs = vec![message(1, "hello"), message(2, &long_text())];
    let (states, recs) = run(Protocol::Smgp, "china-telecom", &v13, msgs).await;
    assert_eq!(states, [MessageState::Delivered, MessageState::Failed]);
    assert_eq!(reassemble(&recs[0]), ["hello"]);
    assert!(recs[1].is_empty(), "{:?}", recs[1]);

    // A 3.0 gateway is refused by the 1.3 carrier: no session comes up.
    let sim = sim().await;
    play(&sim, Protocol::Smgp, "china-telecom", &v13);
    let spec = carrier(&sim, Protocol::Smgp, "c1", 1, 16);
    assert_eq!(spec.profile.version, "3.0");
    let store = std::sync::Arc::new(smsgw_actors::MemoryStore::new());
    let gw = smsgw_actors::Gateway::start(smsgw_actors::GatewayConfig::simple(vec![spec]), store)
        .await
        .expect("gateway starts");
    let refused = eventually(Duration::from_secs(5), || {
        sim.shared().ledger.counts().logins_refused >= 1
    })
    .await;
    assert!(refused, "the 3.0 login was refused");
    let up = gw.dispatch_stats().await.map_or(0, |s| s.sessions_up);
    assert_eq!(up, 0);
    assert_eq!(sim.shared().ledger.counts().logins_ok, 0);
    gw.stop().await;
}

#[tokio::test]
async fn a_carrier_restarted_with_a_new_profile_is_split_by_the_new_one() {
    let sim = sim().await;
    let spec = carrier(&sim, Protocol::Smpp, "c1", 1, 16);
    let (mut gw, store) = gateway(&sim, spec.clone()).await;
    let mut sar = spec;
    sar.profile.udh = UdhStyle::Sar;
    gw.restart_carrier(sar).await.expect("restarts");
    wait_sessions(&gw, 1).await;
    let msgs = vec![message(1, &long_text())];
    gw.send(msgs.clone());
    let states = wait_done(&store, &msgs, Duration::from_secs(10)).await;
    assert_eq!(states[&1], MessageState::Delivered);
    let recs = records_to(&sim, &dest(1));
    assert!(
        recs.iter().all(|r| r.numbering == Some(ConcatStyle::Sar)),
        "{recs:?}"
    );
    assert_eq!(reassemble(&recs), [long_text()]);
    gw.stop().await;
}

struct Collect(std::sync::Mutex<Vec<smsgw_actors::Mo>>);

impl smsgw_actors::inbound::MoHandler for Collect {
    fn handle(&self, mo: &smsgw_actors::Mo) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(mo.clone());
    }
}

#[tokio::test]
async fn an_mo_in_the_profiles_ucs2_code_is_read_as_ucs2() {
    use std::sync::{Arc, Mutex};
    for (name, p) in [
        ("china-mobile", Protocol::Cmpp),
        ("china-unicom", Protocol::Sgip),
        ("generic-smpp", Protocol::Smpp),
    ] {
        let sim = sim().await;
        let o = ProfileOverrides {
            data_coding_ucs2: Some(24),
            ..ProfileOverrides::default()
        };
        play(&sim, p, name, &o);
        let mut spec = carrier(&sim, p, "c1", 1, 16);
        spec.profile = CarrierProfile::shipped(name).expect("shipped").with(&o);
        let got = Arc::new(Collect(Mutex::new(Vec::new())));
        let mut cfg = smsgw_actors::GatewayConfig::simple(vec![spec.clone()]);
        cfg.mo_rules = vec![(
            smsgw_actors::inbound::RouteRule {
                service_prefix: String::new(),
                keyword: None,
            },
            got.clone() as Arc<dyn smsgw_actors::inbound::MoHandler>,
        )];
        let gw = smsgw_actors::Gateway::start(cfg, Arc::new(smsgw_actors::MemoryStore::new()))
            .await
            .expect("gateway starts");
        if p == Protocol::Sgip {
            let at = gw.sgip_addr("c1").expect("sgip listener");
            set_account(&sim, p, |a| a.sgip_sp_addr = Some(at));
        }
        wait_sessions(&gw, 1).await;
        let parts = smsgw_simulator::mo::parts_as(p, Some(&spec.profile), "13700001111", "110", "你好")
            .expect("parts");
        assert_eq!(parts[0].coding, 24, "{name}: coded the profile's way");
        for part in parts {
            sim.shared()
                .deliver(p, login(p), smsgw_simulator::dialect::Deliverable::Mo(part));
        }
        let arrived = eventually(Duration::from_secs(5), || !got.0.lock().unwrap().is_empty()).await;
        assert!(arrived, "{name}: MO routed");
        assert_eq!(got.0.lock().unwrap()[0].text, "你好", "{name}");
        gw.stop().await;
    }
}

#[tokio::test]
async fn long_mos_numbered_the_profiles_way_are_reassembled() {
    use std::sync::{Arc, Mutex};
    for (name, p, udh) in [
        ("generic-smpp", Protocol::Smpp, UdhStyle::Sar),
        ("generic-smpp", Protocol::Smpp, UdhStyle::Bit16),
        ("china-mobile", Protocol::Cmpp, UdhStyle::Bit16),
    ] {
        let sim = sim().await;
        let o = ProfileOverrides {
            udh: Some(udh),
            ..ProfileOverrides::default()
        };
        play(&sim, p, name, &o);
        let mut spec = carrier(&sim, p, "c1", 1, 16);
        spec.profile = CarrierProfile::shipped(name).expect("shipped").with(&o);
        let got = Arc::new(Collect(Mutex::new(Vec::new())));
        let mut cfg = smsgw_actors::GatewayConfig::simple(vec![spec.clone()]);
        cfg.mo_rules = vec![(
            smsgw_actors::inbound::RouteRule {
                service_prefix: String::new(),
                keyword: None,
            },
            got.clone() as Arc<dyn smsgw_actors::inbound::MoHandler>,
        )];
        let gw = smsgw_actors::Gateway::start(cfg, Arc::new(smsgw_actors::MemoryStore::new()))
            .await
            .expect("gateway starts");
        wait_sessions(&gw, 1).await;
        let parts = smsgw_simulator::mo::parts_as(p, Some(&spec.profile), "13700001111", "110", &long_text())
            .expect("parts");
        assert_eq!(
            parts.len(),
            if udh == UdhStyle::Sar { 2 } else { 3 },
            "{name} {udh:?}"
        );
        assert_eq!(parts[0].udhi, udh != UdhStyle::Sar, "{name} {udh:?}");
        for part in parts {
            sim.shared()
                .deliver(p, login(p), smsgw_simulator::dialect::Deliverable::Mo(part));
        }
        let arrived = eventually(Duration::from_secs(5), || !got.0.lock().unwrap().is_empty()).await;
        assert!(arrived, "{name} {udh:?}: MO routed");
        let mo = got.0.lock().unwrap()[0].clone();
        assert!(mo.complete, "{name} {udh:?}");
        assert_eq!(mo.text, long_text(), "{name} {udh:?}");
        assert_eq!(
            got.0.lock().unwrap().len(),
            1,
            "{name} {udh:?}: one MO, not one per part"
        );
        gw.stop().await;
    }
}
