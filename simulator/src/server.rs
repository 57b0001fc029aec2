//! Starting and stopping a simulator: one listener per protocol plus the
//! control API, all on the tokio runtime of the caller (so the node can embed
//! it in-process, and tests can run many side by side on port 0).

use std::net::SocketAddr;
use std::sync::Arc;

use thiserror::Error;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::config::{Protocol, SimConfig};
use crate::dialect::Dialect;
use crate::dialects;
use crate::shared::Shared;

#[derive(Debug, Error)]
pub enum StartError {
    #[error("cannot listen for {what} on {addr}: {source}")]
    Bind {
        what: String,
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A running simulator. Dropping it stops every listener and connection.
pub struct Simulator {
    shared: Arc<Shared>,
    addrs: Vec<(Protocol, SocketAddr)>,
    control: Option<SocketAddr>,
    tasks: Vec<JoinHandle<()>>,
}

impl Simulator {
    /// Binds every configured listener and starts serving.
    pub async fn start(config: SimConfig) -> Result<Simulator, StartError> {
        let shared = Shared::new(config.clone());
        let mut sim = Simulator {
            shared: shared.clone(),
            addrs: Vec::new(),
            control: None,
            tasks: Vec::new(),
        };
        for p in Protocol::ALL {
            let Some(addr) = config.listen.get(p) else {
                continue;
            };
            let listener = bind(p.name(), addr).await?;
            let local = listener.local_addr().unwrap_or(addr);
            sim.addrs.push((p, local));
            let task = match p {
                Protocol::Cmpp => spawn_accept(listener, shared.clone(), dialects::cmpp::CmppDialect::new()),
                Protocol::Sgip => spawn_accept(listener, shared.clone(), dialects::sgip::SgipDialect::new()),
                Protocol::Smgp => spawn_accept(listener, shared.clone(), dialects::smgp::SmgpDialect::new()),
                Protocol::Smpp => spawn_accept(listener, shared.clone(), dialects::smpp::SmppDialect::new()),
            };
            sim.tasks.push(task);
        }
        sim.tasks.push(dialects::sgip::spawn_sp_pushers(shared.clone()));
        if let Some(addr) = config.listen.control {
            let listener = bind("the control API", addr).await?;
            sim.control = Some(listener.local_addr().unwrap_or(addr));
            let app = crate::control::router(shared.clone());
            sim.tasks.push(tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, app).await {
                    tracing::error!("control API stopped: {e}");
                }
            }));
        }
        Ok(sim)
    }

    /// Where `protocol` listens (with the real port when 0 was asked).
    pub fn addr(&self, protocol: Protocol) -> Option<SocketAddr> {
        self.addrs.iter().find(|(p, _)| *p == protocol).map(|(_, a)| *a)
    }

    pub fn control_addr(&self) -> Option<SocketAddr> {
        self.control
    }

    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// The startup banner `smsgw sim` prints: where and with which accounts.
    pub fn banner(&self) -> String {
        let cfg = self.shared.config();
        let mut s = String::from("smsgw carrier simulator\n");
        for (p, a) in &self.addrs {
            let accounts: Vec<String> = cfg
                .accounts
                .iter()
                .filter(|x| x.protocol == *p)
                .map(|x| format!("{}/{}", x.login, x.password))
                .collect();
            s.push_str(&format!(
                "  {:<5} {a}  accounts: {}\n",
                p.name(),
                accounts.join(", ")
            ));
        }
        if let Some(c) = self.control {
            s.push_str(&format!(
                "  control http://{c}/ (GET /counts, /submits, /metrics; POST /mo, PUT /faults)\n"
            ));
        }
        s
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        // Sessions end when their listener's accept loop is gone and the
        // drop signal fires.
        self.shared.faults.drop_all_now();
    }
}

async fn bind(what: &str, addr: SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr).await.map_err(|source| StartError::Bind {
        what: what.to_string(),
        addr,
        source,
    })
}

fn spawn_accept<D: Dialect>(listener: TcpListener, shared: Arc<Shared>, dialect: D) -> JoinHandle<()> {
    let dialect = Arc::new(dialect);
    tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    tokio::spawn(crate::session::serve(shared.clone(), dialect.clone(), stream));
                }
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!(protocol = %D::PROTOCOL, "accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        }
    })
}
