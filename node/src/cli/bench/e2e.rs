//! `smsgw bench e2e`: the gateway end to end on this machine. It starts the
//! carrier simulator and one fresh node as child processes of this binary
//! (every port picked by the kernel, data in a temporary directory), applies
//! a document with one carrier at a high TPS ceiling and receipts on, then
//! drives rounds of HTTP clients and prints, per round, the accept rate, the
//! rate at which messages reached the carrier, the node's CPU per accepted
//! message (from `/proc`, the simulator's CPU not counted), its RSS and the
//! data directory's size; at the end, the time until the carrier holds every
//! accepted message. It must never touch a running cluster: it only talks to
//! the processes it started, and stops them on every exit path.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Args;
use hyper::body::Bytes;
use hyper::Method;

use super::api::drive;

/// Arguments of `bench e2e`.
#[derive(Args)]
pub struct E2eBenchArgs {
    /// Rounds of load; the backlog of history grows from one to the next.
    #[arg(long, default_value_t = 4)]
    rounds: u32,
    /// Seconds per round.
    #[arg(long, default_value_t = 15)]
    secs: u64,
    /// Concurrent HTTP clients (keep-alive, one recipient per request).
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Carrier protocol: cmpp, sgip, smgp or smpp.
    #[arg(long, default_value = "smpp")]
    protocol: String,
    /// Carrier connections.
    #[arg(long, default_value_t = 1)]
    connections: u32,
    /// Window per carrier connection.
    #[arg(long, default_value_t = 128)]
    window: u32,
    /// Seconds to wait after the last round for the carrier to hold every
    /// accepted message.
    #[arg(long, default_value_t = 120)]
    drain_secs: u64,
    /// Take the carrier down (logins refused, links dropped) before the
    /// rounds, so every accepted message stays unfinished: the rounds then
    /// show the accept rate as the backlog grows. After them one alarm
    /// message is posted, the carrier comes back, and the time until the
    /// alarm reaches it is printed before the drain.
    #[arg(long)]
    carrier_down: bool,
    /// The node's `storage_cache_mb` (sled's page cache).
    #[arg(long, default_value_t = smsgw_config::DEFAULT_STORAGE_CACHE_MB)]
    storage_cache_mb: u64,
    /// Keep the node's data and its log (`node.log`) here instead of a
    /// temporary directory.
    #[arg(long)]
    dir: Option<PathBuf>,
}

/// The children, stopped (killed, then reaped) however the benchmark ends.
struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Reads `out` on a thread until a line passes `pick`; the rest of the
/// output is drained so the child never blocks on a full pipe.
fn wait_line(out: ChildStdout, what: &str, pick: fn(&str) -> bool) -> anyhow::Result<Vec<String>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut sent = false;
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if !sent {
                seen.push(line.clone());
                if pick(&line) {
                    let _ = tx.send(std::mem::take(&mut seen));
                    sent = true;
                }
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(60))
        .with_context(|| format!("{what} did not start within 60 s"))
}

/// `key=value` out of a ready line.
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
}

/// CPU seconds (user + system) of a process so far.
fn cpu_secs(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the command name, which may hold spaces: utime and stime
    // are the 14th and 15th fields of the whole line.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // /proc counts in USER_HZ, which Linux fixes at 100 for user space.
    (ticks(11) + ticks(12)) / 100.0
}

/// Resident set size of a process in MiB.
fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Submits the simulator has received so far.
async fn carrier_submits(control: &str) -> anyhow::Result<u64> {
    let v = call(Method::GET, &format!("{control}counts"), None, "").await?;
    v["submits"]
        .as_u64()
        .context("no submits in the simulator's counts")
}

/// The node's `/metrics` text at one moment, fetched once for every
/// reading taken from it.
struct Scrape(String);

impl Scrape {
    async fn of(http_base: &str) -> anyhow::Result<Scrape> {
        let text = raw(Method::GET, &format!("{http_base}/metrics"), None, "").await?;
        Ok(Scrape(String::from_utf8_lossy(&text).into_owned()))
    }

    /// The sum of every series of one metric (all its label sets; 0 when
    /// absent); `labels` must all appear in a series counted.
    fn sum(&self, name: &str, labels: &[&str]) -> f64 {
        self.0
            .lines()
            .filter_map(|l| {
                let rest = l.strip_prefix(name)?;
                let (series, value) = rest.rsplit_once(' ')?;
                let ok = (series.is_empty() || series.starts_with('{'))
                    && labels.iter().all(|w| series.contains(w));
                ok.then(|| value.trim().parse::<f64>().ok()).flatten()
            })
            // Not `sum`: f64's empty sum is -0.0, printed "-0".
            .fold(0.0, |a, b| a + b)
    }

    /// What the node itself says it sent, for telling a message sent twice
    /// from one counted twice: submits, and those a timeout, a lost link or
    /// a leadership change made it send again.
    fn sending(&self) -> [f64; 4] {
        [
            self.sum("smsgw_carrier_submits_total", &[]),
            self.sum("smsgw_carrier_responses_total", &["status=\"timeout\""]),
            self.sum("smsgw_carrier_resent_after_loss_total", &[]),
            self.sum("smsgw_failover_resent_parts_total", &[]),
        ]
    }
}

/// One JSON request to the simulator or the node; the answer's JSON.
async fn call(method: Method, url: &str, key: Option<&str>, body: &str) -> anyhow::Result<serde_json::Value> {
    let bytes = raw(method, url, key, body).await?;
    Ok(serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
}

/// One request; the answer's body, or an error naming the URL and status.
async fn raw(method: Method, url: &str, key: Option<&str>, body: &str) -> anyhow::Result<Bytes> {
    use http_body_util::{BodyExt, Full};
    // One keep-alive client for every call: the outage loop polls every 20 ms.
    static CLIENT: std::sync::OnceLock<crate::api::internal::NodeClient> = std::sync::OnceLock::new();
    let client = CLIENT.get_or_init(|| {
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http()
    });
    let mut req = hyper::Request::builder()
        .method(method)
        .uri(url)
        .header("content-type", "application/json");
    if let Some(k) = key {
        req = req.header("authorization", format!("Bearer {k}"));
    }
    let resp = client
        .request(req.body(Full::new(Bytes::from(body.to_string())))?)
        .await?;
    let status = resp.status();
    let bytes = resp.into_body().collect().await?.to_bytes();
    if !status.is_success() {
        bail!("{url}: {status}: {}", String::from_utf8_lossy(&bytes));
    }
    Ok(bytes)
}

/// The carrier comes back; an alarm message posted just before is timed
/// until the simulator holds it, from the carrier's return and from the
/// first login the simulator accepts after it (when a session can send).
async fn alarm_after_outage(http_base: &str, control: &str, queued: u64) -> anyhow::Result<()> {
    const ALARM_TO: &str = "13999990000";
    let logins = |v: &serde_json::Value| v["logins_ok"].as_u64().unwrap_or(0);
    let body = format!(r#"{{"to":["{ALARM_TO}"],"text":"bench alarm","priority":"alarm"}}"#);
    call(
        Method::POST,
        &format!("{http_base}/v1/messages"),
        Some(ALARM_KEY),
        &body,
    )
    .await?;
    let before = logins(&call(Method::GET, &format!("{control}counts"), None, "").await?);
    call(Method::PUT, &format!("{control}faults"), None, "{}").await?;
    let back = Instant::now();
    let mut logged_in = None;
    let url = format!("{control}submits?destination={ALARM_TO}&limit=1");
    while back.elapsed() < Duration::from_secs(120) {
        if logged_in.is_none()
            && logins(&call(Method::GET, &format!("{control}counts"), None, "").await?) > before
        {
            logged_in = Some(Instant::now());
        }
        let v = call(Method::GET, &url, None, "").await?;
        if v.as_array().is_some_and(|a| !a.is_empty()) {
            let ms = |t: Instant| t.elapsed().as_secs_f64() * 1000.0;
            println!(
                "carrier back: the alarm posted last, behind {queued} queued messages, reached the carrier {:.0} ms after the carrier came back, {} after the first login",
                ms(back),
                logged_in.map_or("before any login was seen".to_string(), |t| format!("{:.0} ms", ms(t)))
            );
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!("carrier back: the alarm posted last did not reach the carrier within 120 s");
    Ok(())
}

fn document(protocol: &str, address: &str, a: &E2eBenchArgs) -> anyhow::Result<String> {
    let (proto, login) = match protocol {
        "cmpp" => ("cmpp3", "900001"),
        "sgip" => ("sgip", "900001"),
        "smgp" => ("smgp", "90000001"),
        "smpp" => ("smpp", "smsgw"),
        other => bail!("--protocol {other:?}: expected cmpp, sgip, smgp or smpp"),
    };
    Ok(format!(
        "[[carriers]]\nname = \"bench\"\nprotocol = \"{proto}\"\naddress = \"{address}\"\nlogin = \"{login}\"\npassword = \"secret\"\nconnections = {}\nwindow = {}\ntps = 100000\nsp_number = \"1069000\"\n\n[[routes]]\nprefixes = [\"*\"]\ncarrier = \"bench\"\n\n[[accounts]]\nname = \"bench\"\napi_keys = [\"{KEY}\"]\n\n[[accounts]]\nname = \"desk\"\napi_keys = [\"{ALARM_KEY}\"]\n",
        a.connections, a.window
    ))
}

/// Keys apply wrote or removed (the state's write amplification).
const KEYS_METRIC: &str = "smsgw_raft_apply_keys_total";
const BATCHES_METRIC: &str = "smsgw_raft_apply_batches_total";
const KEY: &str = "sk_bench_e2e_0123456789abcdef";
/// The alarm after an outage is posted on its own account: the load may
/// have filled the bench account's backlog cap (429 `backlog_full`), and a
/// desk's alarm never shares a bulk sender's account.
const ALARM_KEY: &str = "sk_bench_e2e_desk_0123456789ab";

pub async fn run(a: E2eBenchArgs) -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("finding this binary")?;
    let temp = a.dir.is_none();
    let dir = a
        .dir
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join(format!("smsgw-bench-e2e-{}", std::process::id())));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let result = bench(&exe, &dir, &a).await;
    if temp {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

async fn bench(exe: &Path, dir: &Path, a: &E2eBenchArgs) -> anyhow::Result<()> {
    let mut children = Children(Vec::new());
    let mut sim = Command::new(exe)
        .args(["sim", "--ephemeral"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting the simulator")?;
    let out = sim.stdout.take().context("simulator stdout")?;
    children.0.push(sim);
    let lines = wait_line(out, "the simulator", |l| l.trim_start().starts_with("control"))?;
    let address = lines
        .iter()
        .find_map(|l| {
            let mut w = l.split_whitespace();
            (w.next() == Some(a.protocol.as_str()))
                .then(|| w.next())
                .flatten()
        })
        .with_context(|| format!("the simulator printed no {} listener", a.protocol))?
        .to_string();
    let control = lines
        .iter()
        .find_map(|l| l.split_whitespace().find(|w| w.starts_with("http://")))
        .context("the simulator printed no control address")?
        .to_string();

    let node_file = dir.join("node.toml");
    std::fs::write(
        &node_file,
        format!(
            "node_id = 1\ndata_dir = \"{}\"\nbootstrap = true\nraft_addr = \"127.0.0.1:0\"\nhttp_addr = \"127.0.0.1:0\"\napps_smpp_addr = \"127.0.0.1:0\"\napps_cmpp_addr = \"127.0.0.1:0\"\nstorage_cache_mb = {}\n",
            dir.join("data").display(),
            a.storage_cache_mb
        ),
    )?;
    // The node's log stays beside its data (kept with `--dir`): a slow round
    // is explained there (a snapshot pass, a reconnect).
    let log = std::fs::File::create(dir.join("node.log")).context("creating node.log")?;
    let mut node = Command::new(exe)
        .args(["node", "start", "--config"])
        .arg(&node_file)
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .context("starting the node")?;
    let out = node.stdout.take().context("node stdout")?;
    let pid = node.id();
    children.0.push(node);
    let lines = wait_line(out, "the node", |l| l.contains(" ready raft="))?;
    let ready = lines.last().context("no ready line")?;
    let raft = field(ready, "raft")
        .context("no raft= in the ready line")?
        .to_string();
    let http = format!(
        "http://{}",
        field(ready, "http").context("no http= in the ready line")?
    );

    let doc = dir.join("doc.toml");
    std::fs::write(&doc, document(&a.protocol, &address, a)?)?;
    let applied = Command::new(exe)
        .args(["config", "apply"])
        .arg(&doc)
        .args(["--addr", &raft, "--secret-file"])
        .arg(dir.join("data").join("cluster-secret"))
        .stdout(Stdio::null())
        .status()
        .context("applying the bench document")?;
    if !applied.success() {
        bail!("`smsgw config apply` of the bench document failed");
    }
    // The carrier session logs in after the document: wait for a first
    // message to reach the simulator before measuring.
    let url = format!("{http}/v1/messages");
    let warm_until = Instant::now() + Duration::from_secs(30);
    let mut warm = 0u64;
    loop {
        let load = drive(&url, KEY, 1, Duration::from_millis(200), 90_000_000 + warm).await?;
        warm += load.latencies.len() as u64;
        if carrier_submits(&control).await.unwrap_or(0) > 0 {
            break;
        }
        if Instant::now() > warm_until {
            bail!("no message reached the simulated carrier within 30 s");
        }
    }
    // Every warm-up message must be at the carrier before counting starts:
    // the ones still on their way would otherwise be counted as the
    // rounds' and read as sent twice.
    while carrier_submits(&control).await? < warm {
        if Instant::now() > warm_until {
            bail!("the warm-up's {warm} messages did not all reach the simulated carrier within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    if a.carrier_down {
        call(
            Method::PUT,
            &format!("{control}faults"),
            None,
            r#"{"refuse_logins":true}"#,
        )
        .await?;
        call(Method::POST, &format!("{control}faults/hard-drop"), None, "").await?;
    }
    println!(
        "bench e2e: 1 node, {} carrier ({} connection(s), window {}){}, receipts on, {} clients, {} rounds of {} s",
        a.protocol,
        a.connections,
        a.window,
        if a.carrier_down { " down during the rounds" } else { "" },
        a.clients,
        a.rounds,
        a.secs
    );
    println!("round  accepted  accepted/s  at_carrier/s  cpu_us/accepted  p50_ms  p99_ms  errors  rss_mib  data_mib");
    let start_cpu = cpu_secs(pid);
    let before = Scrape::of(&http).await?;
    let start_carrier = carrier_submits(&control).await?;
    let started = Instant::now();
    let mut total = 0u64;
    for round in 1..=a.rounds {
        let (cpu0, car0, t0) = (cpu_secs(pid), carrier_submits(&control).await?, Instant::now());
        let load = drive(
            &url,
            KEY,
            a.clients,
            Duration::from_secs(a.secs),
            u64::from(round) * 10_000_000,
        )
        .await?;
        let secs = t0.elapsed().as_secs_f64();
        let (cpu1, car1) = (cpu_secs(pid), carrier_submits(&control).await?);
        let n = load.latencies.len() as u64;
        total += n;
        println!(
            "{round:>5}  {n:>8}  {:>10.0}  {:>12.0}  {:>15.0}  {:>6.1}  {:>6.1}  {:>6}  {:>7.0}  {:>8.0}",
            n as f64 / secs,
            car1.saturating_sub(car0) as f64 / secs,
            (cpu1 - cpu0) * 1e6 / (n.max(1) as f64),
            load.percentile_ms(0.5),
            load.percentile_ms(0.99),
            load.errors(),
            rss_mib(pid),
            crate::storage::dir_size(&dir.join("data"), 0) as f64 / 1_048_576.0,
        );
        if load.errors() > 0 {
            println!("       round {round} refused: {}", load.refusals());
        }
    }
    if a.carrier_down {
        alarm_after_outage(&http, &control, total).await?;
        total += 1;
    }
    let drain_until = Instant::now() + Duration::from_secs(a.drain_secs);
    let mut at_carrier = carrier_submits(&control).await? - start_carrier;
    while at_carrier < total && Instant::now() < drain_until {
        tokio::time::sleep(Duration::from_millis(200)).await;
        at_carrier = carrier_submits(&control).await? - start_carrier;
    }
    let secs = started.elapsed().as_secs_f64();
    let cpu = cpu_secs(pid) - start_cpu;
    let after = Scrape::of(&http).await?;
    let keys = after.sum(KEYS_METRIC, &[]) - before.sum(KEYS_METRIC, &[]);
    let batches = after.sum(BATCHES_METRIC, &[]) - before.sum(BATCHES_METRIC, &[]);
    println!(
        "end to end: {total} accepted, {at_carrier} at the carrier after {secs:.1} s ({:.0} messages/s), node CPU {:.0} µs per message, {:.1} state keys written per message ({:.0} per sled batch), RSS {:.0} MiB{}",
        at_carrier as f64 / secs,
        cpu * 1e6 / (at_carrier.max(1) as f64),
        keys / (at_carrier.max(1) as f64),
        keys / batches.max(1.0),
        rss_mib(pid),
        if at_carrier < total { " (drain timed out)" } else { "" }
    );
    let d: Vec<f64> = after
        .sending()
        .iter()
        .zip(before.sending())
        .map(|(b, a)| b - a)
        .collect();
    println!(
        "node: {:.0} submits sent ({:+} against accepted), {:.0} timed out, {:.0} resent after a lost link, {:.0} resent by a new leader",
        d[0],
        d[0] as i64 - total as i64,
        d[1],
        d[2],
        d[3]
    );
    let lapses = after.sum("smsgw_dispatch_pauses_total", &["reason=\"lease\""]);
    let paused = after.sum("smsgw_dispatch_pause_seconds_sum", &["reason=\"lease\""]);
    println!("leader lease: {lapses:.0} lapses, dispatch paused {paused:.2} s in all");
    println!("data dir: {}", data_parts(&dir.join("data")));
    Ok(())
}

/// The data dir's top-level entries of 1 MiB or more with their sizes in
/// MiB, largest first (`store-v2.sled 12034, cdr 830`): what grows.
fn data_parts(data: &Path) -> String {
    let mut parts: Vec<(u64, String)> = std::fs::read_dir(data)
        .map(|d| {
            d.flatten()
                .map(|e| {
                    let size = if e.path().is_dir() {
                        crate::storage::dir_size(&e.path(), 1)
                    } else {
                        e.metadata().map_or(0, |m| m.len())
                    };
                    (size >> 20, e.file_name().to_string_lossy().into_owned())
                })
                .filter(|(mib, _)| *mib > 0)
                .collect()
        })
        .unwrap_or_default();
    parts.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    parts
        .iter()
        .map(|(mib, name)| format!("{name} {mib} MiB"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_dir_is_listed_largest_first_without_its_small_files() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("db/inner")).expect("mkdir");
        std::fs::write(dir.path().join("db/inner/segment"), vec![0u8; 3 << 20]).expect("write");
        std::fs::write(dir.path().join("cdr.log"), vec![0u8; 1 << 20]).expect("write");
        std::fs::write(dir.path().join("NODE"), b"node 1").expect("write");
        assert_eq!(data_parts(dir.path()), "db 3 MiB, cdr.log 1 MiB");
    }
}
