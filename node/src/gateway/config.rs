//! The cluster document in force → the actors' `GatewayConfig`: carriers
//! (protocol, address, credentials, connections, window, TPS, SGIP SP
//! listener), routes by number segment, and what changed between two
//! documents (live settings vs carriers to restart vs a whole new gateway).
//!
//! Pure translation: no I/O, never starts anything.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use smsgw_actors::dispatcher::RouteConfig;
use smsgw_actors::model::Protocol;
use smsgw_actors::reconcile::ReconcilerConfig;
use smsgw_actors::{CarrierConfig, CarrierSpec, GatewayConfig};
use smsgw_config::{expand_prefix, Carrier, CarrierProtocol, ClusterDoc};

/// How long a report waits for its submit response before it is looked up
/// in the replicated state (a submit made by a leader that died).
pub const REPORT_HOLD: Duration = Duration::from_secs(2);

/// The actors' protocol family of a carrier protocol.
pub fn protocol(p: CarrierProtocol) -> Protocol {
    match p {
        CarrierProtocol::Cmpp2 | CarrierProtocol::Cmpp3 => Protocol::Cmpp,
        CarrierProtocol::Sgip => Protocol::Sgip,
        CarrierProtocol::Smgp => Protocol::Smgp,
        CarrierProtocol::Smpp => Protocol::Smpp,
    }
}

/// One carrier of the document as the actors run it.
pub fn carrier_spec(c: &Carrier) -> Result<CarrierSpec, String> {
    let mut cfg = CarrierConfig::new(&c.name, &c.address, &c.login, &c.password);
    cfg.sessions = c.connections.max(1) as usize;
    cfg.session.window = c.window.max(1) as usize;
    cfg.session.response_timeout = Duration::from_secs(10);
    cfg.session.heartbeat_every = Some(Duration::from_secs(30));
    cfg.tps = c.tps;
    let mut spec = CarrierSpec::new(protocol(c.protocol), cfg);
    // What goes on the wire (version, login zone, fees, id formats) follows
    // the carrier's profile in the document.
    spec.profile = c.profile();
    if c.protocol == CarrierProtocol::Sgip {
        let listen = c.sgip_sp_listen.as_deref().unwrap_or("127.0.0.1:0");
        let addr: SocketAddr = listen
            .parse()
            .map_err(|e| format!("carrier {}: sgip_sp_listen {listen:?}: {e}", c.name))?;
        spec.sgip_listen = Some(addr);
    }
    Ok(spec)
}

/// The document's routes for the dispatcher: segments expanded (`134-139`
/// → `134`..`139`), `*` as the empty prefix, so that the dispatcher's
/// longest-prefix match on the normalised number picks what the API's
/// router picked.
pub fn routes(doc: &ClusterDoc) -> Vec<RouteConfig> {
    doc.routes
        .iter()
        .enumerate()
        .map(|(i, r)| RouteConfig {
            name: format!("{}#{i}", r.carrier),
            prefixes: r
                .prefixes
                .iter()
                .flat_map(|p| match p.as_str() {
                    "*" => vec![String::new()],
                    p => expand_prefix(p).unwrap_or_default(),
                })
                .collect(),
            primary: r.carrier.clone(),
            backup: r.backup.clone(),
        })
        .collect()
}

/// The whole gateway configuration for `doc`.
pub fn gateway_config(doc: &ClusterDoc) -> Result<GatewayConfig, String> {
    let carriers = doc
        .carriers
        .iter()
        .map(carrier_spec)
        .collect::<Result<Vec<_>, _>>()?;
    let mut cfg = GatewayConfig::simple(carriers);
    cfg.routes = routes(doc);
    cfg.reconciler = ReconcilerConfig {
        hold: REPORT_HOLD,
        ..ReconcilerConfig::default()
    };
    Ok(cfg)
}

/// SP numbers by carrier (the source prefix of what it sends).
pub fn sp_numbers(doc: &ClusterDoc) -> HashMap<String, String> {
    doc.carriers
        .iter()
        .map(|c| (c.name.clone(), c.sp_number.clone().unwrap_or_default()))
        .collect()
}

/// What a new document changes for a running gateway.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Change {
    /// Carriers added or removed, or routes changed: start a new gateway.
    pub rebuild: bool,
    /// Carriers whose address, credentials, protocol, connections or SGIP
    /// listener changed: restart those only.
    pub restart: Vec<String>,
    /// New TPS ceilings (live).
    pub tps: Vec<(String, u32)>,
    /// New windows (live).
    pub window: Vec<(String, usize)>,
}

/// The difference between the document running and the next one.
pub fn diff(old: &ClusterDoc, new: &ClusterDoc) -> Change {
    let mut ch = Change::default();
    let names = |d: &ClusterDoc| {
        let mut v: Vec<String> = d.carriers.iter().map(|c| c.name.clone()).collect();
        v.sort();
        v
    };
    if names(old) != names(new) || old.routes != new.routes {
        ch.rebuild = true;
        return ch;
    }
    for n in &new.carriers {
        let Some(o) = old.carrier(&n.name) else { continue };
        if o.protocol != n.protocol
            || o.address != n.address
            || o.login != n.login
            || o.password != n.password
            || o.connections != n.connections
            || o.sgip_sp_listen != n.sgip_sp_listen
            || o.profile() != n.profile()
        {
            ch.restart.push(n.name.clone());
            continue;
        }
        if o.tps != n.tps {
            ch.tps.push((n.name.clone(), n.tps));
        }
        if o.window != n.window {
            ch.window.push((n.name.clone(), n.window.max(1) as usize));
        }
    }
    ch
}

#[cfg(test)]
mod tests {
    use super::*;
    use smsgw_config::{DemoCarrier, DemoCarriers};

    fn doc() -> ClusterDoc {
        let c = |port: u16| DemoCarrier {
            address: format!("127.0.0.1:{port}"),
            login: "l".into(),
            password: "p".into(),
        };
        ClusterDoc::demo(
            &DemoCarriers {
                china_mobile: c(1),
                china_unicom: c(2),
                china_telecom: c(3),
                international: c(4),
            },
            "sk_demo_0123456789abcdef",
        )
    }

    #[test]
    fn diff_separates_live_settings_from_restarts() {
        let a = doc();
        let mut b = a.clone();
        b.carriers[0].tps = 7;
        b.carriers[1].window = 3;
        b.carriers[2].address = "127.0.0.1:9".into();
        let ch = diff(&a, &b);
        assert!(!ch.rebuild);
        assert_eq!(ch.tps, vec![("china-mobile".into(), 7)]);
        assert_eq!(ch.window, vec![("china-unicom".into(), 3)]);
        assert_eq!(ch.restart, vec!["china-telecom".to_string()]);
        b.routes.pop();
        assert!(diff(&a, &b).rebuild);
    }

    #[test]
    fn a_carriers_profile_reaches_its_spec_and_a_changed_profile_restarts_it() {
        let a = doc();
        let mut b = a.clone();
        b.carriers[2].overrides.fee_code = Some("000010".into());
        assert_ne!(a.carriers[2].profile(), b.carriers[2].profile());
        let spec = carrier_spec(&b.carriers[2]).expect("spec");
        assert_eq!(spec.profile, b.carriers[2].profile());
        let ch = diff(&a, &b);
        assert_eq!(ch.restart, vec![b.carriers[2].name.clone()]);
    }

    #[test]
    fn routes_expand_segments_and_default() {
        let r = routes(&doc());
        let mobile = &r[0];
        assert!(mobile.prefixes.contains(&"135".to_string()));
        assert_eq!(r.last().map(|r| r.prefixes.clone()), Some(vec![String::new()]));
        assert!(gateway_config(&doc()).is_ok());
    }
}
