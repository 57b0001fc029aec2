//! The node file: who this node is and where it listens and keeps its data.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::spans::{read_config, Ctx};

/// How the node writes its logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Another member of the cluster, used by `cluster init` with no member list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// Its node id.
    pub id: u64,
    /// Its raft address.
    pub raft_addr: String,
    /// Its HTTP address (may be empty).
    pub http_addr: String,
}

/// The node file, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeConfig {
    /// This node's id (1 or more, unique in the cluster).
    pub node_id: u64,
    /// Where the node keeps its raft log and state.
    pub data_dir: PathBuf,
    /// Address of the raft port (`host:port`; port 0 picks a free one).
    pub raft_addr: String,
    /// Address of the HTTP API.
    pub http_addr: String,
    /// Cluster members (may include this node).
    pub peers: Vec<Peer>,
    /// Log format.
    pub log_format: LogFormat,
    /// Initialise a cluster of this node and its peers at start when none exists.
    pub bootstrap: bool,
    /// File holding the cluster secret (hex), given by the operator to a
    /// joining node; `None`: `DATA_DIR/cluster-secret`, created at first start.
    pub cluster_secret_file: Option<PathBuf>,
    /// Local IP that outgoing raft connections are bound to (none: the
    /// system picks). Drills give each node its own loopback address so a
    /// proxy can tell which node a connection comes from.
    pub raft_source_ip: Option<std::net::IpAddr>,
    /// PEM file of the HTTP API's certificate chain (leaf first). With
    /// `http_tls_key` the API speaks HTTPS; without both, plain HTTP.
    pub http_tls_cert: Option<PathBuf>,
    /// PEM file of the private key of `http_tls_cert`.
    pub http_tls_key: Option<PathBuf>,
    /// Free space (MiB) on the data dir's filesystem below which the node
    /// stops accepting new messages (507 `storage_full`) while it still
    /// sends and reconciles those it holds; 0 turns the mark off; `None`:
    /// [`DEFAULT_STORAGE_MIN_FREE_MB`], or a tenth of the filesystem if
    /// that is less (a small volume is not refused from the start).
    pub storage_min_free_mb: Option<u64>,
    /// MiB of sled's page cache for the node's store (state and raft log):
    /// the bound of the store's memory, and so of most of the node's RSS as
    /// history grows; [`DEFAULT_STORAGE_CACHE_MB`] when not set.
    pub storage_cache_mb: u64,
    /// Where applications bind over SMPP 3.4; `None`:
    /// [`DEFAULT_APPS_SMPP_ADDR`], skipped with a warning if it is taken
    /// (so several nodes on one host start without setting it).
    pub apps_smpp_addr: Option<String>,
    /// Where applications CONNECT over CMPP 2.0/3.0; `None`:
    /// [`DEFAULT_APPS_CMPP_ADDR`], skipped with a warning if it is taken.
    pub apps_cmpp_addr: Option<String>,
}

/// Default SMPP address for applications (the simulator's carrier SMPP is 2775).
pub const DEFAULT_APPS_SMPP_ADDR: &str = "127.0.0.1:2875";
/// Default CMPP address for applications (the simulator's carrier CMPP is 7890).
pub const DEFAULT_APPS_CMPP_ADDR: &str = "127.0.0.1:7990";

/// Default of `storage_cache_mb`. sled counts its cache in on-disk bytes
/// and holds a few times that in memory. Measured with `smsgw bench e2e
/// --rounds 5` (about 220,000 messages): with 128 the node's RSS levels at
/// about 360 MiB and the accept rate stays within 5 %; 64 keeps RSS at 260
/// MiB but the accept rate falls 40 % as history grows; 256 and sled's own
/// default (1 GiB) let RSS grow by 2–3 KB a message.
pub const DEFAULT_STORAGE_CACHE_MB: u64 = 128;

/// Default of `storage_min_free_mb`: room for the state and log to keep
/// growing while the messages already accepted are delivered and reported.
pub const DEFAULT_STORAGE_MIN_FREE_MB: u64 = 256;

impl Default for NodeConfig {
    fn default() -> Self {
        Self {
            node_id: 1,
            data_dir: PathBuf::from("./smsgw-data"),
            raft_addr: "127.0.0.1:7001".into(),
            http_addr: "127.0.0.1:8080".into(),
            peers: Vec::new(),
            log_format: LogFormat::Text,
            bootstrap: true,
            cluster_secret_file: None,
            raft_source_ip: None,
            http_tls_cert: None,
            http_tls_key: None,
            storage_min_free_mb: None,
            storage_cache_mb: DEFAULT_STORAGE_CACHE_MB,
            apps_smpp_addr: None,
            apps_cmpp_addr: None,
        }
    }
}

/// A configuration error located in its file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// The file (or a label for text given directly).
    pub file: String,
    /// The key at fault (dotted path), empty when the file is not TOML at all.
    pub key: String,
    /// 1-based line, 0 when unknown.
    pub line: usize,
    /// What is wrong and what would be right.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.key.is_empty()) {
            (0, true) => write!(f, "{}: {}", self.file, self.message),
            (0, false) => write!(f, "{}: key `{}`: {}", self.file, self.key, self.message),
            (l, true) => write!(f, "{}:{l}: {}", self.file, self.message),
            (l, false) => write!(f, "{}:{l}: key `{}`: {}", self.file, self.key, self.message),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNode {
    node_id: Option<Spanned<i64>>,
    data_dir: Option<Spanned<String>>,
    raft_addr: Option<Spanned<String>>,
    http_addr: Option<Spanned<String>>,
    log_format: Option<Spanned<String>>,
    bootstrap: Option<bool>,
    cluster_secret_file: Option<Spanned<String>>,
    raft_source_ip: Option<Spanned<String>>,
    http_tls_cert: Option<Spanned<String>>,
    http_tls_key: Option<Spanned<String>>,
    storage_min_free_mb: Option<Spanned<i64>>,
    storage_cache_mb: Option<Spanned<i64>>,
    apps_smpp_addr: Option<Spanned<String>>,
    apps_cmpp_addr: Option<Spanned<String>>,
    #[serde(default)]
    peers: Vec<RawPeer>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPeer {
    id: Spanned<i64>,
    raft_addr: Spanned<String>,
    http_addr: Option<Spanned<String>>,
}

/// Checks `host:port` without resolving names.
pub(crate) fn valid_addr(addr: &str) -> Result<(), String> {
    if addr.parse::<SocketAddr>().is_ok() {
        return Ok(());
    }
    let Some((host, port)) = addr.rsplit_once(':') else {
        return Err(format!(
            "`{addr}` is not an address: expected host:port, e.g. 127.0.0.1:7001"
        ));
    };
    if port.parse::<u16>().is_err() {
        return Err(format!("`{addr}`: port `{port}` is not a number from 0 to 65535"));
    }
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if !host_ok {
        return Err(format!(
            "`{addr}`: host `{host}` is not a host name or IP address"
        ));
    }
    Ok(())
}

impl NodeConfig {
    /// Reads and validates the node file at `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let (text, file) = read_config(path)?;
        Self::from_toml_str(&text, &file)
    }

    /// Parses and validates node-file text; `file` names it in errors.
    pub fn from_toml_str(text: &str, file: &str) -> Result<Self, ConfigError> {
        let ctx = Ctx { file, text };
        let raw: RawNode = ctx.parse()?;
        let mut cfg = NodeConfig::default();
        if let Some(id) = raw.node_id {
            if *id.get_ref() < 1 {
                return Err(ctx.err(
                    "node_id",
                    id.span(),
                    format!("must be 1 or more, got {}", id.get_ref()),
                ));
            }
            cfg.node_id = *id.get_ref() as u64;
        }
        if let Some(dir) = raw.data_dir {
            if dir.get_ref().trim().is_empty() {
                return Err(ctx.err("data_dir", dir.span(), "must not be empty"));
            }
            cfg.data_dir = PathBuf::from(dir.get_ref());
        }
        for (key, value, slot) in [
            ("raft_addr", raw.raft_addr, &mut cfg.raft_addr),
            ("http_addr", raw.http_addr, &mut cfg.http_addr),
        ] {
            if let Some(v) = value {
                valid_addr(v.get_ref()).map_err(|m| ctx.err(key, v.span(), m))?;
                *slot = v.into_inner();
            }
        }
        for (key, value, slot) in [
            ("apps_smpp_addr", raw.apps_smpp_addr, &mut cfg.apps_smpp_addr),
            ("apps_cmpp_addr", raw.apps_cmpp_addr, &mut cfg.apps_cmpp_addr),
        ] {
            if let Some(v) = value {
                valid_addr(v.get_ref()).map_err(|m| ctx.err(key, v.span(), m))?;
                *slot = Some(v.into_inner());
            }
        }
        if let Some(f) = raw.log_format {
            cfg.log_format = match f.get_ref().as_str() {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                other => {
                    return Err(ctx.err(
                        "log_format",
                        f.span(),
                        format!("`{other}` is not `text` or `json`"),
                    ));
                }
            };
        }
        let mut seen: BTreeMap<u64, usize> = BTreeMap::new();
        for (i, p) in raw.peers.into_iter().enumerate() {
            let key = format!("peers[{i}]");
            let id = *p.id.get_ref();
            if id < 1 {
                return Err(ctx.err(
                    &format!("{key}.id"),
                    p.id.span(),
                    format!("must be 1 or more, got {id}"),
                ));
            }
            let id = id as u64;
            if let Some(first) = seen.insert(id, ctx.line_of(p.id.span())) {
                let m = format!("node id {id} appears twice (first at line {first})");
                return Err(ctx.err(&format!("{key}.id"), p.id.span(), m));
            }
            valid_addr(p.raft_addr.get_ref())
                .map_err(|m| ctx.err(&format!("{key}.raft_addr"), p.raft_addr.span(), m))?;
            if id == cfg.node_id && *p.raft_addr.get_ref() != cfg.raft_addr {
                let m = format!(
                    "node id {id} is this node, but its raft_addr differs from `raft_addr` ({})",
                    cfg.raft_addr
                );
                return Err(ctx.err(&format!("{key}.raft_addr"), p.raft_addr.span(), m));
            }
            let http_addr = match p.http_addr {
                Some(h) => {
                    valid_addr(h.get_ref()).map_err(|m| ctx.err(&format!("{key}.http_addr"), h.span(), m))?;
                    h.into_inner()
                }
                None => String::new(),
            };
            cfg.peers.push(Peer {
                id,
                raft_addr: p.raft_addr.into_inner(),
                http_addr,
            });
        }
        cfg.bootstrap = raw.bootstrap.unwrap_or(false);
        if let Some(f) = raw.cluster_secret_file {
            if f.get_ref().trim().is_empty() {
                return Err(ctx.err("cluster_secret_file", f.span(), "must not be empty"));
            }
            cfg.cluster_secret_file = Some(PathBuf::from(f.get_ref()));
        }
        if let Some(ip) = raw.raft_source_ip {
            let parsed = ip.get_ref().parse().map_err(|_| {
                let m = format!("`{}` is not an IP address, e.g. 127.0.0.11", ip.get_ref());
                ctx.err("raft_source_ip", ip.span(), m)
            })?;
            cfg.raft_source_ip = Some(parsed);
        }
        match (raw.http_tls_cert, raw.http_tls_key) {
            (Some(c), Some(k)) => {
                for (key, v) in [("http_tls_cert", &c), ("http_tls_key", &k)] {
                    if v.get_ref().trim().is_empty() {
                        return Err(ctx.err(key, v.span(), "must not be empty (a PEM file path)"));
                    }
                }
                cfg.http_tls_cert = Some(PathBuf::from(c.into_inner()));
                cfg.http_tls_key = Some(PathBuf::from(k.into_inner()));
            }
            (Some(c), None) => {
                let m = "HTTPS needs `http_tls_key` too (the PEM file of this certificate's private key)";
                return Err(ctx.err("http_tls_cert", c.span(), m));
            }
            (None, Some(k)) => {
                let m = "HTTPS needs `http_tls_cert` too (the PEM file of the certificate chain)";
                return Err(ctx.err("http_tls_key", k.span(), m));
            }
            (None, None) => {}
        }
        if let Some(mb) = raw.storage_min_free_mb {
            let v = *mb.get_ref();
            if !(0..=1 << 30).contains(&v) {
                let m = format!("must be a number of MiB from 0 (off) to 1073741824, got {v}");
                return Err(ctx.err("storage_min_free_mb", mb.span(), m));
            }
            cfg.storage_min_free_mb = Some(v as u64);
        }
        if let Some(mb) = raw.storage_cache_mb {
            let v = *mb.get_ref();
            if !(16..=1 << 20).contains(&v) {
                let m = format!("must be a number of MiB from 16 to 1048576, got {v}");
                return Err(ctx.err("storage_cache_mb", mb.span(), m));
            }
            cfg.storage_cache_mb = v as u64;
        }
        Ok(cfg)
    }

    /// Probes that the data dir can be created and written (creates it if missing).
    pub fn check_data_dir_writable(&self, file: &str) -> Result<(), ConfigError> {
        let err = |m: String| ConfigError {
            file: file.into(),
            key: "data_dir".into(),
            line: 0,
            message: m,
        };
        let dir = &self.data_dir;
        std::fs::create_dir_all(dir).map_err(|e| err(format!("cannot create {}: {e}", dir.display())))?;
        let probe = dir.join(".smsgw-write-probe");
        std::fs::write(&probe, b"probe")
            .map_err(|e| err(format!("{} is not writable: {e}", dir.display())))?;
        let _ = std::fs::remove_file(&probe);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_full_file() {
        let c = NodeConfig::from_toml_str("", "n.toml").unwrap();
        assert_eq!(c.node_id, 1);
        assert!(!c.bootstrap);
        let text = "node_id = 2\ndata_dir = \"/tmp/x\"\nraft_addr = \"127.0.0.1:7002\"\nlog_format = \"json\"\n\
                    [[peers]]\nid = 1\nraft_addr = \"10.0.0.1:7001\"\n[[peers]]\nid = 2\nraft_addr = \"127.0.0.1:7002\"\n";
        let c = NodeConfig::from_toml_str(text, "n.toml").unwrap();
        assert_eq!(c.peers.len(), 2);
        assert_eq!(c.raft_source_ip, None);
        assert_eq!(c.log_format, LogFormat::Json);
        let c = NodeConfig::from_toml_str("raft_source_ip = \"127.0.0.12\"\n", "n.toml").unwrap();
        assert_eq!(c.raft_source_ip, Some([127, 0, 0, 12].into()));
    }

    #[test]
    fn errors_name_key_and_line() {
        let text =
            "node_id = 1\n[[peers]]\nid = 2\nraft_addr = \"a:1\"\n[[peers]]\nid = 2\nraft_addr = \"b:1\"\n";
        let e = NodeConfig::from_toml_str(text, "n.toml").unwrap_err();
        assert_eq!((e.key.as_str(), e.line), ("peers[1].id", 6), "{e}");
        assert!(e.to_string().contains("appears twice"), "{e}");
        let e = NodeConfig::from_toml_str("node_id = 1\nraft_addr = \"nope\"\n", "n.toml").unwrap_err();
        assert_eq!((e.key.as_str(), e.line), ("raft_addr", 2));
        let e = NodeConfig::from_toml_str("node_id = 1\n\nraft_adr = \"x:1\"\n", "n.toml").unwrap_err();
        assert_eq!((e.key.as_str(), e.line), ("raft_adr", 3), "{e}");
        let e = NodeConfig::from_toml_str("node_id = 0\n", "n.toml").unwrap_err();
        assert_eq!(e.key, "node_id");
        let e = NodeConfig::from_toml_str("node_id = 1\nraft_source_ip = \"x\"\n", "n.toml").unwrap_err();
        assert_eq!((e.key.as_str(), e.line), ("raft_source_ip", 2), "{e}");
        let e = NodeConfig::from_toml_str("node_id = 1\n\nstorage_min_free_mb = -5\n", "n.toml").unwrap_err();
        assert_eq!((e.key.as_str(), e.line), ("storage_min_free_mb", 3), "{e}");
        let c = NodeConfig::from_toml_str("storage_min_free_mb = 0\n", "n.toml").unwrap();
        assert_eq!(c.storage_min_free_mb, Some(0));
        assert_eq!(NodeConfig::default().storage_min_free_mb, None);
        let e = NodeConfig::from_toml_str("node_id = 1\nstorage_cache_mb = 4\n", "n.toml").unwrap_err();
        assert_eq!((e.key.as_str(), e.line), ("storage_cache_mb", 2), "{e}");
        let c = NodeConfig::from_toml_str("storage_cache_mb = 64\n", "n.toml").unwrap();
        assert_eq!(c.storage_cache_mb, 64);
        assert_eq!(NodeConfig::default().storage_cache_mb, DEFAULT_STORAGE_CACHE_MB);
    }

    #[test]
    fn the_documented_example_parses_and_with_tls_uncommented_too() {
        let text = include_str!("../../docs/node.example.toml");
        let c = NodeConfig::from_toml_str(text, "node.example.toml").unwrap();
        assert_eq!((c.node_id, c.peers.len()), (2, 2));
        let tls = text.replace("# http_tls_", "http_tls_");
        let c = NodeConfig::from_toml_str(&tls, "node.example.toml").unwrap();
        assert!(c.http_tls_cert.is_some() && c.http_tls_key.is_some());
    }

    #[test]
    fn tls_needs_both_files() {
        let c = NodeConfig::from_toml_str("http_tls_cert = \"c.pem\"\nhttp_tls_key = \"k.pem\"\n", "n.toml")
            .unwrap();
        assert_eq!(c.http_tls_cert, Some(PathBuf::from("c.pem")));
        assert_eq!(c.http_tls_key, Some(PathBuf::from("k.pem")));
        assert_eq!(
            NodeConfig::from_toml_str("", "n.toml").unwrap().http_tls_cert,
            None
        );
        let e = NodeConfig::from_toml_str("node_id = 1\nhttp_tls_cert = \"c.pem\"\n", "n.toml").unwrap_err();
        assert_eq!((e.key.as_str(), e.line), ("http_tls_cert", 2), "{e}");
        assert!(e.to_string().contains("http_tls_key"), "{e}");
        let e = NodeConfig::from_toml_str("http_tls_key = \"k.pem\"\n", "n.toml").unwrap_err();
        assert!(e.to_string().contains("http_tls_cert"), "{e}");
        let e = NodeConfig::from_toml_str("http_tls_cert = \"c.pem\"\nhttp_tls_key = \" \"\n", "n.toml")
            .unwrap_err();
        assert_eq!((e.key.as_str(), e.line), ("http_tls_key", 2), "{e}");
    }

    #[test]
    fn unwritable_data_dir_is_rejected() {
        let c = NodeConfig {
            data_dir: PathBuf::from("/proc/smsgw-cannot-write"),
            ..NodeConfig::default()
        };
        let e = c.check_data_dir_writable("n.toml").unwrap_err();
        assert_eq!(e.key, "data_dir");
    }
}
