//! Taking over after a leadership change: a message the replicated state
//! says is unfinished may have parts whose carrier id (or outcome) is
//! already committed. Those are handed to the reconciler at once, to wait
//! for their report, and are never sent again; only the other parts are
//! queued, and they are counted (`smsgw_failover_resent_parts_total`).

use super::DispatcherState;
use crate::model::{KnownPart, OutboundMessage};
use crate::reconcile::ReconcilerMsg;
use crate::split::split_message;

/// Whether part `seq` already has a committed carrier id or outcome.
pub(super) fn is_known(known: &[KnownPart], seq: u8) -> bool {
    known
        .iter()
        .any(|k| k.seq == seq && (k.submitted.is_some() || k.outcome.is_some()))
}

impl DispatcherState {
    /// A message a new leader takes over (`resumed`) or one with parts
    /// already known: the known parts go to the reconciler now (their
    /// reports may come at any time), the others are counted. Returns
    /// whether any part is left to send.
    pub(super) fn resume(&mut self, route: usize, m: &mut OutboundMessage, resumed: bool) -> bool {
        let r = &self.routes[route].cfg;
        let carrier = m
            .known
            .iter()
            .find_map(|k| k.submitted.as_ref().map(|(c, _)| c.clone()))
            .filter(|c| self.carriers.contains_key(c))
            .or_else(|| self.target(r))
            .unwrap_or_else(|| r.primary.clone());
        let Some(entry) = self.carriers.get(&carrier).map(|c| &c.entry) else {
            m.known.clear();
            return true;
        };
        let Ok(parts) = split_message(m, entry.protocol, &entry.profile) else {
            // Sent (and failed) the ordinary way.
            m.known.clear();
            return true;
        };
        let left = parts.iter().filter(|p| !is_known(&m.known, p.id.seq)).count();
        if resumed {
            self.failover_resent += left as u64;
            crate::metrics::failover_resent(left);
        }
        if m.known.is_empty() {
            return true;
        }
        let awaiting = m
            .known
            .iter()
            .filter(|k| k.outcome.is_none() && k.submitted.is_some())
            .count();
        self.failover_awaiting += awaiting as u64;
        crate::metrics::failover_awaiting(awaiting);
        let _ = self.reconciler.send_message(ReconcilerMsg::Resume {
            message: m.id,
            total: parts.len() as u8,
            report: m.report,
            valid_until: m.valid_until,
            known: m.known.clone(),
        });
        left > 0
    }
}
