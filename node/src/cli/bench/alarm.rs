//! `smsgw bench alarm`: the alarm desk under a burst. It sets up one bench
//! officer (badge BENCH1) and a rule sending the line's cases to him,
//! injects `--rate` alarm MOs a second for `--secs` seconds at a carrier
//! simulator's control API (each from its own citizen number, 1990xxxxxxx),
//! follows `/v1/alarm/events` for each case's creation and the simulator's
//! ledger for each forward reaching the carrier, and prints p50/p99 of
//! both, measured from the MO's injection. It only talks to the URLs it is
//! given and stops by itself; the rule it sets replaces the line's rule, so
//! run it on a test cluster.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use bytes::Bytes;
use clap::Args;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};

use crate::cli::client::{call, ApiTarget};

/// Arguments of `bench alarm`.
#[derive(Args)]
pub struct AlarmBenchArgs {
    /// Alarm MOs injected per second.
    #[arg(long, default_value_t = 1000)]
    rate: u32,
    /// Seconds of burst.
    #[arg(long, default_value_t = 60)]
    secs: u64,
    /// The carrier simulator's control API (`smsgw sim` prints it).
    #[arg(long, default_value = "http://127.0.0.1:7899")]
    sim: String,
    /// Protocol of the simulated carrier the MOs come through.
    #[arg(long, default_value = "cmpp")]
    protocol: String,
    /// The line (as in `[[alarm.lines]]`).
    #[arg(long, default_value = "110")]
    line: String,
    /// The destination the citizens text: the carrier's SP number and the line.
    #[arg(long, default_value = "1069000110")]
    to: String,
    /// The bench officer's phone: every forward goes there.
    #[arg(long, default_value = "13900009999")]
    officer: String,
    /// Seconds to wait after the burst for the last forwards.
    #[arg(long, default_value_t = 60)]
    wait: u64,
    #[command(flatten)]
    target: ApiTarget,
}

type HttpClient = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

/// What was seen, by citizen: injected, case created, forward on the ledger.
#[derive(Default)]
struct Seen {
    injected: HashMap<String, Instant>,
    created: HashMap<String, Instant>,
    case_of: HashMap<String, String>,
    /// By case id: a forward may reach the ledger before its case's event
    /// reaches the bench.
    forwarded: HashMap<String, Instant>,
}

impl Seen {
    /// Forward times by citizen.
    fn forwarded_by_citizen(&self) -> HashMap<String, Instant> {
        self.forwarded
            .iter()
            .filter_map(|(id, t)| self.case_of.get(id).map(|c| (c.clone(), *t)))
            .collect()
    }
}

fn percentile(mut v: Vec<Duration>, p: f64) -> Duration {
    v.sort();
    if v.is_empty() {
        return Duration::ZERO;
    }
    v[((v.len() - 1) as f64 * p).round() as usize]
}

async fn setup(a: &AlarmBenchArgs) -> anyhow::Result<()> {
    let t = &a.target;
    let steps = [
        (
            "/v1/alarm/officers",
            json!({"badge": "BENCH1", "name": "压测", "phone": a.officer}),
        ),
        (
            "/v1/alarm/rules",
            json!({"line": a.line, "target": "officer", "officer": "BENCH1"}),
        ),
    ];
    for (path, body) in steps {
        let (status, v) = call(t, "POST", path, Some(body)).await?;
        if status >= 300 {
            bail!("POST {path}: {status} {v}");
        }
    }
    let (status, v) = call(
        t,
        "POST",
        "/v1/alarm/officers/BENCH1/duty",
        Some(json!({"duty": "on"})),
    )
    .await?;
    if status >= 300 {
        bail!("putting the bench officer on duty: {status} {v}");
    }
    Ok(())
}

/// Follows `/v1/alarm/events`, noting when each citizen's case appears.
async fn follow_events(
    client: HttpClient,
    url: String,
    key: String,
    seen: Arc<Mutex<Seen>>,
) -> anyhow::Result<()> {
    let req = Request::get(&url)
        .header("authorization", format!("Bearer {key}"))
        .header("accept", "text/event-stream")
        .body(Full::new(Bytes::new()))?;
    let resp = client.request(req).await.context("GET /v1/alarm/events")?;
    if !resp.status().is_success() {
        bail!("GET /v1/alarm/events: {}", resp.status());
    }
    let mut body = resp.into_body();
    let mut buf = String::new();
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame?.into_data() else { continue };
        buf.push_str(&String::from_utf8_lossy(&data));
        while let Some(end) = buf.find("\n\n") {
            let event: String = buf.drain(..end + 2).collect();
            for line in event.lines() {
                let Some(json) = line.strip_prefix("data:") else {
                    continue;
                };
                let Ok(c) = serde_json::from_str::<Value>(json.trim()) else {
                    continue;
                };
                let (Some(citizen), Some(id)) = (c["citizen"].as_str(), c["id"].as_str()) else {
                    continue;
                };
                let mut s = seen.lock().unwrap_or_else(|p| p.into_inner());
                s.created.entry(citizen.to_string()).or_insert_with(Instant::now);
                s.case_of.insert(id.to_string(), citizen.to_string());
            }
        }
    }
    Ok(())
}

/// Polls the simulator's ledger for forwards to the bench officer.
async fn follow_ledger(
    client: HttpClient,
    sim: String,
    officer: String,
    seen: Arc<Mutex<Seen>>,
) -> anyhow::Result<()> {
    let mut after = 0u64;
    loop {
        let url = format!("{sim}/submits?destination={officer}&after={after}&limit=5000");
        let resp = client
            .request(Request::get(&url).body(Full::new(Bytes::new()))?)
            .await?;
        let body = resp.into_body().collect().await?.to_bytes();
        let rows: Vec<Value> = serde_json::from_slice(&body).unwrap_or_default();
        let now = Instant::now();
        {
            let mut s = seen.lock().unwrap_or_else(|p| p.into_inner());
            for r in &rows {
                after = after.max(r["n"].as_u64().unwrap_or(0));
                let text = r["text"].as_str().unwrap_or("");
                // 【110警情】A20261203-0001 ...
                let id = text
                    .split('】')
                    .nth(1)
                    .and_then(|t| t.split_whitespace().next())
                    .unwrap_or("");
                if id.starts_with('A') {
                    s.forwarded.entry(id.to_string()).or_insert(now);
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn run(a: AlarmBenchArgs) -> anyhow::Result<()> {
    if a.rate == 0 || a.secs == 0 {
        bail!("--rate and --secs must be at least 1");
    }
    if !a.target.api.starts_with("http://") || !a.sim.starts_with("http://") {
        bail!("bench alarm speaks plain http:// to the node and the simulator");
    }
    setup(&a).await?;
    let key = match &a.target.key {
        Some(k) => k.clone(),
        None => std::fs::read_to_string("smsgw-data/demo-api-key")
            .context("no --key given and cannot read smsgw-data/demo-api-key")?
            .trim()
            .to_string(),
    };
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let events_url = format!("{}/v1/alarm/events", a.target.api.trim_end_matches('/'));
    let sim = a.sim.trim_end_matches('/').to_string();
    let ev = tokio::spawn(follow_events(client.clone(), events_url, key, seen.clone()));
    let led = tokio::spawn(follow_ledger(
        client.clone(),
        sim.clone(),
        a.officer.clone(),
        seen.clone(),
    ));
    tokio::time::sleep(Duration::from_millis(300)).await;

    let total = u64::from(a.rate) * a.secs;
    println!("injecting {total} alarm MOs at {}/s to {} ...", a.rate, a.to);
    let started = Instant::now();
    let gate = Arc::new(tokio::sync::Semaphore::new(128));
    let failures = Arc::new(std::sync::atomic::AtomicU64::new(0));
    for i in 0..total {
        let due = started + Duration::from_secs_f64(i as f64 / f64::from(a.rate));
        tokio::time::sleep_until(due.into()).await;
        let citizen = format!("1990{i:07}");
        let body =
            json!({"protocol": a.protocol, "from": citizen, "to": a.to, "text": format!("压测警情{i}")});
        let permit = gate.clone().acquire_owned().await?;
        let (client, url, log, failures) = (
            client.clone(),
            format!("{sim}/mo"),
            seen.clone(),
            failures.clone(),
        );
        tokio::spawn(async move {
            log.lock()
                .unwrap_or_else(|p| p.into_inner())
                .injected
                .insert(citizen, Instant::now());
            let req = Request::post(&url)
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(body.to_string())));
            let ok = match req {
                Ok(r) => client.request(r).await.is_ok_and(|r| r.status().is_success()),
                Err(_) => false,
            };
            if !ok {
                failures.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            drop(permit);
        });
        if i > 0 && i % (u64::from(a.rate) * 5) == 0 {
            let s = seen.lock().unwrap_or_else(|p| p.into_inner());
            println!(
                "  {:>5.1} s: injected {i}, cases {}, forwarded {}",
                started.elapsed().as_secs_f64(),
                s.created.len(),
                s.forwarded.len()
            );
        }
    }
    let injected_in = started.elapsed();
    let deadline = Instant::now() + Duration::from_secs(a.wait);
    loop {
        let (c, f) = {
            let s = seen.lock().unwrap_or_else(|p| p.into_inner());
            (s.created.len() as u64, s.forwarded.len() as u64)
        };
        if f >= total || Instant::now() > deadline || ev.is_finished() {
            break;
        }
        println!("  waiting: cases {c}, forwarded {f} of {total}");
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    ev.abort();
    led.abort();
    let s = seen.lock().unwrap_or_else(|p| p.into_inner());
    let lat = |m: &HashMap<String, Instant>| -> Vec<Duration> {
        m.iter()
            .filter_map(|(c, t)| s.injected.get(c).map(|i| t.saturating_duration_since(*i)))
            .collect()
    };
    let by_citizen = s.forwarded_by_citizen();
    if by_citizen.len() < s.forwarded.len() {
        let sample: Vec<&String> = s
            .forwarded
            .keys()
            .filter(|id| !s.case_of.contains_key(*id))
            .take(3)
            .collect();
        eprintln!(
            "forwards with no case seen on the event stream: {} (e.g. {sample:?}; events named {} cases)",
            s.forwarded.len() - by_citizen.len(),
            s.case_of.len()
        );
    }
    let (created, forwarded) = (lat(&s.created), lat(&by_citizen));
    println!(
        "injected {total} in {:.1} s ({} refused by the simulator); cases {}; forwards on the carrier {}",
        injected_in.as_secs_f64(),
        failures.load(std::sync::atomic::Ordering::Relaxed),
        created.len(),
        forwarded.len()
    );
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "MO → case:               p50 {:.0} ms  p99 {:.0} ms",
        ms(percentile(created.clone(), 0.5)),
        ms(percentile(created, 0.99))
    );
    let p99 = percentile(forwarded.clone(), 0.99);
    println!(
        "MO → forward at carrier: p50 {:.0} ms  p99 {:.0} ms (goal: p99 under 1000 ms)",
        ms(percentile(forwarded, 0.5)),
        ms(p99)
    );
    let missing = total.saturating_sub(by_citizen.len() as u64);
    if missing > 0 {
        bail!("{missing} of {total} alarms were not forwarded within --wait");
    }
    Ok(())
}
