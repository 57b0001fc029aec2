//! `cluster propose-test` / `cluster check-test`: write and verify numbered
//! test parts so process tests and drills can prove nothing committed is
//! lost. It must never write anything but parts under the given prefix.

use std::time::Duration;

use anyhow::bail;
use clap::Args;
use smsgw_raft::network::{RpcClient, RpcRequest, RpcResponse};
use smsgw_raft::{AdminRequest, AdminResponse, ClusterSecret};
use smsgw_state::{Command, MtPart, Query, QueryResult};

/// Arguments of `propose-test`.
#[derive(Args)]
pub struct ProposeArgs {
    #[command(flatten)]
    target: super::Target,
    /// Number of parts.
    #[arg(long, default_value_t = 100)]
    count: u64,
    /// Id prefix.
    #[arg(long, default_value = "test")]
    prefix: String,
    /// First number (to continue a series).
    #[arg(long, default_value_t = 0)]
    start: u64,
    /// Parts per proposal.
    #[arg(long, default_value_t = 10)]
    batch: u64,
}

/// Arguments of `check-test`.
#[derive(Args)]
pub struct CheckArgs {
    #[command(flatten)]
    target: super::Target,
    /// Number of parts expected (ids PREFIX-0 .. PREFIX-(COUNT-1)).
    #[arg(long)]
    count: u64,
    /// Id prefix.
    #[arg(long, default_value = "test")]
    prefix: String,
}

fn part_id(prefix: &str, i: u64) -> String {
    format!("{prefix}-{i}")
}

pub async fn propose(secret: &ClusterSecret, args: ProposeArgs) -> anyhow::Result<()> {
    let client = RpcClient::new(secret.clone());
    let mut committed = 0u64;
    let end = args.start + args.count;
    let mut i = args.start;
    while i < end {
        let upto = (i + args.batch.max(1)).min(end);
        let messages = (i..upto)
            .map(|n| MtPart {
                id: part_id(&args.prefix, n),
                account: "test".into(),
                to: "10000000000".into(),
                parts: 1,
                payload: vec![b'x'; 20],
                accepted_at_ms: 0,
                queue: None,
            })
            .collect();
        let cmd = Command::AcceptBatch {
            request_id: Some(format!("{}/{i}", args.prefix)),
            messages,
        };
        let req = RpcRequest::Admin(AdminRequest::Propose(smsgw_raft::codec::encode(&cmd)?));
        match client
            .call(&args.target.addr, &req, Duration::from_secs(30))
            .await
        {
            Ok(RpcResponse::Admin(Ok(AdminResponse::Proposed(Ok(_))))) => committed += upto - i,
            Ok(RpcResponse::Admin(Ok(AdminResponse::Proposed(Err(e))))) => {
                println!("committed {committed}");
                bail!("write refused: {e}");
            }
            Ok(other) => bail!("unexpected answer: {other:?}"),
            Err(e) => {
                println!("committed {committed}");
                bail!("{e}");
            }
        }
        i = upto;
    }
    println!("committed {committed}");
    Ok(())
}

pub async fn check(secret: &ClusterSecret, args: CheckArgs) -> anyhow::Result<()> {
    let query = Query::PartIds {
        prefix: format!("{}-", args.prefix),
        limit: usize::MAX,
    };
    let req = AdminRequest::Read {
        query: smsgw_raft::codec::encode(&query)?,
        linearizable: true,
    };
    let answer = match smsgw_raft::admin_call(secret, &args.target.addr, req, Duration::from_secs(30)).await?
    {
        AdminResponse::Read(bytes) => smsgw_raft::codec::decode::<QueryResult>(&bytes)?,
        other => bail!("unexpected answer: {other:?}"),
    };
    let QueryResult::PartIds(ids) = answer else {
        bail!("unexpected answer: {answer:?}");
    };
    let present: std::collections::HashSet<String> = ids.into_iter().collect();
    let missing: Vec<String> = (0..args.count)
        .map(|i| part_id(&args.prefix, i))
        .filter(|id| !present.contains(id))
        .collect();
    println!(
        "present {} of {}",
        args.count as usize - missing.len(),
        args.count
    );
    if !missing.is_empty() {
        let shown: Vec<_> = missing.iter().take(20).collect();
        bail!("{} ids missing, e.g. {shown:?}", missing.len());
    }
    Ok(())
}
