//! Slow and lossy raft links: every chunk on every link between nodes is
//! held `DELAY_MS` and one in `1 / RESET_CHANCE` resets its connection.
//! Elections may come and go; nothing accepted may be lost.

use super::{Injected, Undo};
use crate::cluster::Cluster;
use crate::error::Result;
use crate::proxy::LinkFault;

const DELAY_MS: u64 = 60;
const RESET_CHANCE: f64 = 0.02;

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
