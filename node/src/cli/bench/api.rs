//! `smsgw bench api`: `POST /v1/messages` throughput of a running node (one
//! recipient per request, N concurrent keep-alive clients) with latency
//! percentiles. It only sends to the URL it is given and stops by itself.

use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::Request;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// Arguments of `bench api`.
#[derive(Args)]
pub struct ApiBenchArgs {
    /// Base URL of the node's HTTP API.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    api: String,
    /// API key; default: ./smsgw-data/demo-api-key.
    #[arg(long)]
    key: Option<String>,
    /// Concurrent clients.
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Seconds to run.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
}

pub async fn run(a: ApiBenchArgs) -> anyhow::Result<()> {
    let key = match a.key {
        Some(k) => k,
        None => std::fs::read_to_string("smsgw-data/demo-api-key")
            .context("no --key and no ./smsgw-data/demo-api-key")?
            .trim()
            .to_string(),
    };
    let url = format!("{}/v1/messages", a.api.trim_end_matches('/'));
    let started = Instant::now();
    let load = drive(&url, &key, a.clients, Duration::from_secs(a.seconds), 0).await?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "POST /v1/messages, 1 recipient, {} clients, {secs:.1} s: {} accepted ({:.0}/s), {} errors, latency ms p50 {:.1} p99 {:.1} max {:.1}",
        a.clients,
        load.latencies.len(),
        load.latencies.len() as f64 / secs,
        load.errors,
        load.percentile_ms(0.5),
        load.percentile_ms(0.99),
        load.percentile_ms(1.0)
    );
    Ok(())
}

/// What one load run saw: the latency of each accepted request, and the
/// requests that were refused or failed.
pub struct Load {
    pub latencies: Vec<Duration>,
    pub errors: u64,
}

impl Load {
    /// The latency at fraction `p` (0..=1) in milliseconds, 0 with none
    /// (`latencies` is sorted).
    pub fn percentile_ms(&self, p: f64) -> f64 {
        let last = self.latencies.len().saturating_sub(1);
        self.latencies
            .get(((self.latencies.len() as f64 * p) as usize).min(last))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    }
}

/// `clients` keep-alive clients post one-recipient messages to `url` until
/// `length` has passed. Numbers start at `offset` per client, so rounds of
/// one benchmark never repeat a request.
pub async fn drive(
    url: &str,
    key: &str,
    clients: usize,
    length: Duration,
    offset: u64,
) -> anyhow::Result<Load> {
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let end = Instant::now() + length;
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (client, url, key) = (client.clone(), url.to_string(), key.to_string());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0u64;
            let mut i = offset;
            while Instant::now() < end {
                i += 1;
                let body = format!(
                    r#"{{"to":["138{:08}"],"text":"bench message {c}-{i}","priority":"normal"}}"#,
                    (c as u64 * 1_000_000 + i) % 100_000_000
                );
                let req = Request::post(&url)
                    .header("authorization", format!("Bearer {key}"))
                    .header("content-type", "application/json")
                    .body(Full::new(Bytes::from(body)));
                let Ok(req) = req else { return (lat, errors + 1) };
                let t = Instant::now();
                match client.request(req).await {
                    Ok(resp) => {
                        let ok = resp.status().as_u16() == 202;
                        let _ = resp.into_body().collect().await;
                        if ok {
                            lat.push(t.elapsed());
                        } else {
                            errors += 1;
                        }
                    }
                    Err(_) => errors += 1,
                }
            }
            (lat, errors)
        }));
    }
    let mut load = Load {
        latencies: Vec::new(),
        errors: 0,
    };
    for t in tasks {
        let (l, e) = t.await?;
        load.latencies.extend(l);
        load.errors += e;
    }
    load.latencies.sort_unstable();
    Ok(load)
}
