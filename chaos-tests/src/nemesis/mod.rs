//! Nemeses: the faults a drill injects, one module each. A nemesis injects
//! its fault and returns how to undo it; the drill holds the fault, heals it
//! and records both times. A nemesis must never touch the history or judge
//! the outcome: that is the checker's job.

mod carrier;
mod disk;
mod kill;
mod membership;
mod partition;
mod pause;
mod skew;
mod slow;

use std::time::Duration;

use rand::seq::SliceRandom;

use crate::cluster::Cluster;
use crate::error::{ChaosError, Result};

/// Which node a fault hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Leader,
    Follower,
    Random,
}

/// The faults a drill can inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nemesis {
    /// kill -9 of a node, restarted at heal.
    Kill(Target),
    /// SIGSTOP of a node, SIGCONT at heal.
    Pause(Target),
    /// A node cut from every other node both ways, through the link proxies.
    Partition(Target),
    /// Every raft link slow and lossy (latency, resets).
    SlowNet,
    /// Every node's carrier link reset, then slow and lossy.
    SlowCarrier,
    /// The carrier closes every link without answering what is in flight.
    CarrierHardDrop,
    /// A node restarted with its wall clock skewed (libfaketime), then
    /// restarted with the true time.
    ClockSkew(Target),
    /// A follower removed from the membership, wiped, and added back as a
    /// new empty node (`cluster remove`, `cluster add`).
    ReplaceFollower,
    /// A node's data dir (a tmpfs) filled to the last byte, then freed and
    /// the node restarted.
    DiskFull(Target),
}

/// Every nemesis by its command-line name.
pub const ALL: [(&str, Nemesis); 15] = [
    ("kill-leader", Nemesis::Kill(Target::Leader)),
    ("kill-follower", Nemesis::Kill(Target::Follower)),
    ("kill-random", Nemesis::Kill(Target::Random)),
    ("pause", Nemesis::Pause(Target::Leader)),
    ("pause-follower", Nemesis::Pause(Target::Follower)),
    ("partition", Nemesis::Partition(Target::Leader)),
    ("partition-follower", Nemesis::Partition(Target::Follower)),
    ("slow-net", Nemesis::SlowNet),
    ("slow-carrier", Nemesis::SlowCarrier),
    ("carrier-hard-drop", Nemesis::CarrierHardDrop),
    ("clock-skew", Nemesis::ClockSkew(Target::Leader)),
    ("clock-skew-follower", Nemesis::ClockSkew(Target::Follower)),
    ("replace-follower", Nemesis::ReplaceFollower),
    ("disk-full", Nemesis::DiskFull(Target::Leader)),
    ("disk-full-follower", Nemesis::DiskFull(Target::Follower)),
];

impl Nemesis {
    /// Parses a name of [`ALL`].
    pub fn parse(name: &str) -> std::result::Result<Nemesis, String> {
        ALL.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, k)| *k)
            .ok_or_else(|| {
                let names: Vec<&str> = ALL.iter().map(|(n, _)| *n).collect();
                format!("unknown nemesis `{name}`; one of: {}", names.join(", "))
            })
    }

    /// Parses `name` or `name:rounds` (rounds default to `rounds`).
    pub fn parse_with_rounds(spec: &str, rounds: u32) -> std::result::Result<(Nemesis, u32), String> {
        match spec.split_once(':') {
            None => Ok((Nemesis::parse(spec)?, rounds)),
            Some((name, r)) => {
                let r = r
                    .parse()
                    .map_err(|_| format!("`{spec}`: rounds after `:` must be a number"))?;
                Ok((Nemesis::parse(name)?, r))
            }
        }
    }

    pub fn name(self) -> &'static str {
        ALL.iter()
            .find(|(_, k)| *k == self)
            .map(|(n, _)| *n)
            .unwrap_or("?")
    }

    /// Whether this machine can inject it (clock skew needs Debian's
    /// `faketime` package); the reason when not.
    pub fn precheck(self) -> std::result::Result<(), String> {
        match self {
            Nemesis::ClockSkew(_) => skew::library().map(|_| ()),
            Nemesis::DiskFull(_) => disk::precheck(),
            _ => Ok(()),
        }
    }

    /// Whether the drill's nodes need their data on a tmpfs.
    pub fn needs_tmpfs(self) -> bool {
        matches!(self, Nemesis::DiskFull(_))
    }

    /// Injects the fault; returns what was done and how to undo it.
    pub async fn inject(self, c: &mut Cluster) -> Result<Injected> {
        match self {
            Nemesis::Kill(t) => kill::inject(c, pick(c, t).await?).await,
            Nemesis::Pause(t) => pause::inject(c, pick(c, t).await?),
            Nemesis::Partition(t) => partition::inject(c, pick(c, t).await?),
            Nemesis::SlowNet => slow::inject(c),
            Nemesis::SlowCarrier => slow::inject_carrier(c),
            Nemesis::CarrierHardDrop => carrier::inject(c).await,
            Nemesis::ClockSkew(t) => skew::inject(c, pick(c, t).await?).await,
            Nemesis::ReplaceFollower => membership::inject(c).await,
            Nemesis::DiskFull(t) => disk::inject(c, pick(c, t).await?),
        }
    }
}

/// How to undo an injected fault.
#[derive(Debug, Clone)]
pub enum Undo {
    Restart(u64),
    Resume(u64),
    HealNet,
    CarrierHealthy,
    TrueClock(u64),
    Rejoin(u64),
    FreeDisk(u64),
}

/// An injected fault.
#[derive(Debug, Clone)]
pub struct Injected {
    pub detail: String,
    pub undo: Undo,
}

impl Injected {
    /// Undoes the fault.
    pub async fn heal(&self, c: &mut Cluster) -> Result<()> {
        match self.undo {
            Undo::Restart(id) => kill::heal(c, id).await,
            Undo::Resume(id) => pause::heal(c, id),
            Undo::HealNet => {
                c.net.heal();
                Ok(())
            }
            Undo::CarrierHealthy => carrier::heal(c),
            Undo::TrueClock(id) => skew::heal(c, id).await,
            Undo::Rejoin(id) => membership::heal(c, id).await,
            Undo::FreeDisk(id) => disk::heal(c, id).await,
        }
    }
}

/// The node `t` names: the leader is asked of the cluster (waiting for one).
pub(crate) async fn pick(c: &Cluster, t: Target) -> Result<(u64, &'static str)> {
    let leader = c.wait_leader(Duration::from_secs(20)).await?;
    let others: Vec<u64> = c.ids().into_iter().filter(|&i| i != leader).collect();
    let mut rng = rand::thread_rng();
    let chosen = match t {
        Target::Leader => Some(leader),
        Target::Follower => others.choose(&mut rng).copied(),
        Target::Random => c.ids().choose(&mut rng).copied(),
    };
    let id = chosen.ok_or_else(|| ChaosError::Command {
        what: "pick a node".into(),
        detail: "the cluster has no such node".into(),
    })?;
    Ok((id, if id == leader { "leader" } else { "follower" }))
}
