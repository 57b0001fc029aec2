//! A long MO recorded whole, then one of its segments delivered again
//! alone to a new gateway (a new leader: no reassembler memory of it), for
//! all four protocols over real sockets: the segment's key is known, so it
//! is answered at once and dropped; the store holds one MO and the router
//! saw one. Before, an MO was keyed by its first segment only, and a lone
//! later segment waited unanswered in a reassembly, then was recorded again.

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

async fn start(
    sim: &smsgw_simulator::Simulator,
    p: Protocol,
    store: Arc<MemoryStore>,
) -> (Gateway, Arc<Collect>) {
    let routed = Arc::new(Collect(Mutex::new(Vec::new())));
    let mut cfg = GatewayConfig::simple(vec![carrier(sim, p, "c1", 1, 16)]);
    cfg.mo_rules = vec![(
        RouteRule {
            service_prefix: String::new(),
            keyword: None,
        },
        routed.clone() as Arc<dyn MoHandler>,
    )];
    let gw = Gateway::start(cfg, store).await.unwrap();
    if p == Protocol::Sgip {
        let at = gw.sgip_addr("c1").unwrap();
        set_account(sim, p, |a| a.sgip_sp_addr = Some(at));
    }
    wait_sessions(&gw, 1).await;
    (gw, routed)
}

#[tokio::test]
async fn a_lone_segment_of_a_recorded_long_mo_is_answered_and_dropped_on_every_protocol() {
    for p in [Protocol::Cmpp, Protocol::Sgip, Protocol::Smgp, Protocol::Smpp] {
        let sim = sim().await;
        let store = Arc::new(MemoryStore::new());
        let text = "有人抢劫，地点在人民路与解放路交叉口，请速来。".repeat(7);
        let parts = smsgw_simulator::mo::parts(p, "13700005555", "110", &text).unwrap();
        assert!(parts.len() >= 3, "{p}: {} segments", parts.len());

        let (gw, routed) = start(&sim, p, store.clone()).await;
        for part in &parts {
            sim.shared().deliver(p, login(p), Deliverable::Mo(part.clone()));
        }
        assert!(
            eventually(Duration::from_secs(5), || routed.0.lock().unwrap().len() == 1).await,
            "{p}: the long MO routed"
        );
        let first = routed.0.lock().unwrap()[0].clone();
        assert_eq!(first.text, text);
        assert_eq!(first.segments.len(), parts.len(), "{p}: every segment keyed");
        gw.stop().await;

        // A new gateway on the same store; the second segment again, alone.
        let (gw, routed) = start(&sim, p, store.clone()).await;
        let sent = sim.shared().ledger.counts().mo_sent;
        sim.shared()
            .deliver(p, login(p), Deliverable::Mo(parts[1].clone()));
        assert!(
            eventually(Duration::from_secs(5), || sim.shared().ledger.counts().mo_sent
                > sent)
            .await,
            "{p}: the segment sent"
        );
        // Answered: a dropped link then re-delivers nothing.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let before = sim.shared().ledger.counts().redelivered;
        sim.shared().faults.drop_all_now();
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(
            sim.shared().ledger.counts().redelivered,
            before,
            "{p}: the lone segment was answered"
        );
        assert!(routed.0.lock().unwrap().is_empty(), "{p}: not routed again");
        assert_eq!(
            store.count(|e| matches!(e, Event::MoReceived(_))),
            1,
            "{p}: one record"
        );
        gw.stop().await;
    }
}
