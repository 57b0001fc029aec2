//! The leader's feeding and the health of carrier sessions: follows raft
//! leadership into `Gateway::set_leader`, hands every unfinished message to
//! the leader's dispatcher exactly once per leadership, and answers
//! `/readyz`'s "carrier sessions up".
//!
//! It must never queue on a node that is not the leader.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::Runtime;
use crate::api::ReadyCheck;

/// How often the leader looks for messages accepted through followers.
const SWEEP_EVERY: Duration = Duration::from_millis(200);
/// The shortest gap between two feeding steps: nudges (one per commit) and
/// raft metrics changes coalesce into at most one step per gap, so the
/// loop's cost does not follow the commit rate. Far below the 1 s an alarm
/// may take to reach a carrier.
const FEED_MIN_GAP: Duration = Duration::from_millis(10);
/// How long a planned switchover waits for submits in flight to be
/// answered and their carrier ids committed: longer than a submit's
/// response timeout (10 s), so a slow carrier answers or fails first.
const DRAIN_LIMIT: Duration = Duration::from_secs(15);

/// A planned transfer of leadership: the gateway stops dispatching and
/// settles what is in flight first, so the next leader sends nothing twice.
pub(super) struct Quiesce(pub(super) Runtime);

impl smsgw_raft::TransferHook for Quiesce {
    fn before_transfer(&self) -> futures::future::BoxFuture<'static, ()> {
        let rt = self.0.clone();
        Box::pin(async move {
            rt.draining.store(true, Ordering::Release);
            if let Some(gw) = rt.gw.read().await.as_ref() {
                if gw.drain(DRAIN_LIMIT).await {
                    tracing::info!("dispatch drained for a planned switchover");
                } else {
                    tracing::warn!(
                        "dispatch not drained within {DRAIN_LIMIT:?}: parts still in flight may be sent again by the next leader"
                    );
                }
            }
        })
    }

    fn after_failed_transfer(&self) -> futures::future::BoxFuture<'static, ()> {
        let rt = self.0.clone();
        Box::pin(async move {
            rt.draining.store(false, Ordering::Release);
            if let Some(gw) = rt.gw.read().await.as_ref() {
                gw.set_dispatching(rt.cluster.leads_with_lease());
                tracing::warn!("the switchover did not happen: dispatching again");
            }
        })
    }
}

/// Counts a leader's dispatch pause as it starts
/// (`smsgw_dispatch_pauses_total{reason}`: `lease`, its lease lapsed;
/// `switchover`, drained for a planned transfer) and times it as it ends
/// (`smsgw_dispatch_pause_seconds{reason}`): while paused, nothing goes to
/// the carriers. Returns the pause now under way, if any.
fn count_pause(
    paused: Option<(std::time::Instant, &'static str)>,
    dispatching: bool,
    draining: bool,
) -> Option<(std::time::Instant, &'static str)> {
    if dispatching {
        if let Some((since, reason)) = paused {
            metrics::histogram!("smsgw_dispatch_pause_seconds", "reason" => reason)
                .record(since.elapsed().as_secs_f64());
        }
        return None;
    }
    let reason = if draining { "switchover" } else { "lease" };
    metrics::counter!("smsgw_dispatch_pauses_total", "reason" => reason).increment(1);
    Some((std::time::Instant::now(), reason))
}

impl Runtime {
    pub(super) async fn feed_loop(self) {
        let mut seen: Option<(bool, u64)> = None;
        // Whether dispatch runs under a valid lease (as last told to the gateway).
        let mut dispatching = true;
        // Since when, and why, this leader has held its dispatch back.
        let mut paused: Option<(std::time::Instant, &'static str)> = None;
        let mut metrics = self.cluster.raft().metrics();
        loop {
            let generation = self.generation.load(Ordering::Acquire);
            // The drills' broken build: once leader, always leader.
            let stuck = super::fault::dispatch_ignores_leadership() && seen == Some((true, generation));
            let leader = self.is_leader() || stuck;
            if seen != Some((leader, generation)) {
                if let Some(gw) = self.gw.read().await.as_ref() {
                    // Gaining leadership re-reads every unfinished message
                    // (the store resets what it marked queued).
                    match gw.set_leader(leader).await {
                        Ok(()) => {
                            tracing::info!(leader, "gateway leadership");
                            if !leader {
                                self.store.forget_queued();
                                self.draining.store(false, Ordering::Release);
                            }
                            // set_leader turned dispatch on (or off with leadership).
                            dispatching = leader;
                            // A pause ends with the leadership it paused.
                            paused = None;
                            seen = Some((leader, generation));
                        }
                        Err(e) => tracing::warn!("set_leader({leader}): {e}; retrying"),
                    }
                }
            }
            if seen == Some((true, generation)) {
                // A leader whose lease lapsed (cut off from the majority, or
                // too slow to confirm) pauses sending but keeps its queues:
                // dropping them would resend what is in flight when the
                // lease comes back.
                let draining = self.draining.load(Ordering::Acquire);
                let lease = (self.cluster.leads_with_lease() || stuck) && !draining;
                if lease != dispatching {
                    if let Some(gw) = self.gw.read().await.as_ref() {
                        gw.set_dispatching(lease);
                        tracing::info!(lease, "leader lease");
                        dispatching = lease;
                        paused = count_pause(paused, lease, draining);
                    }
                }
                if let Some(gw) = self.gw.read().await.as_ref() {
                    // What the dispatcher holds now: it answers after every
                    // batch handed before, so this never double-counts room.
                    let held = gw
                        .dispatch_stats()
                        .await
                        .map(|s| s.queued_by_carrier)
                        .unwrap_or_default();
                    match self.store.take_new(&held) {
                        Ok(fed) => {
                            if !fed.resumed.is_empty() {
                                gw.resume(fed.resumed);
                            }
                            if !fed.fresh.is_empty() {
                                gw.send(fed.fresh);
                            }
                        }
                        Err(e) => smsgw_actors::warn_limited!("feed-read", "reading messages to send: {e}"),
                    }
                }
            }
            // Coalesce: what arrives meanwhile is read by the next step
            // (a nudge sent now stays pending in the Notify).
            tokio::time::sleep(FEED_MIN_GAP).await;
            let mut raft_gone = false;
            tokio::select! {
                _ = self.nudge.notified() => {}
                r = metrics.changed() => raft_gone = r.is_err(),
                _ = tokio::time::sleep(SWEEP_EVERY) => {}
            }
            if raft_gone {
                // Raft stopped (and may have been rebuilt after a storage
                // error): watch the instance in service now, or this loop
                // would wake at once forever on the closed channel.
                metrics = self.cluster.raft().metrics();
                tokio::time::sleep(SWEEP_EVERY).await;
            }
        }
    }

    /// Keeps "every carrier has a session up" fresh for `/readyz`.
    pub(super) async fn health_loop(self) {
        loop {
            let up = match self.gw.read().await.as_ref() {
                None => false,
                Some(gw) => gw.dispatch_stats().await.is_some_and(|s| {
                    let carriers = gw.carriers().len();
                    carriers > 0 && s.sessions_up >= carriers
                }),
            };
            self.sessions_up.store(up, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// The `/readyz` check for carrier sessions.
    pub fn ready_check(&self) -> std::sync::Arc<dyn ReadyCheck> {
        std::sync::Arc::new(SessionsUp(self.sessions_up.clone()))
    }
}

struct SessionsUp(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl ReadyCheck for SessionsUp {
    fn name(&self) -> &str {
        "carrier sessions up"
    }

    fn check(&self) -> Result<(), String> {
        if self.0.load(Ordering::Relaxed) {
            Ok(())
        } else {
            Err("not every carrier has a session logged in".into())
        }
    }
}
