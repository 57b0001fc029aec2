//! The dispatcher alone, with a stand-in session (no sockets): strict
//! priority between classes and fairness between accounts.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ractor::{Actor, ActorProcessingErr, ActorRef};
use smsgw_actors::dispatcher::{CarrierEntry, Dispatcher, DispatcherMsg, RouteConfig};
use smsgw_actors::flow::{Aimd, TokenBucket};
use smsgw_actors::reconcile::{Reconciler, ReconcilerConfig};
use smsgw_actors::session::{Inflight, SessionMsg};
use smsgw_actors::{MemoryStore, OutboundMessage, Priority, Protocol};

/// Takes handed-over parts, records their message ids in order, and gives
/// the credits straight back, as a carrier answering at once would.
struct FakeSession;

struct Fake {
    shared: Arc<Inflight>,
    seen: Arc<Mutex<Vec<u64>>>,
    dispatcher: ActorRef<DispatcherMsg>,
}

impl Actor for FakeSession {
    type Msg = SessionMsg;
    type State = Fake;
    type Arguments = Fake;

    async fn pre_start(&self, _m: ActorRef<SessionMsg>, a: Fake) -> Result<Fake, ActorProcessingErr> {
        Ok(a)
    }

    async fn handle(
        &self,
        _m: ActorRef<SessionMsg>,
        msg: SessionMsg,
        s: &mut Fake,
    ) -> Result<(), ActorProcessingErr> {
        if let SessionMsg::Work = msg {
            let parts = s.shared.take_given();
            let n = parts.len();
            s.seen.lock().unwrap().extend(parts.iter().map(|p| p.id.message));
            let _ = s.dispatcher.send_message(DispatcherMsg::Credit {
                carrier: "c".into(),
                session: 0,
                n,
            });
        }
        Ok(())
    }
}

fn msg(id: u64, account: &str, p: Priority) -> OutboundMessage {
    OutboundMessage::new(
        id,
        account,
        p,
        "1065",
        &format!("138{id:08}"),
        "x",
        Duration::from_secs(600),
    )
}

async fn setup() -> (
    ActorRef<DispatcherMsg>,
    Arc<Mutex<Vec<u64>>>,
    ActorRef<SessionMsg>,
    Arc<Inflight>,
) {
    let store = Arc::new(MemoryStore::new());
    let (rec, _) = Actor::spawn(
        None,
        Reconciler,
        (ReconcilerConfig::default(), store as Arc<dyn smsgw_actors::Store>),
    )
    .await
    .unwrap();
    let carrier = CarrierEntry {
        name: "c".into(),
        protocol: Protocol::Cmpp,
        profile: smsgw_actors::proto::default_profile(Protocol::Cmpp),
        bucket: Arc::new(TokenBucket::new("c", Aimd::with_ceiling(0), Instant::now())),
    };
    let route = RouteConfig {
        name: "all".into(),
        prefixes: vec![String::new()],
        primary: "c".into(),
        backup: None,
    };
    let (d, _) = Actor::spawn(None, Dispatcher, (vec![route], vec![carrier], rec))
        .await
        .unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let shared = Arc::new(Inflight::default());
    let (s, _) = Actor::spawn(
        None,
        FakeSession,
        Fake {
            shared: shared.clone(),
            seen: seen.clone(),
            dispatcher: d.clone(),
        },
    )
    .await
    .unwrap();
    (d, seen, s, shared)
}

async fn wait_seen(seen: &Mutex<Vec<u64>>, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while seen.lock().unwrap().len() < n {
        assert!(
            Instant::now() < deadline,
            "only {} dispatched",
            seen.lock().unwrap().len()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn alarm_behind_100k_bulk_goes_in_the_next_round() {
    let window = 16;
    let (d, seen, s, shared) = setup().await;
    let bulk: Vec<_> = (1..=100_000)
        .map(|i| msg(i, "campaign", Priority::Bulk))
        .collect();
    d.send_message(DispatcherMsg::Enqueue(bulk)).unwrap();
    d.send_message(DispatcherMsg::SessionUp {
        carrier: "c".into(),
        session: 0,
        actor: s,
        shared,
        credits: window,
    })
    .unwrap();
    // Bulk is flowing; now an alarm arrives behind what is left of it.
    wait_seen(&seen, 1_000).await;
    d.send_message(DispatcherMsg::Enqueue(vec![msg(0, "police", Priority::Alarm)]))
        .unwrap();
    let at_enqueue = seen.lock().unwrap().len();
    let deadline = Instant::now() + Duration::from_secs(10);
    let pos = loop {
        if let Some(p) = seen.lock().unwrap().iter().position(|m| *m == 0) {
            break p;
        }
        assert!(Instant::now() < deadline, "alarm never sent");
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    let stats = ractor::call!(d, DispatcherMsg::Stats).unwrap();
    assert!(
        stats.queued[Priority::Bulk as usize] > 50_000,
        "bulk still queued: {stats:?}"
    );
    // The alarm came out within the next couple of windows of work (what was
    // already in sessions' hands and mailboxes goes first).
    assert!(
        pos < at_enqueue + 4 * window,
        "alarm was part {pos}, {at_enqueue} were out when it arrived"
    );
    eprintln!(
        "alarm sent as part {pos}; {at_enqueue} parts were out when it was queued; {} bulk still queued",
        stats.queued[3]
    );
}

#[tokio::test]
async fn a_small_account_is_not_stuck_behind_a_campaign() {
    let window = 16;
    let (d, seen, s, shared) = setup().await;
    let mut all: Vec<_> = (1..=100_000).map(|i| msg(i, "big", Priority::Normal)).collect();
    all.extend((1_000_001..=1_000_010).map(|i| msg(i, "small", Priority::Normal)));
    d.send_message(DispatcherMsg::Enqueue(all)).unwrap();
    d.send_message(DispatcherMsg::SessionUp {
        carrier: "c".into(),
        session: 0,
        actor: s,
        shared,
        credits: window,
    })
    .unwrap();
    wait_seen(&seen, 40).await;
    let first: Vec<u64> = seen.lock().unwrap()[..40].to_vec();
    let small = first.iter().filter(|m| **m > 1_000_000).count();
    assert_eq!(small, 10, "small account's 10 within the first 40: {first:?}");
}
