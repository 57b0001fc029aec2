//! A window slot that outlives the carrier's answer: a submit's slot is
//! freed when its result (carrier id, or failure) is committed, not when
//! the carrier answers.
//!
//! Why: a leader killed with answers whose results were not yet committed
//! leaves a new leader that sends those parts again. Freed at the answer, a
//! slot let a session keep sending while results queued for their commit,
//! so at a high TPS what a kill repeated could be several windows; held
//! until the commit, it is at most one window per session (unanswered plus
//! answered-but-uncommitted), whatever the TPS or the commit time.
//!
//! The session turns an answer into a [`CommitSlot`] that travels with the
//! result to the reconciler and on to the flusher, which drops it once the
//! batch carrying the result is committed. Dropping it, wherever that
//! happens (committed, batch dropped as "not leader", reconciler gone),
//! gives the slot back: one credit to the dispatcher, so no path leaks a
//! slot. It must never be cloned or dropped before the result is settled.

use std::sync::Arc;

use ractor::ActorRef;

use super::Inflight;
use crate::dispatcher::DispatcherMsg;

/// One session window slot, held until the result it carries is committed.
pub struct CommitSlot {
    shared: Arc<Inflight>,
    dispatcher: ActorRef<DispatcherMsg>,
    carrier: String,
    session: usize,
}

impl CommitSlot {
    /// Takes a slot of `shared` (the session's [`Inflight`]) for a result
    /// not yet committed.
    pub fn hold(
        shared: Arc<Inflight>,
        dispatcher: ActorRef<DispatcherMsg>,
        carrier: String,
        session: usize,
    ) -> CommitSlot {
        shared.hold_for_commit();
        CommitSlot {
            shared,
            dispatcher,
            carrier,
            session,
        }
    }
}

impl std::fmt::Debug for CommitSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CommitSlot({}#{})", self.carrier, self.session)
    }
}

impl Drop for CommitSlot {
    fn drop(&mut self) {
        let carrier = std::mem::take(&mut self.carrier);
        let (dispatcher, session) = (&self.dispatcher, self.session);
        self.shared.release_committed(|| {
            // A session that is down has no slot at the dispatcher: the
            // credit is ignored there, and its next SessionUp counts from
            // the lowered count instead.
            let _ = dispatcher.send_message(DispatcherMsg::Credit {
                carrier,
                session,
                n: 1,
            });
        });
    }
}
