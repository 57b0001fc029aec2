//! `smsgw bench apps`: submits per second over ONE SMPP transceiver bind
//! to a running node (window of N unanswered submit_sm), answering every
//! deliver_sm, then waiting (bounded) for the receipts of what was accepted.
//! It only connects to the address it is given and stops by itself.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use bytes::Bytes;
use clap::Args;
use futures::{SinkExt, StreamExt};
use smsgw_protocols::framing::FrameCodec;
use smsgw_protocols::smpp::{status, Bind, Body, Pdu, SmResp, Smpp, SubmitSm};
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

/// Arguments of `bench apps`.
#[derive(Args)]
pub struct AppsBenchArgs {
    /// The node's SMPP address for applications.
    #[arg(long, default_value = "127.0.0.1:2875")]
    smpp: String,
    /// system_id.
    #[arg(long, default_value = "demo")]
    system_id: String,
    /// Password; default: ./smsgw-data/demo-password.
    #[arg(long)]
    password: Option<String>,
    /// Most submit_sm unanswered at once.
    #[arg(long, default_value_t = 64)]
    window: usize,
    /// Seconds of submitting.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Most seconds to wait afterwards for the receipts.
    #[arg(long, default_value_t = 30)]
    receipt_wait: u64,
}

pub async fn run(a: AppsBenchArgs) -> anyhow::Result<()> {
    let password = match a.password {
        Some(p) => p,
        None => std::fs::read_to_string("smsgw-data/demo-password")
            .context("no --password and no ./smsgw-data/demo-password")?
            .trim()
            .to_string(),
    };
    let stream = TcpStream::connect(&a.smpp)
        .await
        .with_context(|| format!("connecting to {}", a.smpp))?;
    stream.set_nodelay(true)?;
    let mut link = Framed::new(stream, FrameCodec::<Smpp>::new());
    let bind = Bind::new(&a.system_id, &password)?;
    link.send(Pdu::new(1, Body::BindTransceiver(bind))).await?;
    match link.next().await {
        Some(Ok(Ok(p))) if p.command_status == status::ESME_ROK => {}
        other => bail!("bind refused: {other:?}"),
    }
    let mut seq: u32 = 1;
    let mut sent_at: HashMap<u32, Instant> = HashMap::new();
    let mut lat = Vec::new();
    let (mut accepted, mut refused, mut receipts) = (0u64, 0u64, 0u64);
    let started = Instant::now();
    let end = started + Duration::from_secs(a.seconds);
    let mut submitting_done = None;
    loop {
        let now = Instant::now();
        if now < end {
            while sent_at.len() < a.window {
                seq = seq.wrapping_add(1).max(2);
                let to = format!("138{:08}", u64::from(seq) % 100_000_000);
                let mut sm = SubmitSm::new("", &to, 1, Bytes::from(format!("bench {seq}")))?;
                sm.registered_delivery = 1;
                link.feed(Pdu::new(seq, Body::SubmitSm(sm))).await?;
                sent_at.insert(seq, Instant::now());
            }
            link.flush().await?;
        } else if sent_at.is_empty() {
            let done = *submitting_done.get_or_insert_with(Instant::now);
            if receipts >= accepted || done.elapsed() > Duration::from_secs(a.receipt_wait) {
                break;
            }
        }
        let item = match tokio::time::timeout(Duration::from_secs(5), link.next()).await {
            Ok(Some(Ok(Ok(p)))) => p,
            Ok(Some(Ok(Err(bad)))) => bail!("undecodable PDU from the node: {:?}", bad.error),
            Ok(Some(Err(e))) => bail!("link: {e}"),
            Ok(None) => bail!("the node closed the link"),
            Err(_) if Instant::now() < end => bail!("no answer within 5 s"),
            Err(_) => continue,
        };
        match item.body {
            Body::SubmitSmResp(_) => {
                if let Some(t) = sent_at.remove(&item.sequence_number) {
                    if item.command_status == status::ESME_ROK {
                        accepted += 1;
                        lat.push(t.elapsed());
                    } else {
                        refused += 1;
                    }
                }
            }
            Body::DeliverSm(d) => {
                if d.is_receipt() {
                    receipts += 1;
                }
                let resp = Pdu::new(item.sequence_number, Body::DeliverSmResp(SmResp::default()));
                link.send(resp).await?;
            }
            Body::EnquireLink => {
                link.send(Pdu::new(item.sequence_number, Body::EnquireLinkResp))
                    .await?;
            }
            _ => {}
        }
    }
    let submit_secs = a.seconds as f64;
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let _ = link.send(Pdu::new(seq.wrapping_add(1), Body::Unbind)).await;
    println!(
        "bench apps: one SMPP bind, window {}: {accepted} accepted in {:.0} s = {:.0} submits/s \
         (refused {refused}); submit_sm_resp p50 {:.1} ms p99 {:.1} ms; receipts back {receipts}/{accepted} \
         after {:.1} s",
        a.window,
        submit_secs,
        accepted as f64 / submit_secs,
        pct(0.5),
        pct(0.99),
        started.elapsed().as_secs_f64(),
    );
    Ok(())
}
