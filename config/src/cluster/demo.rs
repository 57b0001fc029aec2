//! The document a node without a config file runs with: the three Chinese
//! carriers and an international SMPP route (all pointed at the in-process
//! simulator by the caller), routed by the real Chinese number segments, and
//! one demo account.

use super::{Account, ApiKeyHash, Carrier, CarrierProtocol, ClusterDoc, MessageDefaults, Priority, Route};

/// Where one demo carrier is and how to log in to it. `Debug` never shows
/// the password.
#[derive(Clone, PartialEq, Eq)]
pub struct DemoCarrier {
    /// `host:port`.
    pub address: String,
    /// Login.
    pub login: String,
    /// Password.
    pub password: String,
}

impl std::fmt::Debug for DemoCarrier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoCarrier")
            .field("address", &self.address)
            .field("login", &self.login)
            .field("password", &super::REDACTED)
            .finish()
    }
}

/// The four carriers of the demo document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoCarriers {
    /// China Mobile, CMPP 3.0.
    pub china_mobile: DemoCarrier,
    /// China Unicom, SGIP 1.2.
    pub china_unicom: DemoCarrier,
    /// China Telecom, SMGP 3.0.
    pub china_telecom: DemoCarrier,
    /// International, SMPP 3.4.
    pub international: DemoCarrier,
}

/// China Mobile's segments.
pub const CHINA_MOBILE_SEGMENTS: &[&str] = &[
    "134-139", "147", "150-152", "157-159", "178", "182-184", "187", "188", "198",
];
/// China Unicom's segments.
pub const CHINA_UNICOM_SEGMENTS: &[&str] =
    &["130-132", "145", "155", "156", "166", "175", "176", "185", "186"];
/// China Telecom's segments.
pub const CHINA_TELECOM_SEGMENTS: &[&str] = &["133", "149", "153", "173", "177", "180", "181", "189", "199"];

/// The name of the demo account.
pub const DEMO_ACCOUNT: &str = "demo";

impl ClusterDoc {
    /// The no-config default document, with the demo account's `api_key`.
    pub fn demo(carriers: &DemoCarriers, api_key: &str) -> ClusterDoc {
        let carrier = |name: &str, protocol, c: &DemoCarrier, sp: &str| Carrier {
            name: name.into(),
            protocol,
            address: c.address.clone(),
            login: c.login.clone(),
            password: c.password.clone(),
            connections: 1,
            window: 16,
            tps: 200,
            sp_number: Some(sp.into()),
            sgip_sp_listen: (protocol == CarrierProtocol::Sgip).then(|| "127.0.0.1:0".to_string()),
            profile: None,
            overrides: Default::default(),
        };
        let route = |segments: &[&str], carrier: &str| Route {
            prefixes: segments.iter().map(|s| s.to_string()).collect(),
            carrier: carrier.into(),
            backup: Some("international".into()),
        };
        ClusterDoc {
            demo: true,
            defaults: MessageDefaults::default(),
            carriers: vec![
                carrier(
                    "china-mobile",
                    CarrierProtocol::Cmpp3,
                    &carriers.china_mobile,
                    "1069000",
                ),
                carrier(
                    "china-unicom",
                    CarrierProtocol::Sgip,
                    &carriers.china_unicom,
                    "1065500",
                ),
                carrier(
                    "china-telecom",
                    CarrierProtocol::Smgp,
                    &carriers.china_telecom,
                    "1069100",
                ),
                carrier(
                    "international",
                    CarrierProtocol::Smpp,
                    &carriers.international,
                    "10690",
                ),
            ],
            routes: vec![
                route(CHINA_MOBILE_SEGMENTS, "china-mobile"),
                route(CHINA_UNICOM_SEGMENTS, "china-unicom"),
                route(CHINA_TELECOM_SEGMENTS, "china-telecom"),
                Route {
                    prefixes: vec!["*".into()],
                    carrier: "international".into(),
                    backup: None,
                },
            ],
            accounts: vec![Account {
                name: DEMO_ACCOUNT.into(),
                api_key_hashes: vec![ApiKeyHash::of(api_key)],
                priorities: Priority::ALL.to_vec(),
                balance: None,
                // Every demo carrier's SP number: the demo account sees every MO.
                service_codes: vec![
                    "1069000".into(),
                    "1065500".into(),
                    "1069100".into(),
                    "10690".into(),
                ],
                requests_per_sec: None,
                concurrent_requests: None,
                messages_per_day: None,
                billing: None,
                callbacks: None,
                apps: None,
            }],
            admin: Default::default(),
            billing: Default::default(),
            content: Default::default(),
            alarm: super::AlarmDesk::demo(DEMO_ACCOUNT),
            retention: Default::default(),
            backlog: Default::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_of_carriers_and_the_demo_document_never_shows_a_password() {
        let one = |n: &str| DemoCarrier {
            address: "127.0.0.1:7890".into(),
            login: format!("login-{n}"),
            password: format!("pw-{n}-s3cret"),
        };
        let carriers = DemoCarriers {
            china_mobile: one("cm"),
            china_unicom: one("cu"),
            china_telecom: one("ct"),
            international: one("int"),
        };
        let doc = ClusterDoc::demo(&carriers, "sk_demo_0123456789abcdef");
        let shown = format!("{carriers:?} {:?} {doc:?} {doc:#?}", carriers.china_mobile);
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(!shown.contains("sk_demo_0123456789abcdef"), "{shown}");
        assert!(shown.contains("login-cm") && shown.contains(super::super::REDACTED));
    }
}
