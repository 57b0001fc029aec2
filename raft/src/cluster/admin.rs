//! Admin requests on the raft port: status, init, membership changes,
//! planned leader transfer, compaction, and the internal election helpers the
//! transfer uses. Leader-only requests arriving at a follower are forwarded
//! once. It must never change membership without going through raft.
//!
//! Leader transfer: openraft 0.9 has no transfer API. We build it from its
//! triggers: the leader stops taking proposals, waits until the target has
//! matched its whole log, asks the other voters to hold their elections,
//! stops its heartbeats so the followers' leader lease runs out, and asks the
//! target to `trigger().elect()` until it wins. Heartbeats and elections are
//! re-enabled whatever the outcome.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use openraft::{ChangeMembers, ServerState};

use super::Inner;
use crate::error::{AdminError, RpcError};
use crate::network::server::Handler;
use crate::network::{
    AdminRequest, AdminResponse, ClusterSecret, NodeStatus, RpcClient, RpcRequest, RpcResponse, WriteRefusal,
};
use crate::types::{NodeId, NodeInfo};

/// Sends an admin request to the node at `addr`, proving `secret` (used by the CLI).
pub async fn admin_call(
    secret: &ClusterSecret,
    addr: &str,
    req: AdminRequest,
    timeout: Duration,
) -> Result<AdminResponse, AdminError> {
    let client = RpcClient::new(secret.clone());
    match client.call(addr, &RpcRequest::Admin(req), timeout).await {
        Ok(RpcResponse::Admin(r)) => r,
        Ok(_) => Err(AdminError::Invalid(format!(
            "{addr} answered with a non-admin response"
        ))),
        Err(RpcError::Auth { addr, reason }) => Err(AdminError::AuthFailed { addr, reason }),
        Err(e) => Err(AdminError::Unreachable {
            addr: addr.to_string(),
            reason: e.to_string(),
        }),
    }
}

fn raft_err(e: impl std::fmt::Display) -> AdminError {
    AdminError::Raft(e.to_string())
}

impl Handler for Inner {
    async fn handle(self: Arc<Self>, req: RpcRequest) -> RpcResponse {
        match req {
            RpcRequest::AppendEntries(r) => RpcResponse::AppendEntries(self.raft.append_entries(r).await),
            RpcRequest::Vote(r) => RpcResponse::Vote(self.raft.vote(r).await),
            RpcRequest::InstallSnapshot(r) => {
                RpcResponse::InstallSnapshot(self.raft.install_snapshot(r).await)
            }
            RpcRequest::ClientWrite(cmd) => {
                let mut r = self.write_forwarded(vec![cmd]).await;
                RpcResponse::ClientWrite(r.pop().unwrap_or(Err(WriteRefusal::NotLeader { leader: None })))
            }
            RpcRequest::ClientWriteBatch(cmds) => {
                RpcResponse::ClientWriteBatch(self.write_forwarded(cmds).await)
            }
            RpcRequest::Admin(r) => RpcResponse::Admin(self.admin(r, true).await),
            RpcRequest::AdminForwarded(r) => RpcResponse::Admin(self.admin(r, false).await),
        }
    }
}

impl Inner {
    pub(crate) async fn admin(
        self: Arc<Self>,
        req: AdminRequest,
        may_forward: bool,
    ) -> Result<AdminResponse, AdminError> {
        let leader_only = matches!(
            req,
            AdminRequest::AddNode { .. }
                | AdminRequest::RemoveNode { .. }
                | AdminRequest::TransferLeader { .. }
        );
        if leader_only {
            match self.leader() {
                Some((id, _)) if id == self.id => {}
                Some((_, info)) if may_forward => {
                    let timeout = Duration::from_secs(120);
                    return match self
                        .client
                        .call(&info.raft_addr, &RpcRequest::AdminForwarded(req), timeout)
                        .await
                    {
                        Ok(RpcResponse::Admin(r)) => r,
                        Ok(_) => Err(AdminError::Invalid(
                            "leader answered with a non-admin response".into(),
                        )),
                        Err(e) => Err(AdminError::Unreachable {
                            addr: info.raft_addr,
                            reason: e.to_string(),
                        }),
                    };
                }
                _ => return Err(AdminError::NoLeader),
            }
        }
        match req {
            AdminRequest::Status => Ok(AdminResponse::Status(Box::new(self.status().await))),
            AdminRequest::Init { members } => Ok(AdminResponse::Done(self.init(members).await?)),
            AdminRequest::AddNode { id, info, voter } => {
                Ok(AdminResponse::Done(self.add_node(id, info, voter).await?))
            }
            AdminRequest::RemoveNode { id } => Ok(AdminResponse::Done(self.remove_node(id).await?)),
            AdminRequest::TransferLeader { to } => Ok(AdminResponse::Done(self.transfer_leader(to).await?)),
            AdminRequest::Elect => Ok(AdminResponse::Done(self.elect_until_leader().await?)),
            AdminRequest::HoldElections { ms } => {
                self.hold_elections(ms);
                Ok(AdminResponse::Done(format!(
                    "node {} holds elections for {ms} ms",
                    self.id
                )))
            }
            AdminRequest::Read {
                query,
                linearizable: false,
            } => Ok(AdminResponse::Read(
                self.query_local(&query)
                    .map_err(|e| AdminError::Raft(e.to_string()))?,
            )),
            AdminRequest::Read {
                query,
                linearizable: true,
            } if !may_forward => {
                self.raft.ensure_linearizable().await.map_err(raft_err)?;
                Ok(AdminResponse::Read(
                    self.query_local(&query)
                        .map_err(|e| AdminError::Raft(e.to_string()))?,
                ))
            }
            AdminRequest::Read {
                query,
                linearizable: true,
            } => match self.read_linearizable(&query).await {
                Ok(r) => Ok(AdminResponse::Read(r)),
                Err(e) => Err(AdminError::Raft(e.to_string())),
            },
            AdminRequest::Propose(cmd) => Ok(AdminResponse::Proposed(self.propose(cmd).await)),
            AdminRequest::Compact => Ok(AdminResponse::Done(self.compact().await?)),
        }
    }

    pub(crate) async fn status(&self) -> NodeStatus {
        let m = self.raft.metrics().borrow().clone();
        let membership = m.membership_config.membership();
        let info = |id: NodeId| membership.get_node(&id).cloned().unwrap_or_default();
        NodeStatus {
            id: self.id,
            raft_addr: self.addr.to_string(),
            state: format!("{:?}", m.state),
            term: m.current_term,
            leader: m.current_leader,
            last_log_index: m.last_log_index,
            applied_index: m.last_applied.map(|l| l.index),
            snapshot_index: m.snapshot.map(|l| l.index),
            purged_index: m.purged.map(|l| l.index),
            voters: membership.voter_ids().map(|id| (id, info(id))).collect(),
            learners: membership.learner_ids().map(|id| (id, info(id))).collect(),
            replication: m
                .replication
                .as_ref()
                .map(|r| r.iter().map(|(id, l)| (*id, l.map(|l| l.index))).collect())
                .unwrap_or_default(),
            millis_since_quorum_ack: m.millis_since_quorum_ack,
            initialized: m.membership_config.log_id().is_some() || m.last_log_index.is_some(),
        }
    }

    pub(crate) async fn init(&self, members: Vec<(NodeId, NodeInfo)>) -> Result<String, AdminError> {
        let mut map: BTreeMap<NodeId, NodeInfo> = members.into_iter().collect();
        if map.is_empty() {
            map.insert(self.id, self.self_info());
            map.extend(self.opts.peers.iter().cloned());
        }
        if !map.contains_key(&self.id) {
            return Err(AdminError::Invalid(format!(
                "the member list must include the node asked to initialise (node {})",
                self.id
            )));
        }
        if self.raft.is_initialized().await.map_err(raft_err)? {
            return Err(AdminError::Invalid(format!(
                "node {} is already part of an initialised cluster",
                self.id
            )));
        }
        let list = map
            .iter()
            .map(|(id, n)| format!("{id}={}", n.raft_addr))
            .collect::<Vec<_>>()
            .join(", ");
        self.raft.initialize(map).await.map_err(raft_err)?;
        Ok(format!("initialised cluster with voters {list}"))
    }

    async fn add_node(&self, id: NodeId, info: NodeInfo, voter: bool) -> Result<String, AdminError> {
        let addr = info.raft_addr.clone();
        let fut = self.raft.add_learner(id, info, true);
        tokio::time::timeout(Duration::from_secs(110), fut)
            .await
            .map_err(|_| AdminError::Timeout(format!("node {id} did not catch up as a learner")))?
            .map_err(raft_err)?;
        if !voter {
            return Ok(format!("node {id} ({addr}) added as learner and caught up"));
        }
        let change = ChangeMembers::AddVoterIds(BTreeSet::from([id]));
        self.raft
            .change_membership(change, false)
            .await
            .map_err(raft_err)?;
        Ok(format!(
            "node {id} ({addr}) added as learner, caught up, promoted to voter"
        ))
    }

    async fn remove_node(&self, id: NodeId) -> Result<String, AdminError> {
        let m = self.raft.metrics().borrow().membership_config.clone();
        let membership = m.membership();
        if membership.voter_ids().any(|v| v == id) {
            if membership.voter_ids().count() == 1 {
                return Err(AdminError::Invalid(format!(
                    "node {id} is the only voter; a cluster needs one"
                )));
            }
            self.raft
                .change_membership(ChangeMembers::RemoveVoters(BTreeSet::from([id])), false)
                .await
                .map_err(raft_err)?;
        } else if membership.get_node(&id).is_some() {
            self.raft
                .change_membership(ChangeMembers::RemoveNodes(BTreeSet::from([id])), false)
                .await
                .map_err(raft_err)?;
        } else {
            return Err(AdminError::Invalid(format!("node {id} is not a member")));
        }
        Ok(format!("node {id} removed from the cluster"))
    }

    async fn compact(&self) -> Result<String, AdminError> {
        self.raft.trigger().snapshot().await.map_err(raft_err)?;
        let deadline = Instant::now() + Duration::from_secs(30);
        let applied = self
            .raft
            .metrics()
            .borrow()
            .last_applied
            .map(|l| l.index)
            .unwrap_or(0);
        let mut last_trigger = Instant::now();
        loop {
            if last_trigger.elapsed() > Duration::from_secs(1) {
                // A build already in progress when we asked makes openraft ignore the trigger.
                self.raft.trigger().snapshot().await.map_err(raft_err)?;
                last_trigger = Instant::now();
            }
            let snap = self
                .raft
                .metrics()
                .borrow()
                .snapshot
                .map(|l| l.index)
                .unwrap_or(0);
            if snap >= applied {
                self.raft.trigger().purge_log(snap).await.map_err(raft_err)?;
                return Ok(format!(
                    "node {}: snapshot at {snap}, log purge requested up to {snap}",
                    self.id
                ));
            }
            if Instant::now() > deadline {
                return Err(AdminError::Timeout("snapshot not built within 30 s".into()));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// How long the log must stay put before the target is asked to run.
    fn settle(&self) -> Duration {
        Duration::from_millis(self.opts.heartbeat_ms.clamp(10, 100))
    }

    pub(crate) fn hold_elections(&self, ms: u64) {
        self.raft.runtime_config().elect(false);
        let raft = self.raft.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            raft.runtime_config().elect(true);
        });
    }

    async fn elect_until_leader(&self) -> Result<String, AdminError> {
        let deadline = Instant::now() + Duration::from_millis(self.opts.election_timeout_ms.1 * 8);
        let pause = Duration::from_millis((self.opts.election_timeout_ms.0 / 4).max(20));
        while Instant::now() < deadline {
            if self.raft.metrics().borrow().state == ServerState::Leader {
                return Ok(format!("node {} is leader", self.id));
            }
            self.raft.trigger().elect().await.map_err(raft_err)?;
            tokio::time::sleep(pause).await;
        }
        Err(AdminError::Timeout(format!("node {} was not elected", self.id)))
    }

    async fn transfer_leader(&self, to: NodeId) -> Result<String, AdminError> {
        if to == self.id {
            return Ok(format!("node {to} already leads"));
        }
        let m = self.raft.metrics().borrow().membership_config.clone();
        let voters: Vec<NodeId> = m.membership().voter_ids().collect();
        let target = match m.membership().get_node(&to) {
            Some(info) if voters.contains(&to) => info.clone(),
            _ => return Err(AdminError::Invalid(format!("node {to} is not a voter"))),
        };
        let hook = self
            .transfer_hook
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        // Quiesce first, while proposals still commit here: what the work
        // settles (e.g. the carrier ids of the last submits) must be in the
        // log the target catches up to.
        if let Some(h) = &hook {
            h.before_transfer().await;
        }
        self.transferring.store(true, Ordering::SeqCst);
        let result = self.do_transfer(to, &target, &voters).await;
        self.raft.runtime_config().heartbeat(true);
        self.transferring.store(false, Ordering::Release);
        if let (Err(_), Some(h)) = (&result, &hook) {
            h.after_failed_transfer().await;
        }
        result
    }

    async fn do_transfer(
        &self,
        to: NodeId,
        target: &NodeInfo,
        voters: &[NodeId],
    ) -> Result<String, AdminError> {
        let deadline = Instant::now() + Duration::from_secs(10);
        // Batches the proposer started before the transfer must land first:
        // one appended after the target caught up, and replicated to the
        // other voter while the target already campaigns, gives both the
        // old leader and that voter a longer log than the target, so
        // neither votes for it ("node N was not elected").
        while self.writing.load(Ordering::SeqCst) > 0 {
            if Instant::now() > deadline {
                return Err(AdminError::Timeout(
                    "writes in flight did not finish within 10 s".into(),
                ));
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let mut stable_since: Option<(u64, Instant)> = None;
        loop {
            let m = self.raft.metrics().borrow().clone();
            let last = m.last_log_index.unwrap_or(0);
            let matched = m
                .replication
                .as_ref()
                .and_then(|r| r.get(&to).cloned().flatten())
                .map(|l| l.index);
            // Caught up, and the log stayed put for a few heartbeats (an
            // entry already handed to openraft is appended meanwhile).
            if matched.unwrap_or(0) >= last {
                match stable_since {
                    Some((at, since)) if at == last && since.elapsed() >= self.settle() => break,
                    Some((at, _)) if at == last => {}
                    _ => stable_since = Some((last, Instant::now())),
                }
            } else {
                stable_since = None;
            }
            if Instant::now() > deadline {
                return Err(AdminError::Timeout(format!(
                    "node {to} did not catch up (matched {matched:?} of {last})"
                )));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Long enough for the voters' leader lease (openraft refuses votes for
        // one election timeout after the last append) to run out under load.
        let hold_ms = self.opts.election_timeout_ms.1 * 8;
        let members = self.raft.metrics().borrow().membership_config.clone();
        for v in voters.iter().filter(|v| **v != to && **v != self.id) {
            if let Some(info) = members.membership().get_node(v) {
                let req = RpcRequest::AdminForwarded(AdminRequest::HoldElections { ms: hold_ms });
                let _ = self
                    .client
                    .call(&info.raft_addr, &req, Duration::from_secs(1))
                    .await;
            }
        }
        self.hold_elections(hold_ms);
        self.raft.runtime_config().heartbeat(false);
        let req = RpcRequest::AdminForwarded(AdminRequest::Elect);
        let res = self
            .client
            .call(&target.raft_addr, &req, Duration::from_millis(hold_ms + 1000))
            .await;
        match res {
            Ok(RpcResponse::Admin(Ok(_))) => Ok(format!(
                "leadership transferred from node {} to node {to}",
                self.id
            )),
            Ok(RpcResponse::Admin(Err(e))) => Err(e),
            Ok(_) => Err(AdminError::Invalid(
                "target answered with a non-admin response".into(),
            )),
            Err(e) => Err(AdminError::Unreachable {
                addr: target.raft_addr.clone(),
                reason: e.to_string(),
            }),
        }
    }
}
