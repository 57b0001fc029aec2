//! `smsgw bench api`: `POST /v1/messages` throughput of a running node (one
//! recipient per request, N concurrent keep-alive clients) with latency
//! percentiles. It only sends to the URL it is given and stops by itself.

use std::collections::BTreeMap;
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
        load.errors(),
        load.percentile_ms(0.5),
        load.percentile_ms(0.99),
        load.percentile_ms(1.0)
    );
    if load.errors() > 0 {
        println!("errors: {}", load.refusals());
    }
    Ok(())
}

/// What one load run saw: the latency of each accepted request, and the
/// requests that were refused or failed, by kind.
pub struct Load {
    pub latencies: Vec<Duration>,
    /// Refusals by status and error code (`503 outcome_unknown`), and
    /// requests that got no answer (`no answer`).
    pub by_kind: BTreeMap<String, u64>,
}

impl Load {
    /// Requests refused or unanswered, of every kind.
    pub fn errors(&self) -> u64 {
        self.by_kind.values().sum()
    }

    /// The refusals as `N × KIND` joined by commas, most frequent first.
    pub fn refusals(&self) -> String {
        let mut kinds: Vec<_> = self.by_kind.iter().collect();
        kinds.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        kinds
            .iter()
            .map(|(k, n)| format!("{n} × {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

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
            let mut errors = BTreeMap::<String, u64>::new();
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
                let Ok(req) = req else {
                    *errors.entry("request not built".into()).or_default() += 1;
                    return (lat, errors);
                };
                let t = Instant::now();
                match client.request(req).await {
                    Ok(resp) => {
                        let status = resp.status().as_u16();
                        let body = resp.into_body().collect().await.map(|b| b.to_bytes());
                        if status == 202 {
                            lat.push(t.elapsed());
                        } else {
                            *errors.entry(refusal(status, body.ok().as_deref())).or_default() += 1;
                        }
                    }
                    Err(_) => *errors.entry("no answer".into()).or_default() += 1,
                }
            }
            (lat, errors)
        }));
    }
    let mut load = Load {
        latencies: Vec::new(),
        by_kind: BTreeMap::new(),
    };
    for t in tasks {
        let (l, e) = t.await?;
        load.latencies.extend(l);
        for (kind, n) in e {
            *load.by_kind.entry(kind).or_default() += n;
        }
    }
    load.latencies.sort_unstable();
    Ok(load)
}

/// A refusal's kind: its status and the API's error code, when the body
/// is the `{"error": {"code"}}` envelope.
fn refusal(status: u16, body: Option<&[u8]>) -> String {
    let code = body
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
        .and_then(|v| v["error"]["code"].as_str().map(str::to_string));
    match code {
        Some(c) => format!("{status} {c}"),
        None => status.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_is_named_by_its_status_and_error_code() {
        let body = br#"{"error":{"code":"outcome_unknown","message":"retry with the same client_ref"}}"#;
        assert_eq!(refusal(503, Some(body)), "503 outcome_unknown");
        assert_eq!(refusal(502, Some(b"<html>bad gateway</html>")), "502");
        assert_eq!(refusal(500, None), "500");
    }

    #[test]
    fn refusals_list_the_most_frequent_kind_first() {
        let load = Load {
            latencies: Vec::new(),
            by_kind: BTreeMap::from([
                ("429 backlog_full".to_string(), 1),
                ("503 outcome_unknown".to_string(), 5),
            ]),
        };
        assert_eq!(load.refusals(), "5 × 503 outcome_unknown, 1 × 429 backlog_full");
        assert_eq!(load.errors(), 6);
    }
}
