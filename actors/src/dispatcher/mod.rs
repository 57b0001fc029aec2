//! The dispatcher actor: the leader's per-route priority queues, and the
//! only place that decides what goes to which carrier session.
//!
//! A message is routed by the longest matching number prefix; a route sends
//! to its primary carrier while any of the primary's sessions is up, else
//! to its backup. When a carrier can take work (session credits and TPS
//! tokens), the route's next message (strict priority, round robin between
//! accounts) is split into parts for that carrier's protocol and the parts
//! go to the carrier's ready lane, which sessions are fed from. Parts handed
//! back (throttled, link lost, crashed session) go to the front of that lane.
//!
//! It never talks to carriers or the store, and sends nothing while paused
//! (not the leader).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

use crate::flow::TokenBucket;
use crate::model::{OutboundMessage, Part, Priority, Protocol};
use crate::queue::PriorityQueues;
use crate::reconcile::ReconcilerMsg;
use crate::session::{Inflight, SessionMsg};
use crate::split::split_message;
use resume::is_known;
use smsgw_config::CarrierProfile;

mod resume;

/// A route: numbers starting with one of `prefixes` go to `primary`, or to
/// `backup` while the primary is down. An empty prefix matches everything.
#[derive(Debug, Clone)]
pub struct RouteConfig {
    pub name: String,
    pub prefixes: Vec<String>,
    pub primary: String,
    pub backup: Option<String>,
}

/// A carrier as the dispatcher sees it.
#[derive(Clone)]
pub struct CarrierEntry {
    pub name: String,
    pub protocol: Protocol,
    /// How this carrier's messages are split (max parts, UDH style).
    pub profile: CarrierProfile,
    pub bucket: Arc<TokenBucket>,
}

pub enum DispatcherMsg {
    Enqueue(Vec<OutboundMessage>),
    /// Leadership gained: what the replicated state says is unfinished.
    /// Parts with a committed carrier id or outcome are handed to the
    /// reconciler at once and never sent again; the rest are queued and
    /// counted as re-sent after a failover.
    Resume(Vec<OutboundMessage>),
    Requeue {
        carrier: String,
        parts: Vec<Part>,
    },
    SessionUp {
        carrier: String,
        session: usize,
        actor: ActorRef<SessionMsg>,
        /// Where work is handed over (it survives the session actor).
        shared: Arc<Inflight>,
        credits: usize,
    },
    SessionDown {
        carrier: String,
        session: usize,
    },
    Credit {
        carrier: String,
        session: usize,
        n: usize,
    },
    /// A carrier's profile changed (its document entry was applied again):
    /// messages split from now on follow it.
    SetProfile {
        carrier: String,
        profile: CarrierProfile,
    },
    /// Try again (tokens may have accrued).
    Wake,
    /// Leadership: `false` stops handing out work at once.
    SetActive(bool),
    Stats(RpcReplyPort<DispatchStats>),
    /// Drops every queued message and ready part (leadership lost: the
    /// next leader rebuilds them from the replicated state, and this node
    /// rebuilds them from it too should it lead again).
    Forget,
}

/// What the dispatcher holds now.
#[derive(Debug, Clone, Default)]
pub struct DispatchStats {
    pub queued: [usize; 4],
    /// Messages queued (not yet split into parts) by the primary carrier
    /// of their route and priority class: what a feeder tops up.
    pub queued_by_carrier: HashMap<String, [usize; 4]>,
    /// Parts waiting in carriers' ready lanes.
    pub ready: usize,
    pub sessions_up: usize,
    /// Parts handed to sessions and not yet answered.
    pub in_flight: usize,
    pub messages_dispatched: u64,
    pub unroutable: u64,
    /// Parts queued again by a leadership change, with no committed
    /// carrier id (since start).
    pub failover_resent: u64,
    /// Parts taken over as submitted, awaiting their report (since start).
    pub failover_awaiting: u64,
    /// Parts handed to each carrier's sessions since start (a rate of it
    /// is the carrier's actual TPS).
    pub handed_by_carrier: HashMap<String, u64>,
    /// How long the oldest message waiting in each class has waited (ms;
    /// `None` when the class is empty), as of the stats call.
    pub oldest_age_ms: [Option<u64>; 4],
}

struct Slot {
    actor: ActorRef<SessionMsg>,
    shared: Arc<Inflight>,
    credits: usize,
}

struct CarrierState {
    entry: CarrierEntry,
    sessions: BTreeMap<usize, Slot>,
    ready: VecDeque<Part>,
    /// Where the next hand-out starts, so sessions share the load.
    rr: usize,
    /// Parts handed to sessions since start.
    handed: u64,
}

impl CarrierState {
    fn up(&self) -> bool {
        !self.sessions.is_empty()
    }

    fn credits(&self) -> usize {
        self.sessions.values().map(|s| s.credits).sum()
    }

    /// Hands ready parts to sessions, within credits and tokens. Returns
    /// how long until a token when tokens ran out with work left.
    fn feed(&mut self, now: Instant) -> Option<Duration> {
        let want = self.ready.len().min(self.credits());
        if want == 0 {
            return None;
        }
        let mut tokens = self.entry.bucket.take(want, now);
        let short = tokens < want;
        let n = self.sessions.len();
        let keys: Vec<usize> = self.sessions.keys().copied().collect();
        for k in 0..n {
            if tokens == 0 {
                break;
            }
            let key = keys[(self.rr + k) % n];
            let Some(slot) = self.sessions.get_mut(&key) else {
                continue;
            };
            let take = slot.credits.min(tokens).min(self.ready.len());
            if take == 0 {
                continue;
            }
            slot.shared.give(self.ready.drain(..take));
            self.handed += take as u64;
            slot.credits -= take;
            tokens -= take;
            if slot.actor.send_message(SessionMsg::Work).is_err() {
                // The session is gone: take the work back (not handed after all).
                let back = slot.shared.take_given();
                self.handed = self.handed.saturating_sub(back.len() as u64);
                for p in back.into_iter().rev() {
                    self.ready.push_front(p);
                }
                self.sessions.remove(&key);
            }
        }
        self.rr = self.rr.wrapping_add(1);
        short.then(|| {
            self.entry
                .bucket
                .wait(Instant::now())
                .max(Duration::from_millis(1))
        })
    }
}

struct RouteState {
    cfg: RouteConfig,
    queue: PriorityQueues<OutboundMessage>,
}

pub struct Dispatcher;

pub struct DispatcherState {
    routes: Vec<RouteState>,
    carriers: HashMap<String, CarrierState>,
    reconciler: ActorRef<ReconcilerMsg>,
    active: bool,
    wake_at: Option<Instant>,
    next_route: usize,
    dispatched: u64,
    unroutable: u64,
    failover_resent: u64,
    failover_awaiting: u64,
    last_metrics: Instant,
}

/// The route for `destination`: the longest matching prefix.
pub fn route_for<'a>(
    routes: impl Iterator<Item = (usize, &'a RouteConfig)>,
    destination: &str,
) -> Option<usize> {
    routes
        .flat_map(|(i, r)| r.prefixes.iter().map(move |p| (i, p)))
        .filter(|(_, p)| destination.starts_with(p.as_str()))
        .max_by_key(|(_, p)| p.len())
        .map(|(i, _)| i)
}

impl DispatcherState {
    fn target(&self, r: &RouteConfig) -> Option<String> {
        let up = |c: &str| self.carriers.get(c).is_some_and(|c| c.up());
        if up(&r.primary) {
            return Some(r.primary.clone());
        }
        r.backup.as_ref().filter(|b| up(b)).cloned()
    }

    fn enqueue(&mut self, mut m: OutboundMessage, resumed: bool) {
        match route_for(self.routes.iter().map(|r| &r.cfg).enumerate(), &m.destination) {
            Some(i) => {
                if (resumed || !m.known.is_empty()) && !self.resume(i, &mut m, resumed) {
                    return;
                }
                self.routes[i].queue.push(m.priority, &m.account.clone(), m)
            }
            None => {
                self.unroutable += 1;
                crate::warn_limited!(
                    "dispatch-no-route",
                    message = m.id,
                    destination = m.destination,
                    "no route"
                );
                let _ = self.reconciler.send_message(ReconcilerMsg::Track {
                    message: m.id,
                    total: 1,
                    report: true,
                    valid_until: m.valid_until,
                });
                let _ = self.reconciler.send_message(ReconcilerMsg::SubmitFailed {
                    part: crate::model::PartId {
                        message: m.id,
                        seq: 1,
                    },
                    reason: format!("no route for {}", m.destination),
                    slot: None,
                });
            }
        }
    }

    /// Moves as much work as credits and tokens allow; returns the earliest
    /// time worth trying again.
    fn dispatch(&mut self, now: Instant) -> Option<Duration> {
        if !self.active {
            return None;
        }
        let mut retry: Option<Duration> = None;
        let mut note = |d: Option<Duration>| {
            if let Some(d) = d {
                retry = Some(retry.map_or(d, |r: Duration| r.min(d)));
            }
        };
        // Handed-back work first.
        for c in self.carriers.values_mut() {
            note(c.feed(now));
        }
        let n = self.routes.len();
        for k in 0..n {
            let i = (self.next_route + k) % n;
            let Some(target) = self.target(&self.routes[i].cfg) else {
                continue;
            };
            while let Some(c) = self.carriers.get_mut(&target) {
                if !c.ready.is_empty() || c.credits() == 0 {
                    break;
                }
                let Some((_, m)) = self.routes[i].queue.pop() else {
                    break;
                };
                match split_message(&m, c.entry.protocol, &c.entry.profile) {
                    Ok(mut parts) => {
                        self.dispatched += 1;
                        if m.known.is_empty() {
                            let _ = self.reconciler.send_message(ReconcilerMsg::Track {
                                message: m.id,
                                total: parts.len() as u8,
                                report: m.report,
                                valid_until: m.valid_until,
                            });
                        } else {
                            // Tracked when resumed; its known parts never go again.
                            parts.retain(|p| !is_known(&m.known, p.id.seq));
                        }
                        c.ready.extend(parts);
                    }
                    Err(e) => {
                        let _ = self.reconciler.send_message(ReconcilerMsg::Track {
                            message: m.id,
                            total: 1,
                            report: true,
                            valid_until: m.valid_until,
                        });
                        let _ = self.reconciler.send_message(ReconcilerMsg::SubmitFailed {
                            part: crate::model::PartId {
                                message: m.id,
                                seq: 1,
                            },
                            reason: format!("cannot split: {e}"),
                            slot: None,
                        });
                        continue;
                    }
                }
                note(c.feed(now));
            }
        }
        self.next_route = self.next_route.wrapping_add(1);
        if now.saturating_duration_since(self.last_metrics) >= Duration::from_millis(100) {
            self.last_metrics = now;
            let q = self.queued();
            for p in Priority::ALL {
                crate::metrics::queue_depth(p, q[p.index()]);
                let oldest = self
                    .routes
                    .iter()
                    .filter_map(|r| r.queue.oldest_of(p, |m| m.accepted))
                    .min();
                let age = oldest.map_or(Duration::ZERO, |t| now.saturating_duration_since(t));
                crate::metrics::queue_age(p, age);
            }
        }
        retry
    }

    /// Per class, how long its oldest waiting message has waited: one look
    /// per (route, account) queue head, never a walk of the queues.
    fn oldest_ages(&self, now: Instant) -> [Option<u64>; 4] {
        let mut ages = [None; 4];
        for p in Priority::ALL {
            ages[p.index()] = self
                .routes
                .iter()
                .filter_map(|r| r.queue.oldest_of(p, |m| m.accepted))
                .min()
                .map(|t| now.saturating_duration_since(t).as_millis() as u64);
        }
        ages
    }

    fn queued(&self) -> [usize; 4] {
        let mut q = [0; 4];
        for r in &self.routes {
            for p in Priority::ALL {
                q[p.index()] += r.queue.len_of(p);
            }
        }
        q
    }
}

/// Arguments: routes, carriers, the reconciler.
pub type DispatcherArgs = (Vec<RouteConfig>, Vec<CarrierEntry>, ActorRef<ReconcilerMsg>);

impl Actor for Dispatcher {
    type Msg = DispatcherMsg;
    type State = DispatcherState;
    type Arguments = DispatcherArgs;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        (routes, carriers, reconciler): DispatcherArgs,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(DispatcherState {
            routes: routes
                .into_iter()
                .map(|cfg| RouteState {
                    cfg,
                    queue: PriorityQueues::default(),
                })
                .collect(),
            carriers: carriers
                .into_iter()
                .map(|entry| {
                    (
                        entry.name.clone(),
                        CarrierState {
                            entry,
                            sessions: BTreeMap::new(),
                            ready: VecDeque::new(),
                            rr: 0,
                            handed: 0,
                        },
                    )
                })
                .collect(),
            reconciler,
            active: true,
            wake_at: None,
            next_route: 0,
            dispatched: 0,
            unroutable: 0,
            failover_resent: 0,
            failover_awaiting: 0,
            last_metrics: Instant::now(),
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        s: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            DispatcherMsg::Enqueue(msgs) => {
                for m in msgs {
                    s.enqueue(m, false);
                }
            }
            DispatcherMsg::Resume(msgs) => {
                for m in msgs {
                    s.enqueue(m, true);
                }
            }
            DispatcherMsg::Requeue { carrier, parts } => match s.carriers.get_mut(&carrier) {
                Some(c) => {
                    for p in parts.into_iter().rev() {
                        c.ready.push_front(p);
                    }
                }
                None => tracing::error!(carrier, "parts handed back for an unknown carrier"),
            },
            DispatcherMsg::SessionUp {
                carrier,
                session,
                actor,
                shared,
                credits,
            } => {
                if let Some(c) = s.carriers.get_mut(&carrier) {
                    c.sessions.insert(
                        session,
                        Slot {
                            actor,
                            shared,
                            credits,
                        },
                    );
                }
            }
            DispatcherMsg::SessionDown { carrier, session } => {
                if let Some(c) = s.carriers.get_mut(&carrier) {
                    c.sessions.remove(&session);
                }
            }
            DispatcherMsg::Credit { carrier, session, n } => {
                if let Some(slot) = s
                    .carriers
                    .get_mut(&carrier)
                    .and_then(|c| c.sessions.get_mut(&session))
                {
                    slot.credits += n;
                }
            }
            DispatcherMsg::SetProfile { carrier, profile } => {
                if let Some(c) = s.carriers.get_mut(&carrier) {
                    c.entry.profile = profile;
                }
            }
            DispatcherMsg::Wake => s.wake_at = None,
            DispatcherMsg::SetActive(a) => s.active = a,
            DispatcherMsg::Forget => {
                for r in &mut s.routes {
                    r.queue = PriorityQueues::default();
                }
                for c in s.carriers.values_mut() {
                    c.ready.clear();
                }
            }
            DispatcherMsg::Stats(reply) => {
                let mut queued_by_carrier: HashMap<String, [usize; 4]> = HashMap::new();
                for r in &s.routes {
                    let slot = queued_by_carrier.entry(r.cfg.primary.clone()).or_default();
                    for p in Priority::ALL {
                        slot[p.index()] += r.queue.len_of(p);
                    }
                }
                let _ = reply.send(DispatchStats {
                    queued: s.queued(),
                    queued_by_carrier,
                    ready: s.carriers.values().map(|c| c.ready.len()).sum(),
                    sessions_up: s.carriers.values().map(|c| c.sessions.len()).sum(),
                    in_flight: s
                        .carriers
                        .values()
                        .flat_map(|c| c.sessions.values())
                        .map(|x| x.shared.len() + x.shared.given_len())
                        .sum(),
                    messages_dispatched: s.dispatched,
                    unroutable: s.unroutable,
                    failover_resent: s.failover_resent,
                    failover_awaiting: s.failover_awaiting,
                    handed_by_carrier: s
                        .carriers
                        .iter()
                        .map(|(name, c)| (name.clone(), c.handed))
                        .collect(),
                    oldest_age_ms: s.oldest_ages(Instant::now()),
                });
                return Ok(());
            }
        }
        let now = Instant::now();
        if let Some(d) = s.dispatch(now) {
            let at = now + d;
            // One pending wake-up at a time, the earliest.
            if s.wake_at.is_none_or(|w| at < w) {
                s.wake_at = Some(at);
                myself.send_after(d, || DispatcherMsg::Wake);
            }
        }
        Ok(())
    }
}
