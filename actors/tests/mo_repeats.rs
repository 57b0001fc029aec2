//! A carrier delivering the same MO again (same wire id: CMPP/SMGP
//! `Msg_Id`, SGIP sequence number, SMPP content and
//! `user_message_reference`) over real sockets, for all four protocols: the
//! store records it once, the router routes it once, every copy is
//! answered (nothing is re-delivered when the link drops afterwards).

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use smsgw_actors::inbound::{MoHandler, RouteRule};
use smsgw_actors::{Event, Gateway, GatewayConfig, MemoryStore, Mo, Protocol};
use smsgw_simulator::dialect::Deliverable;

struct Collect(Mutex<Vec<Mo>>);

impl MoHandler for Collect {
    fn handle(&self, mo: &Mo) {
        self.0.lock().unwrap().push(mo.clone());
    }
}

#[tokio::test]
async fn a_redelivered_mo_is_recorded_and_routed_once_on_every_protocol() {
    for p in [Protocol::Cmpp, Protocol::Sgip, Protocol::Smgp, Protocol::Smpp] {
        let sim = sim().await;
        let routed = Arc::new(Collect(Mutex::new(Vec::new())));
        let store = Arc::new(MemoryStore::new());
        let mut cfg = GatewayConfig::simple(vec![carrier(&sim, p, "c1", 1, 16)]);
        cfg.mo_rules = vec![(
            RouteRule {
                service_prefix: String::new(),
                keyword: None,
            },
            routed.clone() as Arc<dyn MoHandler>,
        )];
        let gw = Gateway::start(cfg, store.clone()).await.unwrap();
        if p == Protocol::Sgip {
            let at = gw.sgip_addr("c1").unwrap();
            set_account(&sim, p, |a| a.sgip_sp_addr = Some(at));
        }
        wait_sessions(&gw, 1).await;
        let short = smsgw_simulator::mo::parts(p, "13700003333", "110", "救命").unwrap();
        let long_text = "有人抢劫，地点在人民路与解放路交叉口，请速来。".repeat(4);
        let long = smsgw_simulator::mo::parts(p, "13700004444", "110", &long_text).unwrap();
        assert!(long.len() > 1);
        let send = |parts: &[smsgw_simulator::dialect::MoPart]| {
            for part in parts {
                sim.shared().deliver(p, login(p), Deliverable::Mo(part.clone()));
            }
        };
        // Three deliveries of the short one, each waiting for the previous
        // to be taken (the store's key, not the reassembler, must see them).
        for round in 1..=3 {
            send(&short);
            assert!(
                eventually(Duration::from_secs(5), || sim.shared().ledger.counts().mo_sent
                    >= round)
                .await,
                "{p}: copy {round} sent"
            );
        }
        send(&long);
        assert!(
            eventually(Duration::from_secs(5), || routed.0.lock().unwrap().len() == 2).await,
            "{p}: both MOs routed"
        );
        send(&long);
        let all = 3 + 2 * long.len() as u64;
        assert!(
            eventually(Duration::from_secs(5), || sim.shared().ledger.counts().mo_sent
                == all)
            .await,
            "{p}: every copy sent"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        let got = routed.0.lock().unwrap().clone();
        assert_eq!(got.len(), 2, "{p}: routed once each: {got:?}");
        assert!(got.iter().all(|m| m.key.is_some()), "{p}: keyed: {got:?}");
        assert_eq!(got[1].text, long_text);
        assert_eq!(store.count(|e| matches!(e, Event::MoReceived(_))), 2, "{p}");
        // Every copy was answered: a dropped link re-delivers nothing.
        let before = sim.shared().ledger.counts().redelivered;
        sim.shared().faults.drop_all_now();
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(
            sim.shared().ledger.counts().redelivered,
            before,
            "{p}: nothing left unanswered"
        );
        gw.stop().await;
    }
}
