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
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let end = Instant::now() + Duration::from_secs(a.seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..a.clients {
        let (client, url, key) = (client.clone(), url.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0u64;
            let mut i = 0u64;
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
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await?;
        all.extend(l);
        errors += e;
    }
    let secs = started.elapsed().as_secs_f64();
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(0.0)
    };
    println!(
        "POST /v1/messages, 1 recipient, {} clients, {secs:.1} s: {} accepted ({:.0}/s), {errors} errors, latency ms p50 {:.1} p99 {:.1} max {:.1}",
        a.clients,
        all.len(),
        all.len() as f64 / secs,
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    Ok(())
}
