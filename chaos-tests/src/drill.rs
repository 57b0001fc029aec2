//! A drill: start the cluster, start honest clients, run each nemesis for
//! its rounds (inject, hold, heal, wait until the cluster serves again),
//! stop the clients, collect the carrier's ledger and the final statuses,
//! and hand the history to the checker. It must never decide a verdict
//! itself; what it cannot do (a cluster that never recovers) it reports as
//! a problem next to the checker's verdict.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use smsgw_simulator::ledger::Filter;

use crate::carrier_link::{node_of_ip, CARRIER};
use crate::checker::{self, Bounds, Verdict, Violation, FINAL};
use crate::client::{Load, LoadSpec};
use crate::cluster::{Cluster, ClusterSpec, KEY};
use crate::error::{ChaosError, Result};
use crate::history::{CarrierSubmit, FaultWindow, History, MoSeen};
use crate::http::request;
use crate::mo_source::{self, MoSource};
use crate::nemesis::Nemesis;

/// What a drill does.
#[derive(Debug, Clone)]
pub struct DrillSpec {
    pub cluster: ClusterSpec,
    pub load: LoadSpec,
    /// Each nemesis with its number of rounds, run in this order.
    pub plan: Vec<(Nemesis, u32)>,
    /// How long each fault is held before it is healed.
    pub hold: Duration,
    /// Load without faults after each recovery.
    pub quiet: Duration,
    /// How long accepted messages get to reach a final status at the end.
    pub final_wait: Duration,
    /// How long the cluster gets to serve again after a heal.
    pub recover_wait: Duration,
    /// Keep the node files, data and logs even when the verdict is OK.
    pub keep_dir: bool,
    /// Mix the nemeses' rounds (each next round goes to the nemesis least
    /// far through its rounds) instead of running them one after another.
    pub interleave: bool,
    /// Start no new round after this long; the report says how many ran.
    pub budget: Option<Duration>,
}

impl Default for DrillSpec {
    fn default() -> Self {
        let cluster = ClusterSpec::default();
        DrillSpec {
            cluster,
            load: LoadSpec::default(),
            plan: vec![],
            hold: Duration::from_secs(3),
            quiet: Duration::from_secs(1),
            final_wait: Duration::from_secs(60),
            recover_wait: Duration::from_secs(30),
            keep_dir: false,
            interleave: false,
            budget: None,
        }
    }
}

impl DrillSpec {
    /// `rounds` rounds of each of `nemeses`.
    pub fn uniform(nemeses: &[Nemesis], rounds: u32) -> Vec<(Nemesis, u32)> {
        nemeses.iter().map(|&n| (n, rounds)).collect()
    }

    /// Duplicates allowed per round: one window in flight on the carrier
    /// link plus one reconciler batch (8) of answers not yet committed,
    /// once more for every carrier link reset in the round. A
    /// handover may land one window (the drill's carrier has one link per
    /// node); a node is sending while its submits are 400 ms apart or less,
    /// under the 500 ms shortest election timeout.
    pub fn bounds(&self) -> Bounds {
        Bounds {
            dup_bound_per_round: u64::from(self.cluster.window) + 8,
            handover_parts: u64::from(self.cluster.window),
            sender_gap_ms: 400,
        }
    }
}

/// Everything a drill produced.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DrillReport {
    pub nodes: u64,
    pub rate: f64,
    /// `nemesis:rounds` in the order they ran.
    pub plan: Vec<String>,
    pub duration_ms: u64,
    pub carrier_submits: u64,
    pub dup_bound_per_round: u64,
    pub handover_parts: u64,
    /// Rounds of the plan not run because the time budget ran out.
    pub rounds_skipped: u32,
    pub verdict: Verdict,
    /// Where node logs were kept (when the verdict failed, or asked to).
    pub kept_dir: Option<String>,
    #[serde(skip)]
    pub history: History,
}

impl DrillReport {
    pub fn ok(&self) -> bool {
        self.verdict.ok()
    }
}

fn ms(t0: Instant) -> u64 {
    t0.elapsed().as_millis() as u64
}

/// Runs the drill with the `smsgw` binary at `bin`.
pub async fn run(bin: &Path, spec: &DrillSpec) -> Result<DrillReport> {
    for (n, _) in &spec.plan {
        n.precheck().map_err(|detail| ChaosError::Command {
            what: format!("nemesis {}", n.name()),
            detail,
        })?;
    }
    let mut cluster = spec.cluster.clone();
    if spec.plan.iter().any(|(n, _)| n.needs_tmpfs()) && cluster.tmpfs_data_mb.is_none() {
        cluster.tmpfs_data_mb = Some(64);
    }
    let mut c = Cluster::start(bin, cluster).await?;
    let t0 = Instant::now();
    let wall0 = chrono::Utc::now().timestamp_millis();
    let load = Load::start(&spec.load, c.http_addrs(), t0);
    let mo_source = MoSource::start(c.sim.shared().clone(), spec.load.mo_rate, t0);
    wait_accepts(&load, 1, Duration::from_secs(30)).await?;
    tokio::time::sleep(spec.quiet).await;
    let mut faults = Vec::new();
    let mut problems = Vec::new();
    let mut rounds_skipped = 0u32;
    for (nemesis, round) in schedule(&spec.plan, spec.interleave) {
        {
            if spec.budget.is_some_and(|b| t0.elapsed() >= b) {
                rounds_skipped += 1;
                continue;
            }
            let start_ms = ms(t0);
            let resets0 = c.net.resets_to(CARRIER);
            let injected = match nemesis.inject(&mut c).await {
                Ok(i) => i,
                Err(e) => {
                    problems.push(format!("{} round {round}: could not inject: {e}", nemesis.name()));
                    // A half-injected fault must not take later rounds down
                    // with it: bring back any node it stopped.
                    for n in c.nodes.iter_mut().filter(|n| !n.is_running()) {
                        if let Err(e) = n.restart().await {
                            problems.push(format!("node {} did not restart: {e}", n.id));
                        }
                    }
                    continue;
                }
            };
            tracing::info!(nemesis = nemesis.name(), round, "{}", injected.detail);
            tokio::time::sleep(spec.hold).await;
            let heal_ms = ms(t0);
            if let Err(e) = injected.heal(&mut c).await {
                problems.push(format!("{} round {round}: could not heal: {e}", nemesis.name()));
            }
            if let Err(e) = recover(&c, &load, spec.recover_wait).await {
                problems.push(format!(
                    "{} round {round} ({}): the cluster did not serve again: {e}",
                    nemesis.name(),
                    injected.detail
                ));
            }
            tokio::time::sleep(spec.quiet).await;
            faults.push(FaultWindow {
                nemesis: nemesis.name().into(),
                round,
                detail: injected.detail,
                start_ms,
                heal_ms,
                end_ms: ms(t0),
                carrier_resets: c.net.resets_to(CARRIER) - resets0,
            });
        }
    }
    let ops = load.stop().await;
    let mos = mo_source.stop().await;
    let end_ms = ms(t0);
    let ids: BTreeSet<String> = ops
        .iter()
        .flat_map(|o| o.accepted_ids().into_iter().map(str::to_string))
        .collect();
    let statuses = final_statuses(&c, &ids, spec.final_wait).await;
    let carrier = carrier_submits(&c, wall0);
    // MOs a carrier re-delivers after a dropped link come late: they get
    // the same time as the messages' final statuses.
    let mo_recorded = mo_source::recorded(&c, &mos, spec.final_wait).await.map(|m| {
        m.into_iter()
            .map(|((from, text), count)| MoSeen { from, text, count })
            .collect()
    });
    let history = History {
        ops,
        faults,
        carrier,
        statuses,
        end_ms,
        mos,
        mo_recorded,
    };
    let mut verdict = checker::check(&history, &spec.bounds());
    for p in problems {
        verdict.violations.push(Violation {
            kind: "no_recovery".into(),
            detail: p,
        });
    }
    let carrier_submits = history.carrier.len() as u64;
    let kept_dir = if verdict.ok() && !spec.keep_dir {
        None
    } else {
        Some(c.keep_dir().display().to_string())
    };
    Ok(DrillReport {
        nodes: spec.cluster.nodes,
        rate: spec.load.rate,
        plan: spec
            .plan
            .iter()
            .map(|(n, r)| format!("{}:{r}", n.name()))
            .collect(),
        duration_ms: end_ms,
        carrier_submits,
        dup_bound_per_round: spec.bounds().dup_bound_per_round,
        handover_parts: spec.bounds().handover_parts,
        rounds_skipped,
        verdict,
        kept_dir,
        history,
    })
}

/// The rounds in the order they run: each nemesis's rounds in turn, or
/// interleaved (the next round goes to the nemesis least far through its
/// own, first in the plan on a tie).
fn schedule(plan: &[(Nemesis, u32)], interleave: bool) -> Vec<(Nemesis, u32)> {
    if !interleave {
        return plan
            .iter()
            .flat_map(|&(n, rounds)| (1..=rounds).map(move |r| (n, r)))
            .collect();
    }
    let mut done = vec![0u32; plan.len()];
    let mut out = Vec::new();
    loop {
        let next = (0..plan.len()).filter(|&i| done[i] < plan[i].1).min_by(|&a, &b| {
            let fa = f64::from(done[a]) / f64::from(plan[a].1);
            let fb = f64::from(done[b]) / f64::from(plan[b].1);
            fa.total_cmp(&fb).then(a.cmp(&b))
        });
        let Some(i) = next else { return out };
        done[i] += 1;
        out.push((plan[i].0, done[i]));
    }
}

async fn wait_accepts(load: &Load, n: usize, timeout: Duration) -> Result<()> {
    let deadline = Instant::now() + timeout;
    while load.accepted() < n {
        if Instant::now() >= deadline {
            return Err(ChaosError::Timeout {
                what: format!("{n} accepted messages"),
                secs: timeout.as_secs(),
            });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// After a heal: a leader, every node ready, and new messages accepted.
async fn recover(c: &Cluster, load: &Load, timeout: Duration) -> Result<()> {
    let deadline = Instant::now() + timeout;
    c.wait_leader(timeout).await?;
    c.wait_ready(deadline.saturating_duration_since(Instant::now()))
        .await?;
    let before = load.accepted();
    wait_accepts(
        load,
        before + 1,
        deadline.saturating_duration_since(Instant::now()),
    )
    .await
}

/// `GET /v1/messages/{id}` until every id is final or `wait` passes; what
/// no node knows is "MISSING".
async fn final_statuses(
    c: &Cluster,
    ids: &BTreeSet<String>,
    wait: Duration,
) -> std::collections::BTreeMap<String, String> {
    let deadline = Instant::now() + wait;
    let mut statuses: std::collections::BTreeMap<String, String> = Default::default();
    let nodes: Vec<String> = c
        .nodes
        .iter()
        .filter(|n| n.is_running() && !n.is_paused())
        .map(|n| n.http.clone())
        .collect();
    loop {
        for (i, id) in ids.iter().enumerate() {
            if statuses.get(id).is_some_and(|s| FINAL.contains(&s.as_str())) {
                continue;
            }
            let mut status = "UNREACHABLE".to_string();
            for k in 0..nodes.len() {
                let node = &nodes[(i + k) % nodes.len()];
                let path = format!("/v1/messages/{id}");
                let a = request(node, "GET", &path, Some(KEY), None, Duration::from_secs(3)).await;
                match (a.status(), a.body()) {
                    (Some(200), Some(b)) => {
                        status = b["status"].as_str().unwrap_or("?").to_string();
                        break;
                    }
                    (Some(404), _) => status = "MISSING".into(),
                    _ => {}
                }
            }
            statuses.insert(id.clone(), status);
        }
        let done = statuses.values().all(|s| FINAL.contains(&s.as_str()));
        if done || Instant::now() >= deadline {
            return statuses;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The carrier's ledger with times relative to the drill's start.
fn carrier_submits(c: &Cluster, wall0: i64) -> Vec<CarrierSubmit> {
    // The ledger stamps local wall time as if it were UTC; undo that.
    let offset = chrono::Local::now().naive_local().and_utc().timestamp_millis()
        - chrono::Utc::now().timestamp_millis();
    let f = Filter {
        limit: Some(usize::MAX),
        ..Filter::default()
    };
    c.sim
        .shared()
        .ledger
        .submits(&f)
        .into_iter()
        .map(|r| CarrierSubmit {
            node: r
                .peer
                .as_deref()
                .and_then(|p| p.parse::<std::net::SocketAddr>().ok())
                .and_then(|p| node_of_ip(p.ip())),
            n: r.n,
            destination: r.destination,
            at_ms: (r.at_ms - offset - wall0).max(0) as u64,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleaved_rounds_keep_each_nemesis_proportion() {
        let k = Nemesis::parse("kill-leader").unwrap();
        let p = Nemesis::parse("pause").unwrap();
        let plan = [(k, 4), (p, 2)];
        let names = |v: Vec<(Nemesis, u32)>| {
            v.iter()
                .map(|(n, r)| format!("{}{r}", n.name()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(schedule(&plan, false)),
            [
                "kill-leader1",
                "kill-leader2",
                "kill-leader3",
                "kill-leader4",
                "pause1",
                "pause2"
            ]
        );
        assert_eq!(
            names(schedule(&plan, true)),
            [
                "kill-leader1",
                "pause1",
                "kill-leader2",
                "kill-leader3",
                "pause2",
                "kill-leader4"
            ]
        );
    }
}
