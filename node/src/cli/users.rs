//! `smsgw users`: console users, written through a node's raft port with
//! the cluster secret (like `config apply`), so the first admin can be made
//! before any admin key exists. The password is read from
//! `--password-stdin` (or `SMSGW_USER_PASSWORD`), hashed here with argon2
//! and only the hash is proposed; it is never printed.

use std::io::Read;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Subcommand;
use smsgw_raft::{admin_call, AdminRequest, AdminResponse, ClusterSecret};
use smsgw_state::users::{UserCommand, UserResponse};
use smsgw_state::{Command, Response};

use crate::cli::cluster::Target;

/// `smsgw users`.
#[derive(Subcommand)]
pub enum UsersCmd {
    /// Create (or replace) a console user.
    ///
    /// Example: echo 's3cret-pass' | smsgw users add wang --role dispatcher --account 应急办 --password-stdin
    Add {
        /// Username.
        name: String,
        /// admin, operator, dispatcher or officer.
        #[arg(long)]
        role: String,
        /// The account it works for (required except for admins).
        #[arg(long)]
        account: Option<String>,
        /// Read the password from standard input (else SMSGW_USER_PASSWORD).
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        target: Target,
    },
    /// Remove a console user (its sessions end at their next request).
    Remove {
        /// Username.
        name: String,
        #[command(flatten)]
        target: Target,
    },
}

async fn propose(secret: &ClusterSecret, addr: &str, cmd: &Command) -> anyhow::Result<Response> {
    let req = AdminRequest::Propose(smsgw_raft::codec::encode(cmd)?);
    match admin_call(secret, addr, req, Duration::from_secs(15)).await? {
        AdminResponse::Proposed(Ok(bytes)) => Ok(smsgw_raft::codec::decode(&bytes)?),
        AdminResponse::Proposed(Err(e)) => bail!("{addr}: write refused: {e}"),
        other => bail!("{addr}: unexpected answer {other:?}"),
    }
}

pub fn run(c: UsersCmd, secret_file: crate::cli::secret::SecretFile) -> anyhow::Result<()> {
    let secret = crate::cli::secret::for_cli(secret_file.as_deref())?;
    let rt = tokio::runtime::Runtime::new()?;
    match c {
        UsersCmd::Add {
            name,
            role,
            account,
            password_stdin,
            target,
        } => {
            let password = if password_stdin {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .context("reading the password")?;
                s.trim_end_matches(['\r', '\n']).to_string()
            } else {
                std::env::var("SMSGW_USER_PASSWORD").context(
                    "give the password on standard input with --password-stdin, or in SMSGW_USER_PASSWORD",
                )?
            };
            // Accounts are checked by the node's admin API; here any name
            // is taken, since the CLI may run before the document names it.
            let user = crate::console::users::new_user(&name, &password, &role, account, |_| true)
                .map_err(|e| anyhow::anyhow!(e.message()))?;
            let role = user.role.name();
            match rt.block_on(propose(
                &secret,
                &target.addr,
                &Command::Users(UserCommand::Put(user)),
            ))? {
                Response::Users(UserResponse::Put { created }) => {
                    println!(
                        "user {name} ({role}) {}",
                        if created { "created" } else { "replaced" }
                    );
                    Ok(())
                }
                other => bail!("unexpected answer {other:?}"),
            }
        }
        UsersCmd::Remove { name, target } => {
            let cmd = Command::Users(UserCommand::Remove {
                username: name.clone(),
            });
            match rt.block_on(propose(&secret, &target.addr, &cmd))? {
                Response::Users(UserResponse::Removed { existed: true }) => {
                    println!("user {name} removed");
                    Ok(())
                }
                Response::Users(UserResponse::Removed { existed: false }) => bail!("no user {name}"),
                other => bail!("unexpected answer {other:?}"),
            }
        }
    }
}
