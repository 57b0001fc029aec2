//! The carrier session actor: one per configured connection. It connects and
//! logs in, keeps the link alive (heartbeats; a link silent for
//! `dead_after_missed` heartbeat periods is dead), reconnects with capped
//! exponential backoff and jitter, logs out cleanly when stopped.
//!
//! It takes work only from the dispatcher, and only as much as the credits
//! it announced (its free window). A throttle answer returns its credit at
//! once; any other answer holds its slot until the result is committed
//! ([`commit_slot`]), so what a killed leader leaves for its successor to
//! send again is one window per session at most. A part
//! without a response within `response_timeout` is sent again up to
//! `max_attempts` times, then failed. A throttle answer halves the account's
//! rate and hands the part back; when the link dies every part in flight is
//! handed back. It never chooses what to send and never talks to the store.

pub mod commit_slot;
pub mod inflight;

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ractor::{Actor, ActorProcessingErr, ActorRef};
use rand::Rng;

use crate::dispatcher::DispatcherMsg;
use crate::flow::TokenBucket;
use crate::link::{self, ConnectTimeouts, DeliverSink, LinkEvent, LinkIo};
use crate::model::{Part, SubmitStatus};
use crate::proto::{ClientProtocol, Credentials};
use crate::reconcile::ReconcilerMsg;
pub use commit_slot::CommitSlot;
pub use inflight::{InFlight, Inflight};

/// Timers and limits of a session.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Most submits waiting for their response on this connection.
    pub window: usize,
    pub connect: ConnectTimeouts,
    pub response_timeout: Duration,
    /// Sends of one part (first + resends after a timeout) before it fails.
    pub max_attempts: u32,
    /// Heartbeat period on an idle link; `None`: the protocol's default.
    pub heartbeat_every: Option<Duration>,
    /// Heartbeat periods without any PDU after which the link is dead.
    pub dead_after_missed: u32,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// Timer resolution for timeouts and heartbeats.
    pub tick: Duration,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            window: 16,
            connect: ConnectTimeouts::default(),
            response_timeout: Duration::from_secs(30),
            max_attempts: 3,
            heartbeat_every: None,
            dead_after_missed: 3,
            backoff_min: Duration::from_millis(200),
            backoff_max: Duration::from_secs(30),
            tick: Duration::from_millis(100),
        }
    }
}

/// Everything a session needs, given by its supervisor.
pub struct SessionArgs<P: ClientProtocol> {
    pub carrier: String,
    pub index: usize,
    pub proto: Arc<P>,
    pub addr: String,
    pub creds: Credentials,
    pub cfg: SessionConfig,
    pub bucket: Arc<TokenBucket>,
    pub inflight: Arc<Inflight>,
    pub dispatcher: ActorRef<DispatcherMsg>,
    pub reconciler: ActorRef<ReconcilerMsg>,
    pub deliver: DeliverSink,
}

pub enum SessionMsg {
    /// (Re)connect now.
    Connect,
    /// Parts were handed over (in the shared [`Inflight`] outbox), within
    /// the credits this session announced.
    Work,
    /// What the link of generation `gen` saw.
    Link {
        gen: u64,
        event: LinkEvent,
    },
    Tick,
    /// A new window, live (config apply).
    SetWindow(usize),
    /// Fails the actor on purpose: how drills and tests exercise
    /// supervision.
    Crash,
}

pub struct Session<P>(PhantomData<fn() -> P>);

impl<P> Default for Session<P> {
    fn default() -> Self {
        Session(PhantomData)
    }
}

pub struct SessionState<P: ClientProtocol> {
    a: SessionArgs<P>,
    link: Option<LinkIo<P>>,
    gen: u64,
    next_seq: u32,
    attempt: u32,
    last_heartbeat: Option<Instant>,
    ticker: Option<tokio::task::JoinHandle<()>>,
    /// Logged in at least once (later logins count as reconnects).
    ever_up: bool,
}

impl<P: ClientProtocol> SessionState<P> {
    fn seq(&mut self) -> u32 {
        if let Some(k) = self.a.proto.shared_seq() {
            return k;
        }
        self.next_seq = self.next_seq.wrapping_add(1).max(2);
        self.next_seq
    }

    fn heartbeat_every(&self) -> Option<Duration> {
        self.a
            .cfg
            .heartbeat_every
            .or((P::HEARTBEAT_SECS > 0).then(|| Duration::from_secs(P::HEARTBEAT_SECS)))
    }

    fn credit(&self, n: usize) {
        if n > 0 {
            let _ = self.a.dispatcher.send_message(DispatcherMsg::Credit {
                carrier: self.a.carrier.clone(),
                session: self.a.index,
                n,
            });
        }
    }

    fn requeue(&self, parts: Vec<Part>) {
        if !parts.is_empty() {
            let _ = self.a.dispatcher.send_message(DispatcherMsg::Requeue {
                carrier: self.a.carrier.clone(),
                parts,
            });
        }
    }

    fn window_metric(&self) {
        crate::metrics::window_in_use(
            &self.a.carrier,
            P::PROTOCOL,
            self.a.index,
            self.a.inflight.in_use(),
        );
    }

    /// The slot of an answered submit, freed when its result commits.
    fn commit_slot(&self) -> CommitSlot {
        CommitSlot::hold(
            self.a.inflight.clone(),
            self.a.dispatcher.clone(),
            self.a.carrier.clone(),
            self.a.index,
        )
    }

    /// Sends `part` on the link under a fresh key; false if there is none.
    fn send(&mut self, mut part: Part, first_sent: Option<Instant>) -> bool {
        let seq = self.seq();
        let pdu = match self.a.proto.submit(seq, &part, &self.a.creds) {
            Ok(p) => p,
            Err(e) => {
                // The part itself cannot be encoded: no retry will help.
                // Nothing reached the carrier, so nothing can go twice: the
                // slot is free at once.
                let _ = self.a.reconciler.send_message(ReconcilerMsg::SubmitFailed {
                    part: part.id,
                    reason: format!("encode: {e}"),
                    slot: None,
                });
                self.credit(1);
                return true;
            }
        };
        let Some(link) = &self.link else {
            self.requeue(vec![part]);
            return false;
        };
        let now = Instant::now();
        part.attempts += 1;
        self.a.inflight.insert(
            seq,
            InFlight {
                part,
                sent_at: now,
                first_sent: first_sent.unwrap_or(now),
            },
        );
        link.send(pdu)
    }

    /// The link is gone: hand work back, tell the dispatcher, plan a
    /// reconnect.
    fn link_down(&mut self, myself: &ActorRef<SessionMsg>, reason: &str) {
        if let Some(link) = self.link.take() {
            link.abort();
            crate::metrics::connection_up(&self.a.carrier, P::PROTOCOL, false);
            tracing::warn!(
                carrier = self.a.carrier,
                session = self.a.index,
                "link down: {reason}"
            );
            let _ = self.a.dispatcher.send_message(DispatcherMsg::SessionDown {
                carrier: self.a.carrier.clone(),
                session: self.a.index,
            });
        }
        self.gen += 1;
        let parts = self.a.inflight.drain();
        crate::metrics::resent_after_loss(&self.a.carrier, parts.len());
        self.requeue(parts);
        self.window_metric();
        self.schedule_connect(myself);
    }

    fn schedule_connect(&mut self, myself: &ActorRef<SessionMsg>) {
        let d = backoff(self.a.cfg.backoff_min, self.a.cfg.backoff_max, self.attempt);
        self.attempt = self.attempt.saturating_add(1);
        myself.send_after(d, || SessionMsg::Connect);
    }

    async fn connect(&mut self, myself: &ActorRef<SessionMsg>) {
        if self.link.is_some() {
            return;
        }
        match link::connect(&*self.a.proto, &self.a.addr, &self.a.creds, self.a.cfg.connect).await {
            Ok(conn) => {
                self.gen += 1;
                let gen = self.gen;
                let me = myself.clone();
                let events: link::EventSink = Arc::new(move |event| {
                    let _ = me.send_message(SessionMsg::Link { gen, event });
                });
                let io = link::spawn(
                    conn,
                    self.a.proto.clone(),
                    self.a.carrier.clone(),
                    self.a.deliver.clone(),
                    events,
                );
                self.link = Some(io);
                self.attempt = 0;
                self.last_heartbeat = None;
                if std::mem::replace(&mut self.ever_up, true) {
                    crate::metrics::reconnect(&self.a.carrier, P::PROTOCOL);
                }
                crate::metrics::connection_up(&self.a.carrier, P::PROTOCOL, true);
                tracing::info!(
                    carrier = self.a.carrier,
                    session = self.a.index,
                    addr = self.a.addr,
                    "logged in"
                );
                // Under the count's lock: a result committing meanwhile is
                // either in these credits or credited after them.
                self.a.inflight.with_uncommitted(|uncommitted| {
                    let credits = (self.a.cfg.window).saturating_sub(self.a.inflight.len() + uncommitted);
                    let _ = self.a.dispatcher.send_message(DispatcherMsg::SessionUp {
                        carrier: self.a.carrier.clone(),
                        session: self.a.index,
                        actor: myself.clone(),
                        shared: self.a.inflight.clone(),
                        credits,
                    });
                });
            }
            Err(e) => {
                crate::metrics::connect_failed(&self.a.carrier, P::PROTOCOL);
                tracing::warn!(
                    carrier = self.a.carrier,
                    session = self.a.index,
                    "connect failed: {e}"
                );
                self.schedule_connect(myself);
            }
        }
    }

    fn on_response(&mut self, seq: u32, status: SubmitStatus) {
        let Some(f) = self.a.inflight.remove(seq) else {
            // A response after its timeout (the part was resent) or a
            // stray key: nothing waits for it.
            tracing::debug!(carrier = self.a.carrier, seq, "response to nothing in flight");
            return;
        };
        let latency = f.first_sent.elapsed();
        let c = &self.a.carrier;
        match status {
            SubmitStatus::Accepted(id) => {
                crate::metrics::response(c, P::PROTOCOL, "ok", latency);
                self.a.bucket.on_success();
                let _ = self.a.reconciler.send_message(ReconcilerMsg::Submitted {
                    part: f.part.id,
                    carrier: c.clone(),
                    carrier_msg_id: id,
                    slot: Some(self.commit_slot()),
                });
            }
            SubmitStatus::Throttled => {
                crate::metrics::response(c, P::PROTOCOL, "throttled", latency);
                crate::metrics::throttled(c, P::PROTOCOL);
                self.a.bucket.on_throttle(Instant::now());
                self.requeue(vec![f.part]);
                // No result to commit: the part goes back to the queue.
                self.credit(1);
            }
            SubmitStatus::Rejected(code) => {
                crate::metrics::response(c, P::PROTOCOL, "rejected", latency);
                let _ = self.a.reconciler.send_message(ReconcilerMsg::SubmitFailed {
                    part: f.part.id,
                    reason: format!("{} rejected with {code}", P::PROTOCOL),
                    slot: Some(self.commit_slot()),
                });
            }
        }
    }

    fn tick(&mut self, myself: &ActorRef<SessionMsg>) {
        let Some(link) = &self.link else { return };
        if let Some(every) = self.heartbeat_every() {
            let idle = link.idle();
            if idle >= every * self.a.cfg.dead_after_missed.max(1) {
                self.link_down(myself, "no answer to heartbeats");
                return;
            }
            let due = self.last_heartbeat.is_none_or(|t| t.elapsed() >= every);
            if idle >= every && due {
                let seq = self.seq();
                if let (Some(hb), Some(link)) = (self.a.proto.heartbeat(seq), &self.link) {
                    link.send(hb);
                }
                self.last_heartbeat = Some(Instant::now());
            }
        }
        let expired = self
            .a
            .inflight
            .take_expired(Instant::now(), self.a.cfg.response_timeout);
        for f in expired {
            crate::metrics::response(&self.a.carrier, P::PROTOCOL, "timeout", f.first_sent.elapsed());
            if f.part.attempts < self.a.cfg.max_attempts {
                self.send(f.part, Some(f.first_sent));
            } else {
                let _ = self.a.reconciler.send_message(ReconcilerMsg::SubmitFailed {
                    part: f.part.id,
                    reason: format!("no response after {} attempts", f.part.attempts),
                    slot: Some(self.commit_slot()),
                });
            }
        }
    }
}

/// Capped exponential backoff with jitter: a random delay in
/// [d/2, d] where d = min * 2^attempt capped at max, so a fleet of sessions
/// that lost a carrier together does not reconnect in step.
pub fn backoff(min: Duration, max: Duration, attempt: u32) -> Duration {
    let d = min.saturating_mul(1u32 << attempt.min(16)).min(max);
    let half = d / 2;
    half + d.saturating_sub(half).mul_f64(rand::thread_rng().gen::<f64>())
}

impl<P: ClientProtocol> Actor for Session<P> {
    type Msg = SessionMsg;
    type State = SessionState<P>;
    type Arguments = SessionArgs<P>;

    async fn pre_start(
        &self,
        myself: ActorRef<SessionMsg>,
        a: SessionArgs<P>,
    ) -> Result<Self::State, ActorProcessingErr> {
        let ticker = Some(myself.send_interval(a.cfg.tick, || SessionMsg::Tick));
        let _ = myself.send_message(SessionMsg::Connect);
        Ok(SessionState {
            a,
            link: None,
            gen: 0,
            next_seq: 1,
            attempt: 0,
            last_heartbeat: None,
            ticker,
            ever_up: false,
        })
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<SessionMsg>,
        s: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        if let Some(t) = s.ticker.take() {
            t.abort();
        }
        if let Some(link) = s.link.take() {
            let seq = s.seq();
            link.send(s.a.proto.logout(seq));
            link.close(Duration::from_millis(500)).await;
            crate::metrics::connection_up(&s.a.carrier, P::PROTOCOL, false);
            let _ = s.a.dispatcher.send_message(DispatcherMsg::SessionDown {
                carrier: s.a.carrier.clone(),
                session: s.a.index,
            });
        }
        let parts = s.a.inflight.drain_all();
        s.requeue(parts);
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<SessionMsg>,
        msg: SessionMsg,
        s: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            SessionMsg::Connect => s.connect(&myself).await,
            SessionMsg::Work => {
                let parts = s.a.inflight.take_given();
                let n = parts.len();
                let mut it = parts.into_iter();
                let mut sent = 0;
                for part in it.by_ref() {
                    if s.link.is_none() || s.a.inflight.in_use() >= s.a.cfg.window {
                        s.requeue(vec![part]);
                        break;
                    }
                    if s.send(part, None) {
                        sent += 1;
                    }
                }
                // What did not fit goes back (the dispatcher's view of our
                // credits was stale).
                s.requeue(it.collect());
                crate::metrics::submits(&s.a.carrier, P::PROTOCOL, sent as u64);
                if sent < n {
                    tracing::debug!(carrier = s.a.carrier, "{} of {n} parts handed back", n - sent);
                }
                s.window_metric();
            }
            SessionMsg::Link { gen, event } if gen == s.gen => match event {
                LinkEvent::Response { seq, status } => s.on_response(seq, status),
                LinkEvent::Down { reason } => s.link_down(&myself, &reason),
                LinkEvent::LoggedOut => s.link_down(&myself, "logged out"),
            },
            SessionMsg::Link { .. } => {}
            SessionMsg::Tick => s.tick(&myself),
            SessionMsg::SetWindow(w) => {
                let old = s.a.cfg.window;
                s.a.cfg.window = w.max(1);
                if s.link.is_some() && w > old {
                    s.credit(w - old);
                }
                // A smaller window takes effect as responses come back:
                // credits beyond it are handed back by Submit.
            }
            SessionMsg::Crash => return Err("crash requested".into()),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let (min, max) = (Duration::from_millis(100), Duration::from_secs(5));
        for attempt in 0..30 {
            let cap = min.saturating_mul(1 << attempt.min(16)).min(max);
            let d = backoff(min, max, attempt);
            assert!(d >= cap / 2 && d <= cap, "attempt {attempt}: {d:?} vs {cap:?}");
        }
        let spread: std::collections::HashSet<_> = (0..20).map(|_| backoff(min, max, 5)).collect();
        assert!(spread.len() > 10, "jitter");
    }
}
