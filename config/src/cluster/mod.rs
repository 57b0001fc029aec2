//! The cluster document: carriers, routes by number segment, accounts and
//! message defaults. Admins write it as TOML (`smsgw config apply FILE`); it
//! is replicated through raft as JSON of [`ClusterDoc`] and every node reads
//! it from its replicated state.
//!
//! Shape of the file (every key is checked; errors name the key and line):
//!
//! ```toml
//! [defaults]
//! validity_secs = 172800      # a message without a final report by then is EXPIRED
//! report = true               # ask carriers for delivery reports
//!
//! [[carriers]]
//! name = "china-mobile"
//! protocol = "cmpp3"          # cmpp2 | cmpp3 | sgip | smgp | smpp
//! address = "10.1.1.1:7890"
//! login = "900001"
//! password = "secret"
//! connections = 2             # sessions per node
//! window = 16                 # requests in flight per session
//! tps = 200                   # submits per second, all sessions of a node
//! sp_number = "10690001"      # optional: source number prefix
//! # sgip_sp_listen = "0.0.0.0:8802"   # sgip only: where the carrier pushes MOs/reports
//! profile = "china-mobile"    # optional: a shipped carrier profile (see `profile`)
//! [carriers.overrides]        # optional: single keys of the profile
//! fee_type = "01"
//!
//! [[routes]]
//! prefixes = ["134-139", "147", "150-152"]   # "*" is the default route
//! carrier = "china-mobile"
//! backup = "intl"             # optional
//!
//! [[accounts]]
//! name = "billing"
//! api_keys = ["sk_...at least 16 characters"]   # stored only as SHA-256 + prefix
//! priorities = ["high", "normal"]  # optional: default all four
//! balance = 100000            # optional: prepaid, with this opening balance in parts (see `billing`)
//! service_codes = ["1069000123"]  # optional: MOs to these numbers (longest prefix) are this account's
//! requests_per_sec = 50       # optional limits: over one, the API answers 429 with Retry-After
//! concurrent_requests = 8
//! messages_per_day = 100000
//! [accounts.callbacks]        # optional: where MOs and delivery reports are POSTed
//! urls = ["http://10.0.0.5:8080/sms/events"]   # round robin, failing over
//! secret = "at least 16 characters"           # HMAC-SHA256 key; masked by `config show`
//! [accounts.apps]             # optional: SMPP and CMPP logins for applications (see `apps`)
//! system_id = "billing"
//! password = "s3cret12"
//! sp_id = "900123"
//! secret = "cmpp shared secret"
//! ```
//!
//! `config show` prints `[[accounts.api_key_hashes]]` (prefix and SHA-256)
//! instead of keys; such a document can be applied again as it is.
//!
//! This module never does I/O beyond reading the file it is given.

pub mod alarm;
pub mod apps;
pub mod backlog;
pub mod billing;
pub mod callbacks;
pub mod demo;
pub mod keys;
mod parse;
mod parse_accounts;
mod parse_alarm;
mod parse_billing;
pub mod profile;
pub mod retention;
mod route;

use serde::{Deserialize, Serialize};

pub use alarm::{AlarmDesk, AlarmLine, KeywordRank};
pub use apps::AppLogins;
pub use backlog::Backlog;
pub use billing::{AccountBilling, AccountKind, AdminAccess, BillingRules, ContentAction, ContentRules};
pub use callbacks::Callbacks;
pub use keys::ApiKeyHash;
pub use profile::{CarrierProfile, FeeDefaults, IdFormat, ProfileOverrides, ReceiptStyle, UdhStyle};
pub use retention::Retention;
pub use route::{expand as expand_prefix, normalize_number, RouteChoice, Router};

/// The raft config key the cluster document is stored under.
pub const CLUSTER_DOC_KEY: &str = "cluster";

/// A carrier protocol and version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CarrierProtocol {
    /// China Mobile CMPP 2.0.
    Cmpp2,
    /// China Mobile CMPP 3.0.
    Cmpp3,
    /// China Unicom SGIP 1.2.
    Sgip,
    /// China Telecom SMGP 3.0.
    Smgp,
    /// SMPP 3.4.
    Smpp,
}

impl CarrierProtocol {
    /// Every protocol, as written in the file.
    pub const ALL: [CarrierProtocol; 5] = [
        CarrierProtocol::Cmpp2,
        CarrierProtocol::Cmpp3,
        CarrierProtocol::Sgip,
        CarrierProtocol::Smgp,
        CarrierProtocol::Smpp,
    ];

    /// The name used in the file.
    pub fn name(self) -> &'static str {
        match self {
            CarrierProtocol::Cmpp2 => "cmpp2",
            CarrierProtocol::Cmpp3 => "cmpp3",
            CarrierProtocol::Sgip => "sgip",
            CarrierProtocol::Smgp => "smgp",
            CarrierProtocol::Smpp => "smpp",
        }
    }

    /// Parses the name used in the file.
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == s)
    }
}

/// A message priority class, highest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    /// Emergency alarms: before anything else.
    Alarm,
    /// Time-critical (one-time codes).
    High,
    /// The default.
    Normal,
    /// Campaigns and bulk notices.
    Bulk,
}

impl Priority {
    /// Every class, highest first.
    pub const ALL: [Priority; 4] = [Priority::Alarm, Priority::High, Priority::Normal, Priority::Bulk];

    /// The name used in files and the API.
    pub fn name(self) -> &'static str {
        match self {
            Priority::Alarm => "alarm",
            Priority::High => "high",
            Priority::Normal => "normal",
            Priority::Bulk => "bulk",
        }
    }

    /// Parses the name used in files and the API.
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == s)
    }

    /// The class number kept in the replicated ready queues: 0 (alarm) to 3 (bulk).
    pub fn class(self) -> u8 {
        match self {
            Priority::Alarm => 0,
            Priority::High => 1,
            Priority::Normal => 2,
            Priority::Bulk => 3,
        }
    }
}

/// Defaults applied to every message unless the request says otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageDefaults {
    /// Seconds after acceptance without a final report before a message is EXPIRED.
    pub validity_secs: u64,
    /// Whether delivery reports are requested.
    pub report: bool,
}

impl Default for MessageDefaults {
    fn default() -> Self {
        Self {
            validity_secs: 48 * 3600,
            report: true,
        }
    }
}

/// A carrier account we log in to. `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Carrier {
    /// Unique name, used by routes, metrics labels and logs.
    pub name: String,
    /// Protocol and version.
    pub protocol: CarrierProtocol,
    /// The carrier gateway's `host:port`.
    pub address: String,
    /// Login (CMPP sp_id, SGIP login name, SMGP ClientID, SMPP system_id).
    pub login: String,
    /// Password (shared secret).
    pub password: String,
    /// Sessions per node.
    pub connections: u32,
    /// Requests awaiting their response per session.
    pub window: u32,
    /// Submits per second allowed to this account from one node.
    pub tps: u32,
    /// Source number (service code) prefix the sender extension is appended to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sp_number: Option<String>,
    /// SGIP only: the address our own SGIP server listens on for the carrier's pushes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sgip_sp_listen: Option<String>,
    /// The shipped carrier profile named in the file (none: the protocol's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Keys of the profile this carrier changes.
    #[serde(default, skip_serializing_if = "ProfileOverrides::is_empty")]
    pub overrides: ProfileOverrides,
}

impl Carrier {
    /// The resolved profile: the named (or the protocol's) shipped profile
    /// with this carrier's overrides. A CMPP carrier's version follows its
    /// protocol (cmpp2 / cmpp3) unless overridden.
    pub fn profile(&self) -> CarrierProfile {
        let base = CarrierProfile::for_protocol(self.protocol);
        let named = self
            .profile
            .as_deref()
            .and_then(CarrierProfile::shipped)
            .map(|p| CarrierProfile {
                version: base.version.clone(),
                ..p
            });
        named.unwrap_or(base).with(&self.overrides)
    }
}

impl std::fmt::Debug for Carrier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Carrier")
            .field("name", &self.name)
            .field("protocol", &self.protocol)
            .field("address", &self.address)
            .field("login", &self.login)
            .field("password", &REDACTED)
            .field("connections", &self.connections)
            .field("window", &self.window)
            .field("tps", &self.tps)
            .field("sp_number", &self.sp_number)
            .field("sgip_sp_listen", &self.sgip_sp_listen)
            .finish()
    }
}

/// Numbers whose prefix is in `prefixes` go to `carrier` (or `backup` when it is down).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    /// Number segments: `"139"`, ranges of equal length `"134-139"`,
    /// international `"+44"`, or `"*"` for every number no other route takes.
    pub prefixes: Vec<String>,
    /// The carrier that takes these numbers.
    pub carrier: String,
    /// The carrier used while `carrier` has no session up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup: Option<String>,
}

/// An application account of the HTTP API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Unique name; message ids and idempotency keys are scoped to it.
    pub name: String,
    /// Its bearer keys, hashed (any of them authenticates).
    pub api_key_hashes: Vec<ApiKeyHash>,
    /// Priorities it may use.
    pub priorities: Vec<Priority>,
    /// Prepaid parts, when the account is prepaid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance: Option<u64>,
    /// Numbers (SP number + extension, or a prefix of them) whose MOs are
    /// this account's; the longest matching code over all accounts wins.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_codes: Vec<String>,
    /// Most API requests per second (a token bucket of this size).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_per_sec: Option<u32>,
    /// Most API requests in progress at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrent_requests: Option<u32>,
    /// Most messages (recipients) accepted per UTC day, per node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages_per_day: Option<u64>,
    /// Prepaid: charged per part, stopped at zero (see `billing`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing: Option<AccountBilling>,
    /// Where its MOs and delivery reports are POSTed (see [`callbacks`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callbacks: Option<Callbacks>,
    /// Its SMPP and CMPP logins (see [`apps`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apps: Option<AppLogins>,
}

impl Account {
    /// Whether the account may send with `p`.
    pub fn allows(&self, p: Priority) -> bool {
        self.priorities.contains(&p)
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// The cluster document, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterDoc {
    /// Set on the document `node start` makes for its in-process simulator;
    /// a demo node replaces only a demo document at start.
    #[serde(default, skip_serializing_if = "is_false")]
    pub demo: bool,
    /// Message defaults.
    #[serde(default)]
    pub defaults: MessageDefaults,
    /// Carrier accounts.
    pub carriers: Vec<Carrier>,
    /// Routes by number segment.
    pub routes: Vec<Route>,
    /// API accounts.
    pub accounts: Vec<Account>,
    /// Admin keys of `/v1/admin/...`.
    #[serde(default, skip_serializing_if = "is_default")]
    pub admin: AdminAccess,
    /// Freezing and closing idle prepaid accounts.
    #[serde(default, skip_serializing_if = "is_default")]
    pub billing: BillingRules,
    /// Banned words and opt-out keywords.
    #[serde(default, skip_serializing_if = "is_default")]
    pub content: ContentRules,
    /// The 110 alarm desk.
    #[serde(default, skip_serializing_if = "is_default")]
    pub alarm: AlarmDesk,
    /// How long finished records and idempotency keys are kept.
    #[serde(default, skip_serializing_if = "is_default")]
    pub retention: Retention,
    /// Caps on each account's unfinished messages.
    #[serde(default, skip_serializing_if = "is_default")]
    pub backlog: Backlog,
}

impl ClusterDoc {
    /// A carrier by name.
    pub fn carrier(&self, name: &str) -> Option<&Carrier> {
        self.carriers.iter().find(|c| c.name == name)
    }

    /// The account a bearer key belongs to. The key is hashed and compared
    /// with every stored hash (no early exit), in constant time.
    pub fn account_by_key(&self, key: &str) -> Option<&Account> {
        let presented = keys::digest(key);
        let mut found = None;
        for a in &self.accounts {
            for k in &a.api_key_hashes {
                if k.matches(&presented) && found.is_none() {
                    found = Some(a);
                }
            }
        }
        found
    }

    /// The account whose SMPP `system_id` is `id` (ids are unique).
    pub fn account_by_system_id(&self, id: &str) -> Option<&Account> {
        self.accounts
            .iter()
            .find(|a| a.apps.as_ref().and_then(|l| l.system_id.as_deref()) == Some(id))
    }

    /// The account whose CMPP SP id is `sp_id` (ids are unique).
    pub fn account_by_sp_id(&self, sp_id: &str) -> Option<&Account> {
        self.accounts
            .iter()
            .find(|a| a.apps.as_ref().and_then(|l| l.sp_id.as_deref()) == Some(sp_id))
    }

    /// The account an MO to `destination` belongs to: the longest service
    /// code that prefixes it, over all accounts; `None` when no code does.
    pub fn account_for_mo(&self, destination: &str) -> Option<&Account> {
        self.accounts
            .iter()
            .flat_map(|a| a.service_codes.iter().map(move |c| (c, a)))
            .filter(|(c, _)| destination.starts_with(c.as_str()))
            .max_by_key(|(c, _)| c.len())
            .map(|(_, a)| a)
    }

    /// The document with every carrier password and callback secret
    /// replaced by `********`: what `config show` prints.
    pub fn redacted(&self) -> ClusterDoc {
        let mut d = self.clone();
        for c in &mut d.carriers {
            c.password = REDACTED.into();
        }
        for cb in d.accounts.iter_mut().filter_map(|a| a.callbacks.as_mut()) {
            cb.secret = REDACTED.into();
        }
        for a in d.accounts.iter_mut() {
            a.apps = a.apps.as_ref().map(AppLogins::redacted);
        }
        d
    }

    /// The compiled route table.
    pub fn router(&self) -> Router {
        Router::new(&self.routes)
    }

    /// The document as TOML text (round-trips through [`ClusterDoc::from_toml_str`]).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_else(|e| format!("# cannot render as TOML: {e}\n"))
    }

    /// The document as JSON bytes, the replicated form.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Reads the replicated JSON form.
    pub fn from_json(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

/// What a carrier password is shown as.
pub const REDACTED: &str = "********";

/// Whether TOML text looks like a cluster document rather than a node file
/// (it has a `carriers`, `routes`, `accounts` or `defaults` key).
pub fn looks_like_cluster_doc(text: &str) -> bool {
    match text.parse::<toml::Table>() {
        Ok(t) => ["carriers", "routes", "accounts", "defaults"]
            .iter()
            .any(|k| t.contains_key(*k)),
        Err(_) => false,
    }
}
