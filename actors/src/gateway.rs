//! Starts and wires every actor of one node: reconciler, MO router and
//! inbound actor, dispatcher, and per carrier a token bucket, a supervisor
//! with its sessions and (SGIP) the listener for the carrier's pushes.
//!
//! This is the whole public surface the node uses; it holds handles only
//! and never makes decisions of its own.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ractor::{Actor, ActorRef};

use crate::dispatcher::{CarrierEntry, DispatchStats, Dispatcher, DispatcherMsg, RouteConfig};
use crate::error::StartError;
use crate::flow::{Aimd, TokenBucket};
use crate::inbound::{Inbound, InboundMsg, MoHandler, RouteRule, Router, RouterMsg};
use crate::link::{Ack, DeliverSink, Delivered};
use crate::model::{OutboundMessage, Protocol};
use crate::proto::cmpp::CmppClient;
use crate::proto::sgip::SgipClient;
use crate::proto::smgp::SmgpClient;
use crate::proto::smpp::SmppClient;
use crate::proto::{CarrierProfile, ClientProtocol};
use crate::reconcile::{ReconcileStats, Reconciler, ReconcilerConfig, ReconcilerMsg};
use crate::session::SessionMsg;
use crate::sgip_listener::SgipListener;
use crate::store::Store;
use crate::supervisor::{CarrierConfig, CarrierSupervisor, SupervisorArgs, SupervisorMsg};

/// One carrier of the node.
#[derive(Debug, Clone)]
pub struct CarrierSpec {
    pub protocol: Protocol,
    pub cfg: CarrierConfig,
    /// SGIP: where our server for the carrier's DELIVER/REPORT listens.
    pub sgip_listen: Option<SocketAddr>,
    /// SGIP: our node id.
    pub sgip_node_id: u32,
    /// AIMD overrides (default: [`Aimd::with_ceiling`] of `cfg.tps`).
    pub aimd: Option<Aimd>,
    /// What this carrier's gateway expects on the wire (version, login
    /// zone, fee defaults, SMPP id formats); default: the protocol's
    /// shipped profile. The node sets it from the cluster document's
    /// `Carrier::profile()`.
    pub profile: CarrierProfile,
}

impl CarrierSpec {
    pub fn new(protocol: Protocol, cfg: CarrierConfig) -> CarrierSpec {
        CarrierSpec {
            protocol,
            cfg,
            sgip_listen: (protocol == Protocol::Sgip).then(|| SocketAddr::from(([127, 0, 0, 1], 0))),
            sgip_node_id: 3_000_000_001,
            aimd: None,
            profile: crate::proto::default_profile(protocol),
        }
    }
}

pub struct GatewayConfig {
    pub carriers: Vec<CarrierSpec>,
    pub routes: Vec<RouteConfig>,
    pub reconciler: ReconcilerConfig,
    /// How long an incomplete long MO waits for its parts.
    pub mo_timeout: Duration,
    pub mo_rules: Vec<(RouteRule, Arc<dyn MoHandler>)>,
    /// Where reports and MOs received while this node is not the leader
    /// go (the node forwards them to the leader, which hands them to
    /// [`Gateway::deliver`]); `None`: always handled here. The sink must
    /// fire each item's [`Ack`] only once the leader confirmed it committed
    /// the item's fact.
    pub forward: Option<DeliverSink>,
}

impl GatewayConfig {
    /// Carriers with one catch-all route to the first carrier.
    pub fn simple(carriers: Vec<CarrierSpec>) -> GatewayConfig {
        let routes = carriers
            .first()
            .map(|c| RouteConfig {
                name: "default".into(),
                prefixes: vec![String::new()],
                primary: c.cfg.name.clone(),
                backup: None,
            })
            .into_iter()
            .collect();
        GatewayConfig {
            carriers,
            routes,
            reconciler: ReconcilerConfig::default(),
            mo_timeout: Duration::from_secs(60),
            mo_rules: Vec::new(),
            forward: None,
        }
    }
}

/// The running actors of one node.
pub struct Gateway {
    pub dispatcher: ActorRef<DispatcherMsg>,
    pub reconciler: ActorRef<ReconcilerMsg>,
    pub inbound: ActorRef<InboundMsg>,
    pub router: ActorRef<RouterMsg>,
    supervisors: Vec<(String, ActorRef<SupervisorMsg>)>,
    buckets: HashMap<String, Arc<TokenBucket>>,
    sgip: HashMap<String, SgipListener>,
    store: Arc<dyn Store>,
    local: DeliverSink,
    /// What sessions hand reports and MOs to (local, or forward on a standby).
    deliver: DeliverSink,
    leader: Arc<AtomicBool>,
}

fn spawn_err(name: &str) -> impl FnOnce(ractor::SpawnErr) -> StartError + '_ {
    move |source| StartError::Spawn {
        name: name.to_string(),
        source,
    }
}

impl Gateway {
    pub async fn start(cfg: GatewayConfig, store: Arc<dyn Store>) -> Result<Gateway, StartError> {
        let (reconciler, _) = Actor::spawn(None, Reconciler, (cfg.reconciler, store.clone()))
            .await
            .map_err(spawn_err("reconciler"))?;
        let (router, _) = Actor::spawn(None, Router, cfg.mo_rules)
            .await
            .map_err(spawn_err("router"))?;
        let (inbound, _) = Actor::spawn(None, Inbound, (store.clone(), router.clone(), cfg.mo_timeout))
            .await
            .map_err(spawn_err("inbound"))?;
        let now = Instant::now();
        let mut buckets = HashMap::new();
        let mut entries = Vec::new();
        for c in &cfg.carriers {
            let aimd = c.aimd.unwrap_or_else(|| Aimd::with_ceiling(c.cfg.tps));
            let b = Arc::new(TokenBucket::new(&c.cfg.name, aimd, now));
            buckets.insert(c.cfg.name.clone(), b.clone());
            entries.push(CarrierEntry {
                name: c.cfg.name.clone(),
                protocol: c.protocol,
                profile: c.profile.clone(),
                bucket: b,
            });
        }
        for r in &cfg.routes {
            for c in std::iter::once(&r.primary).chain(&r.backup) {
                if !buckets.contains_key(c) {
                    return Err(StartError::Config(format!(
                        "route {} names unknown carrier {c}",
                        r.name
                    )));
                }
            }
        }
        let (dispatcher, _) = Actor::spawn(None, Dispatcher, (cfg.routes, entries, reconciler.clone()))
            .await
            .map_err(spawn_err("dispatcher"))?;
        let local: DeliverSink = {
            let reconciler = reconciler.clone();
            let inbound = inbound.clone();
            Arc::new(move |d, ack| match d {
                Delivered::Report { carrier, report } => {
                    let _ = reconciler.send_message(ReconcilerMsg::Report { carrier, report, ack });
                }
                Delivered::Mo(m) => {
                    let _ = inbound.send_message(InboundMsg::Part(m, ack));
                }
            })
        };
        // A single node is its own leader until told otherwise.
        let leader = Arc::new(AtomicBool::new(true));
        let deliver: DeliverSink = match cfg.forward {
            None => local.clone(),
            Some(forward) => {
                let (local, leader) = (local.clone(), leader.clone());
                Arc::new(move |d, ack| {
                    if leader.load(Ordering::Relaxed) {
                        local(d, ack)
                    } else {
                        forward(d, ack)
                    }
                })
            }
        };
        let mut gw = Gateway {
            dispatcher,
            reconciler,
            inbound,
            router,
            supervisors: Vec::new(),
            buckets,
            sgip: HashMap::new(),
            store,
            local,
            deliver: deliver.clone(),
            leader,
        };
        for c in cfg.carriers {
            let sup = gw.start_carrier(&c).await?;
            gw.supervisors.push((c.cfg.name.clone(), sup));
        }
        Ok(gw)
    }

    /// Starts the supervisor (and SGIP listener) of one carrier.
    async fn start_carrier(&mut self, c: &CarrierSpec) -> Result<ActorRef<SupervisorMsg>, StartError> {
        let deliver = self.deliver.clone();
        let gw = &mut *self;
        let bucket = gw
            .buckets
            .get(&c.cfg.name)
            .cloned()
            .ok_or_else(|| StartError::Config(format!("unknown carrier {}", c.cfg.name)))?;
        let sup = match c.protocol {
            Protocol::Cmpp => {
                let proto = Arc::new(CmppClient::new(c.profile.clone()));
                gw.supervise(proto, c.cfg.clone(), bucket, &deliver).await?
            }
            Protocol::Smgp => {
                let proto = Arc::new(SmgpClient::new(c.profile.clone()));
                gw.supervise(proto, c.cfg.clone(), bucket, &deliver).await?
            }
            Protocol::Smpp => {
                let proto = Arc::new(SmppClient::new(c.profile.clone()));
                gw.supervise(proto, c.cfg.clone(), bucket, &deliver).await?
            }
            Protocol::Sgip => {
                // The carrier binds to us with the account's credentials.
                let expect = Some(c.cfg.creds.clone());
                // A restarted carrier keeps its listener (with the new credentials).
                if let Some(l) = gw.sgip.get(&c.cfg.name) {
                    l.set_expected(expect.clone());
                    l.set_profile(c.profile.clone());
                }
                if let Some(bind) = c.sgip_listen.filter(|_| !gw.sgip.contains_key(&c.cfg.name)) {
                    let l = SgipListener::start(
                        bind,
                        c.cfg.name.clone(),
                        expect,
                        c.profile.clone(),
                        deliver.clone(),
                        Duration::from_secs(300),
                    )
                    .await?;
                    gw.sgip.insert(c.cfg.name.clone(), l);
                }
                let proto = Arc::new(SgipClient::with_profile(c.sgip_node_id, c.profile.clone()));
                gw.supervise(proto, c.cfg.clone(), bucket, &deliver).await?
            }
        };
        Ok(sup)
    }

    /// Restarts one carrier with new settings (address, credentials,
    /// connections): its sessions log out and log in again; every other
    /// carrier keeps its connections. The carrier must exist already.
    pub async fn restart_carrier(&mut self, spec: CarrierSpec) -> Result<(), StartError> {
        let name = spec.cfg.name.clone();
        let Some(pos) = self.supervisors.iter().position(|(n, _)| *n == name) else {
            return Err(StartError::Config(format!("unknown carrier {name}")));
        };
        let (_, old) = self.supervisors.remove(pos);
        let _ = old.stop_and_wait(None, Some(Duration::from_secs(5))).await;
        if let Some(b) = self.buckets.get(&name) {
            b.set_ceiling(spec.cfg.tps);
        }
        let _ = self.dispatcher.send_message(DispatcherMsg::SetProfile {
            carrier: name.clone(),
            profile: spec.profile.clone(),
        });
        let sup = self.start_carrier(&spec).await?;
        self.supervisors.push((name, sup));
        Ok(())
    }

    async fn supervise<P: ClientProtocol>(
        &self,
        proto: Arc<P>,
        cfg: CarrierConfig,
        bucket: Arc<TokenBucket>,
        deliver: &DeliverSink,
    ) -> Result<ActorRef<SupervisorMsg>, StartError> {
        let name = format!("supervisor {}", cfg.name);
        let args = SupervisorArgs {
            cfg,
            proto,
            bucket,
            dispatcher: self.dispatcher.clone(),
            reconciler: self.reconciler.clone(),
            deliver: deliver.clone(),
        };
        let (sup, _) = Actor::spawn(None, CarrierSupervisor::<P>::default(), args)
            .await
            .map_err(spawn_err(&name))?;
        Ok(sup)
    }

    /// Queues committed messages for sending.
    pub fn send(&self, msgs: Vec<OutboundMessage>) {
        let _ = self.dispatcher.send_message(DispatcherMsg::Enqueue(msgs));
    }

    /// Queues messages accepted before this node gained leadership, read
    /// after [`Gateway::set_leader`]'s first batch: like it, parts with a
    /// committed carrier id or outcome are never sent again.
    pub fn resume(&self, msgs: Vec<OutboundMessage>) {
        let _ = self.dispatcher.send_message(DispatcherMsg::Resume(msgs));
    }

    /// Leadership changed. Gaining it re-reads what is still to be sent
    /// from the store: parts with a committed carrier id wait for their
    /// report (matched here, or expired at the deadline), parts with a
    /// committed outcome count as done, and only the other parts are sent
    /// (`smsgw_failover_resent_parts_total`). Losing it stops handing out
    /// work at once.
    pub async fn set_leader(&self, leader: bool) -> Result<(), crate::store::StoreError> {
        self.leader.store(leader, Ordering::Relaxed);
        if leader {
            let pending = self.store.pending_messages().await?;
            let _ = self.dispatcher.send_message(DispatcherMsg::Resume(pending));
        }
        let _ = self.dispatcher.send_message(DispatcherMsg::SetActive(leader));
        if !leader {
            let _ = self.dispatcher.send_message(DispatcherMsg::Forget);
        }
        Ok(())
    }

    /// Pauses (`false`) or resumes handing out work while this node stays
    /// the leader: its leader lease lapsed or came back, or a switchover
    /// that drained it did not happen. What is queued stays queued; a node
    /// that is not the leader is never resumed.
    pub fn set_dispatching(&self, on: bool) {
        let on = on && self.leader.load(Ordering::Relaxed);
        let _ = self.dispatcher.send_message(DispatcherMsg::SetActive(on));
    }

    /// A report or MO forwarded from a standby's session (the leader side
    /// of [`GatewayConfig::forward`]); `ack` is fired once its fact is
    /// committed here (never, if this node cannot commit it).
    pub fn deliver(&self, d: Delivered, ack: Ack) {
        (self.local)(d, ack)
    }

    /// A planned switchover: stop handing out work, then wait (at most
    /// `limit`) until every submit in flight is answered and every fact it
    /// produced (carrier ids above all) is committed, so the next leader
    /// sends nothing twice. Returns whether it drained.
    pub async fn drain(&self, limit: Duration) -> bool {
        let _ = self.dispatcher.send_message(DispatcherMsg::SetActive(false));
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let answered = self.dispatch_stats().await.is_some_and(|s| s.in_flight == 0);
            if answered
                && self
                    .reconcile_stats()
                    .await
                    .is_some_and(|s| s.events_unflushed == 0)
            {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// A new TPS ceiling, live (0: none).
    pub fn set_tps(&self, carrier: &str, tps: u32) -> bool {
        self.buckets.get(carrier).map(|b| b.set_ceiling(tps)).is_some()
    }

    /// A new window for every session of `carrier`, live.
    pub async fn set_window(&self, carrier: &str, window: usize) {
        for s in self.sessions(carrier).await.into_iter().flatten() {
            let _ = s.send_message(SessionMsg::SetWindow(window));
        }
    }

    /// The carriers' names.
    pub fn carriers(&self) -> Vec<String> {
        self.supervisors.iter().map(|(n, _)| n.clone()).collect()
    }

    /// Where an SGIP carrier must push reports and MOs.
    pub fn sgip_addr(&self, carrier: &str) -> Option<SocketAddr> {
        self.sgip.get(carrier).map(|l| l.addr())
    }

    pub fn bucket(&self, carrier: &str) -> Option<Arc<TokenBucket>> {
        self.buckets.get(carrier).cloned()
    }

    pub fn supervisor(&self, carrier: &str) -> Option<ActorRef<SupervisorMsg>> {
        self.supervisors
            .iter()
            .find(|(n, _)| n == carrier)
            .map(|(_, s)| s.clone())
    }

    /// The session actors of a carrier (a slot is `None` while restarting).
    pub async fn sessions(&self, carrier: &str) -> Vec<Option<ActorRef<SessionMsg>>> {
        let Some(sup) = self.supervisor(carrier) else {
            return Vec::new();
        };
        ractor::call!(sup, SupervisorMsg::Sessions).unwrap_or_default()
    }

    pub async fn dispatch_stats(&self) -> Option<DispatchStats> {
        ractor::call!(self.dispatcher, DispatcherMsg::Stats).ok()
    }

    pub async fn reconcile_stats(&self) -> Option<ReconcileStats> {
        ractor::call!(self.reconciler, ReconcilerMsg::Stats).ok()
    }

    /// Logs every session out, then stops the actors, flushing the
    /// reconciler's last batch.
    pub async fn stop(self) {
        let t = Some(Duration::from_secs(5));
        for (_, s) in &self.supervisors {
            let _ = s.stop_and_wait(None, t).await;
        }
        let _ = self.dispatcher.stop_and_wait(None, t).await;
        let _ = self.inbound.stop_and_wait(None, t).await;
        let _ = self.router.stop_and_wait(None, t).await;
        let _ = self.reconciler.stop_and_wait(None, t).await;
    }
}
