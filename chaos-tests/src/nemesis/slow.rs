//! Slow and lossy links. Raft: every chunk on every link between nodes is
//! held `DELAY_MS` and one in `1 / RESET_CHANCE` resets its connection;
//! elections may come and go. Carrier: every node's carrier link holds each
//! chunk `CARRIER_DELAY_MS` and resets one in `1 / CARRIER_RESET_CHANCE`,
//! and every carrier link is reset once at the start (so a reset with
//! submits in flight happens every round): the gateway resends what went
//! unanswered, one window per reset at most. Nothing accepted may be lost.

use super::{Injected, Undo};
use crate::carrier_link::CARRIER;
use crate::cluster::Cluster;
use crate::error::Result;
use crate::proxy::LinkFault;

const DELAY_MS: u64 = 60;
const RESET_CHANCE: f64 = 0.02;
const CARRIER_DELAY_MS: u64 = 100;
const CARRIER_RESET_CHANCE: f64 = 0.01;

pub(super) fn inject(c: &mut Cluster) -> Result<Injected> {
    let fault = LinkFault {
        cut: false,
        delay_ms: DELAY_MS,
        reset_chance: RESET_CHANCE,
    };
    c.net.set_all(&c.ids(), fault);
    Ok(Injected {
        detail: format!(
            "every raft link +{DELAY_MS} ms, {:.0}% resets",
            RESET_CHANCE * 100.0
        ),
        undo: Undo::HealNet,
    })
}

pub(super) fn inject_carrier(c: &mut Cluster) -> Result<Injected> {
    let fault = LinkFault {
        cut: false,
        delay_ms: CARRIER_DELAY_MS,
        reset_chance: CARRIER_RESET_CHANCE,
    };
    for id in c.ids() {
        c.net.set(id, CARRIER, fault);
    }
    c.net.kick(CARRIER);
    Ok(Injected {
        detail: format!(
            "every carrier link reset, then +{CARRIER_DELAY_MS} ms per chunk, {:.0}% resets",
            CARRIER_RESET_CHANCE * 100.0
        ),
        undo: Undo::HealNet,
    })
}
