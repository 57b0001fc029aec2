//! One supervisor per carrier: spawns the carrier's session actors linked to
//! itself and restarts one that fails without touching its siblings. A
//! session that keeps failing (more than `crash_loop_restarts` within
//! `crash_loop_window`) is restarted after a growing delay, and the
//! `smsgw_carrier_crash_loop` gauge goes to 1 until it stays up.
//!
//! When a session dies, its in-flight parts (held outside its state) are
//! handed back to the dispatcher. The supervisor never sends messages to a
//! carrier itself.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ractor::{Actor, ActorId, ActorProcessingErr, ActorRef, SupervisionEvent};

use crate::dispatcher::DispatcherMsg;
use crate::flow::TokenBucket;
use crate::link::DeliverSink;
use crate::proto::{ClientProtocol, Credentials};
use crate::reconcile::ReconcilerMsg;
use crate::session::{Inflight, Session, SessionArgs, SessionConfig, SessionMsg};

/// One carrier account and how to reach it.
#[derive(Debug, Clone)]
pub struct CarrierConfig {
    pub name: String,
    pub addr: String,
    pub creds: Credentials,
    /// Connections to keep logged in.
    pub sessions: usize,
    pub session: SessionConfig,
    /// Submits per second for the account (0: no ceiling).
    pub tps: u32,
    pub crash_loop_restarts: usize,
    pub crash_loop_window: Duration,
}

impl CarrierConfig {
    pub fn new(name: &str, addr: &str, login: &str, password: &str) -> CarrierConfig {
        CarrierConfig {
            name: name.to_string(),
            addr: addr.to_string(),
            creds: Credentials {
                login: login.to_string(),
                password: password.to_string(),
            },
            sessions: 1,
            session: SessionConfig::default(),
            tps: 0,
            crash_loop_restarts: 3,
            crash_loop_window: Duration::from_secs(10),
        }
    }
}

pub struct SupervisorArgs<P: ClientProtocol> {
    pub cfg: CarrierConfig,
    pub proto: Arc<P>,
    pub bucket: Arc<TokenBucket>,
    pub dispatcher: ActorRef<DispatcherMsg>,
    pub reconciler: ActorRef<ReconcilerMsg>,
    pub deliver: DeliverSink,
}

pub enum SupervisorMsg {
    Restart(usize),
    /// The current session actors (for tests and the node's status).
    Sessions(ractor::RpcReplyPort<Vec<Option<ActorRef<SessionMsg>>>>),
    /// Restarts counted since start.
    Restarts(ractor::RpcReplyPort<u64>),
}

struct SlotState {
    actor: Option<ActorRef<SessionMsg>>,
    inflight: Arc<Inflight>,
    recent: VecDeque<Instant>,
}

pub struct CarrierSupervisor<P>(std::marker::PhantomData<fn() -> P>);

impl<P> Default for CarrierSupervisor<P> {
    fn default() -> Self {
        CarrierSupervisor(std::marker::PhantomData)
    }
}

pub struct SupervisorState<P: ClientProtocol> {
    a: SupervisorArgs<P>,
    slots: Vec<SlotState>,
    by_id: HashMap<ActorId, usize>,
    restarts: u64,
}

impl<P: ClientProtocol> SupervisorState<P> {
    async fn spawn(
        &mut self,
        myself: &ActorRef<SupervisorMsg>,
        index: usize,
    ) -> Result<(), ActorProcessingErr> {
        let Some(slot) = self.slots.get(index) else {
            return Ok(());
        };
        let args = SessionArgs {
            carrier: self.a.cfg.name.clone(),
            index,
            proto: self.a.proto.clone(),
            addr: self.a.cfg.addr.clone(),
            creds: self.a.cfg.creds.clone(),
            cfg: self.a.cfg.session.clone(),
            bucket: self.a.bucket.clone(),
            inflight: slot.inflight.clone(),
            dispatcher: self.a.dispatcher.clone(),
            reconciler: self.a.reconciler.clone(),
            deliver: self.a.deliver.clone(),
        };
        let (actor, _) = Actor::spawn_linked(None, Session::<P>::default(), args, myself.get_cell()).await?;
        self.by_id.insert(actor.get_id(), index);
        if let Some(slot) = self.slots.get_mut(index) {
            slot.actor = Some(actor);
        }
        Ok(())
    }

    /// A session ended: hand back its work and plan its restart.
    fn lost(&mut self, myself: &ActorRef<SupervisorMsg>, id: ActorId, why: &str) {
        let Some(index) = self.by_id.remove(&id) else {
            return;
        };
        let carrier = self.a.cfg.name.clone();
        let _ = self.a.dispatcher.send_message(DispatcherMsg::SessionDown {
            carrier: carrier.clone(),
            session: index,
        });
        let Some(slot) = self.slots.get_mut(index) else {
            return;
        };
        slot.actor = None;
        let mut parts = slot.inflight.take_given();
        let lost = slot.inflight.drain();
        crate::metrics::resent_after_loss(&carrier, lost.len());
        parts.extend(lost);
        if !parts.is_empty() {
            let _ = self.a.dispatcher.send_message(DispatcherMsg::Requeue {
                carrier: carrier.clone(),
                parts,
            });
        }
        let now = Instant::now();
        slot.recent.push_back(now);
        while slot
            .recent
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) > self.a.cfg.crash_loop_window)
        {
            slot.recent.pop_front();
        }
        self.restarts += 1;
        let over = slot.recent.len().saturating_sub(self.a.cfg.crash_loop_restarts);
        let crash_loop = over > 0;
        crate::metrics::session_restart(&carrier, crash_loop);
        let delay = if crash_loop {
            Duration::from_millis(250u64 << over.min(7)).min(Duration::from_secs(30))
        } else {
            Duration::ZERO
        };
        tracing::warn!(
            carrier,
            session = index,
            ?delay,
            crash_loop,
            "session ended ({why}); restarting"
        );
        myself.send_after(delay, move || SupervisorMsg::Restart(index));
    }
}

impl<P: ClientProtocol> Actor for CarrierSupervisor<P> {
    type Msg = SupervisorMsg;
    type State = SupervisorState<P>;
    type Arguments = SupervisorArgs<P>;

    async fn pre_start(
        &self,
        myself: ActorRef<SupervisorMsg>,
        a: SupervisorArgs<P>,
    ) -> Result<Self::State, ActorProcessingErr> {
        let n = a.cfg.sessions.max(1);
        let mut s = SupervisorState {
            a,
            slots: (0..n)
                .map(|_| SlotState {
                    actor: None,
                    inflight: Arc::new(Inflight::default()),
                    recent: VecDeque::new(),
                })
                .collect(),
            by_id: HashMap::new(),
            restarts: 0,
        };
        for i in 0..n {
            s.spawn(&myself, i).await?;
        }
        Ok(s)
    }

    async fn post_stop(
        &self,
        myself: ActorRef<SupervisorMsg>,
        _s: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        // Sessions log out and hand back their work before we are gone.
        myself
            .get_cell()
            .stop_children_and_wait(Some("carrier shutdown".into()), Some(Duration::from_secs(3)))
            .await;
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<SupervisorMsg>,
        msg: SupervisorMsg,
        s: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            SupervisorMsg::Restart(i) => {
                if s.slots.get(i).is_some_and(|slot| slot.actor.is_none()) {
                    s.spawn(&myself, i).await?;
                }
            }
            SupervisorMsg::Sessions(reply) => {
                let _ = reply.send(s.slots.iter().map(|x| x.actor.clone()).collect());
            }
            SupervisorMsg::Restarts(reply) => {
                let _ = reply.send(s.restarts);
            }
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<SupervisorMsg>,
        evt: SupervisionEvent,
        s: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match evt {
            SupervisionEvent::ActorFailed(cell, err) => s.lost(&myself, cell.get_id(), &err.to_string()),
            SupervisionEvent::ActorTerminated(cell, _, reason) => {
                s.lost(&myself, cell.get_id(), reason.as_deref().unwrap_or("stopped"))
            }
            _ => {}
        }
        Ok(())
    }
}
