//! `smsgw accounts`: the operator's view of prepaid accounts through a
//! node's HTTP API with an admin key (`[admin] api_keys`; `--key` or
//! SMSGW_API_KEY): top up (idempotent by `--ref`), show, the ledger and the
//! monthly statement. A thin client: every rule lives in the node.

use anyhow::bail;
use clap::Subcommand;
use serde_json::json;

use crate::cli::client::{call, call_raw, print_or_fail, ApiTarget};

/// `smsgw accounts`.
#[derive(Subcommand)]
pub enum AccountsCmd {
    /// Add prepaid parts; the same --ref again counts once.
    ///
    /// Example: smsgw accounts topup studio 10000 --ref 2026-12-invoice-17 --key sk_admin_...
    Topup {
        /// Account name.
        name: String,
        /// Parts to add.
        parts: u64,
        /// The top-up's reference (receipt or order number).
        #[arg(long = "ref")]
        reference: String,
        #[command(flatten)]
        target: ApiTarget,
    },
    /// Status, balance, price and when it freezes.
    Show {
        /// Account name.
        name: String,
        #[command(flatten)]
        target: ApiTarget,
    },
    /// Balance changes, oldest first.
    Ledger {
        /// Account name.
        name: String,
        /// From (a Beijing date or RFC 3339).
        #[arg(long)]
        from: Option<String>,
        #[command(flatten)]
        target: ApiTarget,
    },
    /// The monthly statement (JSON, or CSV with --csv).
    Statement {
        /// Account name.
        name: String,
        /// The month, e.g. 2026-12 (default: this month in Beijing time).
        #[arg(long)]
        month: Option<String>,
        /// CSV instead of JSON.
        #[arg(long)]
        csv: bool,
        #[command(flatten)]
        target: ApiTarget,
    },
}

pub fn run(c: AccountsCmd) -> anyhow::Result<()> {
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        match c {
            AccountsCmd::Topup {
                name,
                parts,
                reference,
                target,
            } => {
                let body = json!({"parts": parts, "ref": reference});
                let (status, v) = call(
                    &target,
                    "POST",
                    &format!("/v1/admin/accounts/{name}/topups"),
                    Some(body),
                )
                .await?;
                print_or_fail(status, &v)
            }
            AccountsCmd::Show { name, target } => {
                let (status, v) = call(&target, "GET", &format!("/v1/admin/accounts/{name}"), None).await?;
                print_or_fail(status, &v)
            }
            AccountsCmd::Ledger { name, from, target } => {
                let q = from
                    .map(|f| format!("?from={f}&limit=500"))
                    .unwrap_or_else(|| "?limit=500".into());
                let (status, v) =
                    call(&target, "GET", &format!("/v1/accounts/{name}/ledger{q}"), None).await?;
                print_or_fail(status, &v)
            }
            AccountsCmd::Statement {
                name,
                month,
                csv,
                target,
            } => {
                let mut q = month.map(|m| format!("?month={m}")).unwrap_or_default();
                if csv {
                    q.push_str(if q.is_empty() {
                        "?format=csv"
                    } else {
                        "&format=csv"
                    });
                    let path = format!("/v1/accounts/{name}/statement{q}");
                    let (status, body) = call_raw(&target, "GET", &path, Vec::new(), "text/csv").await?;
                    if status >= 400 {
                        bail!("HTTP {status}: {}", String::from_utf8_lossy(&body));
                    }
                    print!(
                        "{}",
                        String::from_utf8_lossy(&body).trim_start_matches('\u{feff}')
                    );
                    return Ok(());
                }
                let (status, v) =
                    call(&target, "GET", &format!("/v1/accounts/{name}/statement{q}"), None).await?;
                print_or_fail(status, &v)
            }
        }
    })
}
