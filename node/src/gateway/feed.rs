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

impl Runtime {
    pub(super) async fn feed_loop(self) {
        let mut seen: Option<(bool, u64)> = None;
        let mut metrics = self.cluster.raft().metrics();
        loop {
            let leader = self.is_leader();
            let generation = self.generation.load(Ordering::Acquire);
            if seen != Some((leader, generation)) {
                if let Some(gw) = self.gw.read().await.as_ref() {
                    // Gaining leadership re-reads every unfinished message
                    // (the store resets what it marked queued).
                    match gw.set_leader(leader).await {
                        Ok(()) => {
                            tracing::info!(leader, "gateway leadership");
                            if !leader {
                                self.store.forget_queued();
                            }
                            seen = Some((leader, generation));
                        }
                        Err(e) => tracing::warn!("set_leader({leader}): {e}; retrying"),
                    }
                }
            } else if leader {
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
                        Err(e) => tracing::warn!("reading messages to send: {e}"),
                    }
                }
            }
            tokio::select! {
                _ = self.nudge.notified() => {}
                _ = metrics.changed() => {}
                _ = tokio::time::sleep(SWEEP_EVERY) => {}
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
