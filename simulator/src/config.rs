//! What a simulated carrier listens on, whom it lets in, and how it behaves.
//!
//! `SimConfig::default()` is the no-config carrier `smsgw sim` and the node's
//! embedded demo run: one account per protocol on the well-known ports. A TOML
//! file overrides any part of it; errors name the key and the line. This
//! module only describes behaviour; it never opens a socket.

use std::net::SocketAddr;
use std::path::Path;

use serde::{Deserialize, Serialize};
use smsgw_config::{CarrierProfile, ProfileOverrides};
use thiserror::Error;

/// The protocol family, shared with the gateway.
pub use smsgw_protocols::Protocol;

/// The whole simulator.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimConfig {
    pub listen: Listen,
    pub accounts: Vec<Account>,
    pub reports: ReportPolicy,
    /// Seconds without any PDU after which a connection is closed
    /// (the carriers use about 3 missed 60 s heartbeats; tests shorten it).
    pub idle_timeout_secs: u64,
    /// Most submits kept in the record for queries (counts are kept for all).
    pub max_records: usize,
}

/// Where each server listens. Port 0 picks a free port (tests read it back).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Listen {
    pub cmpp: Option<SocketAddr>,
    pub sgip: Option<SocketAddr>,
    pub smgp: Option<SocketAddr>,
    pub smpp: Option<SocketAddr>,
    pub control: Option<SocketAddr>,
}

/// One carrier account a client may log in with (`Debug` masks the password).
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    pub protocol: Protocol,
    /// CMPP sp_id / SGIP login name / SMGP ClientID / SMPP system_id.
    pub login: String,
    pub password: String,
    /// Most requests answered-but-not-yet-responded per connection.
    #[serde(default = "default_window")]
    pub window: usize,
    /// Submits per second for the whole account (all its connections); 0 is
    /// unlimited.
    #[serde(default)]
    pub tps: u32,
    /// SGIP only: the SP's own server, where this carrier pushes DELIVER and
    /// REPORT (can also be set at run time through the control API).
    #[serde(default)]
    pub sgip_sp_addr: Option<SocketAddr>,
    /// What this carrier does off-spec (see [`crate::quirks`]).
    #[serde(default)]
    pub quirks: crate::quirks::Quirks,
    /// The shipped carrier profile this account plays (see [`crate::profile`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Keys of that profile changed, as in the cluster document's
    /// `[carriers.overrides]`.
    #[serde(default, skip_serializing_if = "ProfileOverrides::is_empty")]
    pub profile_overrides: ProfileOverrides,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("protocol", &self.protocol)
            .field("login", &self.login)
            .field("password", &"********")
            .field("window", &self.window)
            .field("tps", &self.tps)
            .field("sgip_sp_addr", &self.sgip_sp_addr)
            .field("quirks", &self.quirks)
            .field("profile", &self.profile)
            .field("profile_overrides", &self.profile_overrides)
            .finish()
    }
}

fn default_window() -> usize {
    64
}

/// When and how delivery reports come back.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportPolicy {
    /// Delay before a report, a random value in `[min, max]` milliseconds.
    pub delay_ms: [u64; 2],
    /// Relative weights of the outcomes.
    pub mix: OutcomeMix,
    /// Fraction (0..=1) of reports sent *before* their submit response.
    pub early_fraction: f64,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct OutcomeMix {
    pub delivered: u32,
    pub undeliverable: u32,
    pub expired: u32,
    pub rejected: u32,
}

impl Default for OutcomeMix {
    fn default() -> Self {
        OutcomeMix {
            delivered: 1,
            undeliverable: 0,
            expired: 0,
            rejected: 0,
        }
    }
}

impl Default for ReportPolicy {
    fn default() -> Self {
        ReportPolicy {
            delay_ms: [50, 200],
            mix: OutcomeMix::default(),
            early_fraction: 0.0,
        }
    }
}

/// The well-known ports of each protocol.
pub const DEFAULT_CMPP_PORT: u16 = 7890;
pub const DEFAULT_SGIP_PORT: u16 = 8801;
pub const DEFAULT_SMGP_PORT: u16 = 8890;
pub const DEFAULT_SMPP_PORT: u16 = 2775;
pub const DEFAULT_CONTROL_PORT: u16 = 7899;
/// The password of every default account.
pub const DEFAULT_PASSWORD: &str = "secret";

impl Default for Listen {
    fn default() -> Self {
        let at = |port| Some(SocketAddr::from(([127, 0, 0, 1], port)));
        Listen {
            cmpp: at(DEFAULT_CMPP_PORT),
            sgip: at(DEFAULT_SGIP_PORT),
            smgp: at(DEFAULT_SMGP_PORT),
            smpp: at(DEFAULT_SMPP_PORT),
            control: at(DEFAULT_CONTROL_PORT),
        }
    }
}

impl Listen {
    /// Every server on 127.0.0.1 port 0: what tests and the embedded demo use.
    pub fn ephemeral() -> Listen {
        let any = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
        Listen {
            cmpp: any,
            sgip: any,
            smgp: any,
            smpp: any,
            control: any,
        }
    }

    pub fn get(&self, p: Protocol) -> Option<SocketAddr> {
        match p {
            Protocol::Cmpp => self.cmpp,
            Protocol::Sgip => self.sgip,
            Protocol::Smgp => self.smgp,
            Protocol::Smpp => self.smpp,
        }
    }
}

impl Account {
    pub fn new(protocol: Protocol, login: &str, password: &str) -> Account {
        Account {
            protocol,
            login: login.to_string(),
            password: password.to_string(),
            window: default_window(),
            tps: 0,
            sgip_sp_addr: None,
            quirks: crate::quirks::Quirks::default(),
            profile: None,
            profile_overrides: ProfileOverrides::default(),
        }
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            listen: Listen::default(),
            accounts: default_accounts(),
            reports: ReportPolicy::default(),
            idle_timeout_secs: 180,
            max_records: 200_000,
        }
    }
}

/// One account per protocol, as `smsgw sim` announces at start.
pub fn default_accounts() -> Vec<Account> {
    vec![
        Account::new(Protocol::Cmpp, "900001", DEFAULT_PASSWORD),
        Account::new(Protocol::Sgip, "900001", DEFAULT_PASSWORD),
        Account::new(Protocol::Smgp, "90000001", DEFAULT_PASSWORD),
        Account::new(Protocol::Smpp, "smsgw", DEFAULT_PASSWORD),
    ]
}

/// A configuration file that could not be used.
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("{path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}, line {line}: {message}")]
    Parse {
        path: String,
        line: usize,
        message: String,
    },
    #[error("{path}: {key}: {message}")]
    Invalid {
        path: String,
        key: String,
        message: String,
    },
}

impl SimConfig {
    /// Every server on an ephemeral port, default accounts, quick reports.
    pub fn for_tests() -> SimConfig {
        SimConfig {
            listen: Listen::ephemeral(),
            reports: ReportPolicy {
                delay_ms: [0, 5],
                ..ReportPolicy::default()
            },
            ..SimConfig::default()
        }
    }

    pub fn load(path: &Path) -> Result<SimConfig, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: shown.clone(),
            source,
        })?;
        Self::parse(&text, &shown)
    }

    /// Parses TOML text; `origin` names the file in errors.
    pub fn parse(text: &str, origin: &str) -> Result<SimConfig, ConfigError> {
        let cfg: SimConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: origin.to_string(),
            line: e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
                .unwrap_or(0),
            message: e.message().to_string(),
        })?;
        cfg.validate(origin)?;
        Ok(cfg)
    }

    pub fn validate(&self, origin: &str) -> Result<(), ConfigError> {
        let invalid = |key: String, message: &str| ConfigError::Invalid {
            path: origin.to_string(),
            key,
            message: message.to_string(),
        };
        let mut seen = std::collections::HashSet::new();
        for (i, a) in self.accounts.iter().enumerate() {
            if !seen.insert((a.protocol, a.login.clone())) {
                return Err(invalid(
                    format!("accounts[{i}].login"),
                    "the same login twice for one protocol",
                ));
            }
            if let Some(name) = &a.profile {
                if CarrierProfile::shipped(name).is_none() {
                    return Err(invalid(
                        format!("accounts[{i}].profile"),
                        "not a shipped profile (china-mobile, china-unicom, china-telecom, generic-smpp)",
                    ));
                }
            }
            if a.window == 0 {
                return Err(invalid(format!("accounts[{i}].window"), "must be at least 1"));
            }
        }
        let [lo, hi] = self.reports.delay_ms;
        if lo > hi {
            return Err(invalid(
                "reports.delay_ms".into(),
                "first value (min) is above the second (max)",
            ));
        }
        if !(0.0..=1.0).contains(&self.reports.early_fraction) {
            return Err(invalid(
                "reports.early_fraction".into(),
                "must be between 0 and 1",
            ));
        }
        let m = self.reports.mix;
        if m.delivered + m.undeliverable + m.expired + m.rejected == 0 {
            return Err(invalid("reports.mix".into(), "all weights are zero"));
        }
        Ok(())
    }

    pub fn account(&self, p: Protocol, login: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.protocol == p && a.login == login)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_name_line_and_key() {
        let e = SimConfig::parse(
            "idle_timeout_secs = 5\n[reports]\ndelay_ms = [1, \"x\"]\n",
            "sim.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("line 3"), "{e}");
        let e = SimConfig::parse("[reports]\ndelay_ms = [9, 1]\n", "sim.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("reports.delay_ms"), "{e}");
        let ok = SimConfig::parse(
            "[[accounts]]\nprotocol = \"smpp\"\nlogin = \"a\"\npassword = \"b\"\ntps = 10\n",
            "sim.toml",
        )
        .unwrap();
        assert_eq!(ok.accounts.len(), 1);
        assert_eq!(ok.accounts[0].window, 64);
    }

    #[test]
    fn an_account_can_be_made_quirky_in_the_file() {
        let text = r#"
[[accounts]]
protocol = "smpp"
login = "esme"
password = "secret"
[accounts.quirks]
trailing_bytes = 1
decimal_receipt_ids = true
"#;
        let cfg = SimConfig::parse(text, "sim.toml").unwrap();
        let q = cfg.account(Protocol::Smpp, "esme").unwrap().quirks;
        assert_eq!(
            (q.trailing_bytes, q.decimal_receipt_ids, q.report_length_delta),
            (1, true, 0)
        );
        let bad = text.replace("trailing_bytes = 1", "trailing = 1");
        assert!(
            SimConfig::parse(&bad, "sim.toml").is_err(),
            "unknown quirk refused"
        );
    }

    #[test]
    fn an_account_plays_a_shipped_profile_named_in_the_file() {
        let text = r#"
[[accounts]]
protocol = "smgp"
login = "90000001"
password = "secret"
profile = "china-telecom"
[accounts.profile_overrides]
version = "1.3"
"#;
        let cfg = SimConfig::parse(text, "sim.toml").unwrap();
        let a = cfg.account(Protocol::Smgp, "90000001").unwrap();
        let p = crate::profile::of(a).unwrap();
        assert_eq!((p.name.as_str(), p.version.as_str()), ("china-telecom", "1.3"));
        let bad = text.replace("china-telecom", "china-tel");
        let e = SimConfig::parse(&bad, "sim.toml").unwrap_err().to_string();
        assert!(e.contains("accounts[0].profile"), "{e}");
    }

    #[test]
    fn the_shipped_example_parses() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/sim.example.toml");
        let cfg = SimConfig::load(std::path::Path::new(path)).unwrap();
        assert_eq!(cfg.accounts.len(), 4);
        assert_eq!(cfg.reports.mix.delivered, 95);
        assert!(cfg
            .account(Protocol::Sgip, "900001")
            .unwrap()
            .sgip_sp_addr
            .is_some());
    }
}
