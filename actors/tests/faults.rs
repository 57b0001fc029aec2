//! Links that drop, sessions that crash, carriers that go away, inbound
//! messages: nothing accepted is lost.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use smsgw_actors::inbound::{MoHandler, RouteRule};
use smsgw_actors::session::SessionMsg;
use smsgw_actors::{Event, Gateway, GatewayConfig, MemoryStore, MessageState, Mo, Priority};
use smsgw_simulator::faults::FaultSettings;

#[tokio::test]
async fn dropped_connections_reconnect_and_nothing_is_lost() {
    let sim = sim().await;
    // Every connection is closed after 25 submits.
    set_faults(
        &sim,
        FaultSettings {
            drop_after_submits: Some(25),
            ..Default::default()
        },
    );
    let (gw, store) = gateway(&sim, carrier(&sim, Protocol::Smgp, "c1", 2, 16)).await;
    let msgs = messages(1, 300, Priority::Normal);
    gw.send(msgs.clone());
    // Halfway, every connection is also dropped at once.
    tokio::time::sleep(Duration::from_millis(50)).await;
    sim.shared().faults.drop_all_now();
    let states = wait_done(&store, &msgs, Duration::from_secs(30)).await;
    assert!(
        states.values().all(|s| *s == MessageState::Delivered),
        "{states:?}"
    );
    assert_received_once(&sim, &msgs);
    assert!(sim.shared().ledger.counts().logins_ok > 4, "it reconnected");
    gw.stop().await;
}

#[tokio::test]
async fn a_silent_link_is_detected_and_replaced() {
    let sim = sim().await;
    let mut spec = carrier(&sim, Protocol::Cmpp, "c1", 1, 16);
    spec.cfg.session.heartbeat_every = Some(Duration::from_millis(100));
    spec.cfg.session.dead_after_missed = 3;
    let (gw, store) = gateway(&sim, spec).await;
    // The carrier stops answering anything.
    set_faults(
        &sim,
        FaultSettings {
            stall: true,
            ..Default::default()
        },
    );
    let msgs = messages(1, 20, Priority::Normal);
    gw.send(msgs.clone());
    tokio::time::sleep(Duration::from_millis(600)).await;
    set_faults(&sim, FaultSettings::default());
    let states = wait_done(&store, &msgs, Duration::from_secs(10)).await;
    assert!(states.values().all(|s| *s == MessageState::Delivered));
    assert!(sim.shared().ledger.counts().logins_ok >= 2, "a new link was made");
    gw.stop().await;
}

#[tokio::test]
async fn a_crashed_session_is_restarted_alone() {
    let sim = sim().await;
    let (gw, store) = gateway(&sim, carrier(&sim, Protocol::Smpp, "c1", 2, 16)).await;
    let before = gw.sessions("c1").await;
    let (a, b) = (before[0].clone().unwrap(), before[1].clone().unwrap());
    let msgs = messages(1, 200, Priority::Normal);
    gw.send(msgs.clone());
    a.send_message(SessionMsg::Crash).unwrap();
    let states = wait_done(&store, &msgs, Duration::from_secs(15)).await;
    assert!(states.values().all(|s| *s == MessageState::Delivered));
    // What was in flight on the crashed link may go twice, at most a window.
    let recs = all_records(&sim);
    for m in &msgs {
        assert!(
            recs.iter().any(|r| r.destination == m.destination),
            "message {} lost",
            m.id
        );
    }
    assert!(recs.len() <= 200 + 20 * 2 + 16, "{} submits", recs.len());
    let after = gw.sessions("c1").await;
    let a2 = after[0].clone().expect("restarted");
    assert_ne!(a2.get_id(), a.get_id(), "the crashed one is new");
    assert_eq!(
        after[1].as_ref().unwrap().get_id(),
        b.get_id(),
        "its sibling untouched"
    );
    let sup = gw.supervisor("c1").unwrap();
    assert_eq!(
        ractor::call!(sup, smsgw_actors::supervisor::SupervisorMsg::Restarts).unwrap(),
        1
    );
    gw.stop().await;
}

#[tokio::test]
async fn backup_carrier_takes_over_when_the_primary_is_down() {
    let sim = sim().await;
    let mut primary = carrier(&sim, Protocol::Cmpp, "primary", 1, 16);
    // Nothing listens there: the primary never logs in.
    primary.cfg.addr = "127.0.0.1:1".into();
    let backup = carrier(&sim, Protocol::Smpp, "backup", 1, 16);
    let store = Arc::new(MemoryStore::new());
    let mut cfg = GatewayConfig::simple(vec![primary, backup]);
    cfg.routes = vec![route("primary", Some("backup"))];
    let gw = Gateway::start(cfg, store.clone()).await.unwrap();
    wait_sessions(&gw, 1).await;
    let msgs = messages(1, 50, Priority::Normal);
    gw.send(msgs.clone());
    let states = wait_done(&store, &msgs, Duration::from_secs(10)).await;
    assert!(states.values().all(|s| *s == MessageState::Delivered));
    let c = sim.shared().ledger.counts();
    assert!(
        c.by_account.iter().all(|a| a.account == "smsgw"),
        "all went by SMPP: {:?}",
        c.by_account
    );
    gw.stop().await;
}

struct Collect(Mutex<Vec<Mo>>);

impl MoHandler for Collect {
    fn handle(&self, mo: &Mo) {
        self.0.lock().unwrap().push(mo.clone());
    }
}

#[tokio::test]
async fn long_mo_is_reassembled_recorded_and_routed() {
    for p in [Protocol::Cmpp, Protocol::Sgip, Protocol::Smgp, Protocol::Smpp] {
        let sim = sim().await;
        let alarm = Arc::new(Collect(Mutex::new(Vec::new())));
        let other = Arc::new(Collect(Mutex::new(Vec::new())));
        let store = Arc::new(MemoryStore::new());
        let mut cfg = GatewayConfig::simple(vec![carrier(&sim, p, "c1", 1, 16)]);
        cfg.mo_rules = vec![
            (
                RouteRule {
                    service_prefix: "110".into(),
                    keyword: None,
                },
                alarm.clone() as Arc<dyn MoHandler>,
            ),
            (
                RouteRule {
                    service_prefix: String::new(),
                    keyword: None,
                },
                other.clone() as Arc<dyn MoHandler>,
            ),
        ];
        let gw = Gateway::start(cfg, store.clone()).await.unwrap();
        if p == Protocol::Sgip {
            let at = gw.sgip_addr("c1").unwrap();
            set_account(&sim, p, |a| a.sgip_sp_addr = Some(at));
        }
        wait_sessions(&gw, 1).await;
        let text = "有人抢劫，地点在人民路与解放路交叉口，请速来。".repeat(4);
        for part in smsgw_simulator::mo::parts(p, "13700001111", "110", &text).unwrap() {
            sim.shared()
                .deliver(p, login(p), smsgw_simulator::dialect::Deliverable::Mo(part));
        }
        for part in smsgw_simulator::mo::parts(p, "13700002222", "10658899", "TD").unwrap() {
            sim.shared()
                .deliver(p, login(p), smsgw_simulator::dialect::Deliverable::Mo(part));
        }
        assert!(
            eventually(Duration::from_secs(5), || alarm.0.lock().unwrap().len() == 1
                && other.0.lock().unwrap().len() == 1)
            .await,
            "{p}: MOs routed"
        );
        let got = alarm.0.lock().unwrap()[0].clone();
        assert_eq!(
            (got.source.as_str(), got.destination.as_str()),
            ("13700001111", "110")
        );
        assert_eq!(got.text, text, "{p}");
        assert!(got.complete);
        assert_eq!(other.0.lock().unwrap()[0].text, "TD");
        assert_eq!(store.count(|e| matches!(e, Event::MoReceived(_))), 2, "{p}");
        gw.stop().await;
    }
}

#[tokio::test]
async fn unanswered_submits_are_retried_then_failed() {
    let sim = sim().await;
    let mut spec = carrier(&sim, Protocol::Cmpp, "c1", 1, 16);
    spec.cfg.session.response_timeout = Duration::from_millis(150);
    spec.cfg.session.max_attempts = 2;
    spec.cfg.session.heartbeat_every = Some(Duration::from_secs(30));
    let (gw, store) = gateway(&sim, spec).await;
    set_faults(
        &sim,
        FaultSettings {
            stall: true,
            ..Default::default()
        },
    );
    let msgs = messages(1, 5, Priority::Normal);
    gw.send(msgs.clone());
    let states = wait_done(&store, &msgs, Duration::from_secs(5)).await;
    assert!(states.values().all(|s| *s == MessageState::Failed), "{states:?}");
    let failed = store.count(|e| {
        matches!(e, Event::PartDone { outcome: smsgw_actors::PartOutcome::SubmitFailed(r), .. } if r.contains("2 attempts"))
    });
    assert_eq!(failed, 5, "every part failed after 2 attempts");
    gw.stop().await;
}

#[tokio::test]
async fn a_crash_loop_backs_off() {
    let sim = sim().await;
    let mut spec = carrier(&sim, Protocol::Smgp, "c1", 2, 16);
    spec.cfg.crash_loop_restarts = 2;
    spec.cfg.crash_loop_window = Duration::from_secs(10);
    let (gw, store) = gateway(&sim, spec).await;
    let sibling = gw.sessions("c1").await[1].clone().unwrap();
    // Crash slot 0 four times as soon as it is back.
    for _ in 0..4 {
        let s = loop {
            if let Some(s) = gw.sessions("c1").await[0].clone() {
                break s;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        s.send_message(SessionMsg::Crash).unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Past the limit the restart waits (250 ms << excess), so the slot is
    // empty for a while.
    assert!(
        gw.sessions("c1").await[0].is_none(),
        "restart is delayed in a crash loop"
    );
    let sup = gw.supervisor("c1").unwrap();
    assert_eq!(
        ractor::call!(sup, smsgw_actors::supervisor::SupervisorMsg::Restarts).unwrap(),
        4
    );
    wait_sessions(&gw, 2).await;
    assert_eq!(
        gw.sessions("c1").await[1].as_ref().unwrap().get_id(),
        sibling.get_id()
    );
    // And it works.
    let msgs = messages(1, 20, Priority::Normal);
    gw.send(msgs.clone());
    wait_done(&store, &msgs, Duration::from_secs(10)).await;
    gw.stop().await;
}

#[tokio::test]
async fn a_standby_forwards_reports_and_mos_to_the_leader() {
    let sim = sim().await;
    let alarm = Arc::new(Collect(Mutex::new(Vec::new())));
    // The leader: it has no carrier session of its own here.
    let leader_store = Arc::new(MemoryStore::new());
    let mut lcfg = GatewayConfig::simple(vec![]);
    lcfg.mo_rules = vec![(
        RouteRule {
            service_prefix: "110".into(),
            keyword: None,
        },
        alarm.clone() as Arc<dyn MoHandler>,
    )];
    let leader = Arc::new(Gateway::start(lcfg, leader_store.clone()).await.unwrap());
    // The standby: logged in, forwarding what it receives.
    let fwd = leader.clone();
    let mut scfg = GatewayConfig::simple(vec![carrier(&sim, Protocol::Cmpp, "c1", 1, 16)]);
    scfg.forward = Some(Arc::new(move |d, ack| fwd.deliver(d, ack)));
    let standby = Gateway::start(scfg, Arc::new(MemoryStore::new())).await.unwrap();
    wait_sessions(&standby, 1).await;
    standby.set_leader(false).await.unwrap();
    for part in
        smsgw_simulator::mo::parts(smsgw_simulator::Protocol::Cmpp, "13700001111", "110", "help").unwrap()
    {
        sim.shared().deliver(
            smsgw_simulator::Protocol::Cmpp,
            "900001",
            smsgw_simulator::dialect::Deliverable::Mo(part),
        );
    }
    assert!(
        eventually(Duration::from_secs(5), || alarm.0.lock().unwrap().len() == 1).await,
        "MO reached the leader"
    );
    assert_eq!(leader_store.count(|e| matches!(e, Event::MoReceived(_))), 1);
    standby.stop().await;
}
