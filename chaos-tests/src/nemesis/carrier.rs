//! The carrier drops every link without answering what is in flight: the
//! submits it took but never acknowledged are the ones a gateway resends, so
//! duplicates here are expected, but only up to the window per link.
//! Responses are held briefly first so that there is something in flight.

use std::time::Duration;

use smsgw_simulator::faults::FaultSettings;

use super::{Injected, Undo};
use crate::cluster::Cluster;
use crate::error::Result;

/// How long responses are held before the drop (so submits are in flight).
const HOLD: Duration = Duration::from_millis(300);

pub(super) async fn inject(c: &mut Cluster) -> Result<Injected> {
    let faults = &c.sim.shared().faults;
    faults.set(FaultSettings {
        delay_ms: 1000,
        ..FaultSettings::default()
    });
    tokio::time::sleep(HOLD).await;
    faults.hard_drop_all_now();
    faults.set(FaultSettings::default());
    Ok(Injected {
        detail: "carrier hard drop of every link (responses held, then unanswered)".into(),
        undo: Undo::CarrierHealthy,
    })
}

pub(super) fn heal(c: &mut Cluster) -> Result<()> {
    c.sim.shared().faults.set(FaultSettings::default());
    Ok(())
}
