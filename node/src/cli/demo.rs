//! The no-config default: the in-process carrier simulator on ephemeral
//! ports, the demo cluster document pointing at it, and the demo account's
//! API key (kept in `DATA_DIR/demo-api-key` so it survives restarts) and
//! application password (SMPP `system_id = "demo"`, CMPP `sp_id =
//! "900100"`, kept in `DATA_DIR/demo-password`).
//!
//! It must never replace a cluster document an admin applied: only an absent
//! or demo document is (re)written at start, because the simulator's ports
//! change on every start.

use std::path::Path;

use anyhow::Context;
use rand::RngCore;
use smsgw_config::{ClusterDoc, DemoCarrier, DemoCarriers, CLUSTER_DOC_KEY};
use smsgw_raft::Cluster;
use smsgw_simulator::config::{default_accounts, Listen, Protocol};
use smsgw_simulator::{SimConfig, Simulator};
use smsgw_state::Command;

/// The running demo: keep it alive as long as the node runs.
pub struct Demo {
    /// The simulator (stops when dropped).
    pub sim: Simulator,
    /// The demo account's API key.
    pub api_key: String,
    /// Where the key was written.
    pub key_file: std::path::PathBuf,
    /// The demo account's SMPP password and CMPP secret.
    pub password: String,
    /// Where the password was written.
    pub password_file: std::path::PathBuf,
}

/// The demo account's SMPP `system_id`.
pub const DEMO_SYSTEM_ID: &str = "demo";
/// The demo account's CMPP SP id.
pub const DEMO_SP_ID: &str = "900100";

/// Reads the demo password from `dir/demo-password`, or makes and writes
/// one (8 letters and digits: SMPP's longest password).
fn demo_password(dir: &Path) -> anyhow::Result<(String, std::path::PathBuf)> {
    use rand::Rng;
    let path = dir.join("demo-password");
    if let Ok(p) = std::fs::read_to_string(&path) {
        let p = p.trim().to_string();
        if p.len() == 8 && p.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Ok((p, path));
        }
    }
    let password: String = rand::thread_rng()
        .sample_iter(&rand::distributions::Alphanumeric)
        .take(8)
        .map(char::from)
        .collect();
    write_private(&path, &password)?;
    Ok((password, path))
}

fn write_private(path: &Path, value: &str) -> anyhow::Result<()> {
    std::fs::write(path, format!("{value}\n")).with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    Ok(())
}

/// Reads the demo key from `dir/demo-api-key`, or makes and writes one.
fn demo_key(dir: &Path) -> anyhow::Result<(String, std::path::PathBuf)> {
    let path = dir.join("demo-api-key");
    if let Ok(k) = std::fs::read_to_string(&path) {
        let k = k.trim().to_string();
        if k.len() >= 16 {
            return Ok((k, path));
        }
    }
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    let key = format!("sk_demo_{}", hex::encode(bytes));
    std::fs::write(&path, format!("{key}\n")).with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
    }
    Ok((key, path))
}

/// Starts the simulator and puts the demo document in force (unless an
/// admin's document is).
pub async fn start(cluster: &Cluster, data_dir: &Path) -> anyhow::Result<Demo> {
    let sim = Simulator::start(SimConfig {
        listen: Listen::ephemeral(),
        ..SimConfig::default()
    })
    .await
    .context("starting the in-process carrier simulator")?;
    let accounts = default_accounts();
    let carrier = |p: Protocol| -> anyhow::Result<DemoCarrier> {
        let addr = sim
            .addr(p)
            .with_context(|| format!("the simulator has no {p} listener"))?;
        let acct = accounts
            .iter()
            .find(|a| a.protocol == p)
            .with_context(|| format!("the simulator has no {p} account"))?;
        Ok(DemoCarrier {
            address: addr.to_string(),
            login: acct.login.clone(),
            password: acct.password.clone(),
        })
    };
    let carriers = DemoCarriers {
        china_mobile: carrier(Protocol::Cmpp)?,
        china_unicom: carrier(Protocol::Sgip)?,
        china_telecom: carrier(Protocol::Smgp)?,
        international: carrier(Protocol::Smpp)?,
    };
    let (api_key, key_file) = demo_key(data_dir)?;
    let (password, password_file) = demo_password(data_dir)?;
    let mut doc = ClusterDoc::demo(&carriers, &api_key);
    for a in &mut doc.accounts {
        a.apps = Some(smsgw_config::AppLogins {
            system_id: Some(DEMO_SYSTEM_ID.into()),
            password: Some(password.clone()),
            sp_id: Some(DEMO_SP_ID.into()),
            secret: Some(password.clone()),
            tps: None,
        });
    }
    let current = smsgw_state::local_view(cluster)
        .config(CLUSTER_DOC_KEY)
        .context("reading the cluster document")?;
    let replace = match current.as_deref().map(ClusterDoc::from_json) {
        None => true,
        Some(Ok(d)) => d.demo,
        Some(Err(_)) => false,
    };
    if replace {
        let cmd = Command::PutConfig {
            key: CLUSTER_DOC_KEY.into(),
            value: doc.to_json(),
        };
        smsgw_state::propose(cluster, &cmd)
            .await
            .context("applying the demo cluster document")?;
    } else {
        tracing::info!("an applied cluster document is in force; the demo document is not applied");
    }
    Ok(Demo {
        sim,
        api_key,
        key_file,
        password,
        password_file,
    })
}

/// Tells the simulator where the gateway's SGIP listener is, so that the
/// simulated China Unicom pushes reports and MOs to it.
pub fn sgip_hook(sim: &Simulator) -> crate::gateway::SgipHook {
    let shared = sim.shared().clone();
    std::sync::Arc::new(move |_carrier: &str, addr: std::net::SocketAddr| {
        for mut a in default_accounts()
            .into_iter()
            .filter(|a| a.protocol == Protocol::Sgip)
        {
            if let Some(cur) = shared.account(Protocol::Sgip, &a.login) {
                a = cur;
            }
            a.sgip_sp_addr = Some(addr);
            shared.update_account(a);
        }
    })
}
