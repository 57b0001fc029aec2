//! `smsgw bench service`: the emergency service's goals measured against a
//! running node: import an address book of N contacts (tagged so that the
//! first G form a group), search it (p50/p99 of M searches by pinyin
//! initials, name, number tail), then send to the G-member group and time
//! the 202 and the acceptance of every member's message. It only talks to
//! the URL it is given, prints a line per stage, and stops by itself.
//! Numbers are 1990xxxxxxx and the tag `bench-group`: run it on a test
//! cluster, not on a production book.

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Args;
use serde_json::{json, Value};

use crate::cli::client::{call, call_raw, ApiTarget};

/// Arguments of `bench service`.
#[derive(Args)]
pub struct ServiceBenchArgs {
    /// Contacts to import.
    #[arg(long, default_value_t = 100_000)]
    contacts: usize,
    /// Members of the group sent to (the first G contacts).
    #[arg(long, default_value_t = 10_000)]
    group: usize,
    /// Searches to time.
    #[arg(long, default_value_t = 1_000)]
    searches: usize,
    /// Seconds to wait for every member's message to be accepted.
    #[arg(long, default_value_t = 120)]
    wait: u64,
    #[command(flatten)]
    target: ApiTarget,
}

const SURNAMES: [&str; 20] = [
    "张", "王", "李", "赵", "刘", "陈", "杨", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林", "何",
    "郭", "马", "罗",
];
const GIVEN: [&str; 20] = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超",
    "秀", "霞", "平",
];

fn name(i: usize) -> String {
    format!(
        "{}{}{}",
        SURNAMES[i % 20],
        GIVEN[i / 20 % 20],
        GIVEN[i / 400 % 20]
    )
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

pub async fn run(a: ServiceBenchArgs) -> anyhow::Result<()> {
    if a.group > a.contacts {
        bail!(
            "--group ({}) cannot be larger than --contacts ({})",
            a.group,
            a.contacts
        );
    }
    let t = &a.target;
    // Import in files of 20,000 lines, as a clerk would.
    let started = Instant::now();
    for from in (0..a.contacts).step_by(20_000) {
        let mut csv = String::from("name,phone,unit,tags\n");
        for i in from..(from + 20_000).min(a.contacts) {
            let tag = if i < a.group { "bench-group" } else { "" };
            csv.push_str(&format!("{},1990{i:07},单位{},{tag}\n", name(i), i % 50));
        }
        let (status, body) = call_raw(t, "POST", "/v1/contacts/import", csv.into_bytes(), "text/csv").await?;
        if status >= 400 {
            bail!("import: HTTP {status}: {}", String::from_utf8_lossy(&body));
        }
        println!(
            "imported {} of {} contacts",
            (from + 20_000).min(a.contacts),
            a.contacts
        );
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "import: {} contacts in {secs:.1} s ({:.0}/s)",
        a.contacts,
        a.contacts as f64 / secs
    );

    let mut lat = Vec::with_capacity(a.searches);
    for k in 0..a.searches {
        let i = (k * 7919) % a.contacts;
        let q = match k % 3 {
            0 => crate::service::tokens::pinyin(&name(i)).0,
            1 => name(i),
            _ => format!("{i:07}").chars().skip(3).collect(),
        };
        let q = crate::cli::service::encode(&q);
        let t0 = Instant::now();
        let (status, v) = call(t, "GET", &format!("/v1/contacts?q={q}&limit=20"), None).await?;
        lat.push(t0.elapsed());
        if status != 200 || v["items"].as_array().is_none_or(|i| i.is_empty()) {
            bail!("search {k} found nothing: HTTP {status} {v}");
        }
    }
    lat.sort();
    println!(
        "search in {} contacts: {} queries, p50 {:.2} ms, p99 {:.2} ms (goal p99 < 20 ms)",
        a.contacts,
        a.searches,
        percentile(&lat, 0.5).as_secs_f64() * 1e3,
        percentile(&lat, 0.99).as_secs_f64() * 1e3
    );

    let group = format!("bench-{}", std::process::id());
    let (status, v) = call(
        t,
        "POST",
        "/v1/groups",
        Some(json!({"name": group, "tags": ["bench-group"]})),
    )
    .await?;
    if status >= 400 {
        bail!("group: HTTP {status} {v}");
    }
    let t0 = Instant::now();
    let (status, v) = call(
        t,
        "POST",
        "/v1/messages",
        Some(json!({"to_groups": [group], "text": "{name}：演练通知", "priority": "bulk"})),
    )
    .await?;
    let accepted_in = t0.elapsed();
    if status != 202 {
        bail!("group send: HTTP {status} {v}");
    }
    println!(
        "group send to {} members: 202 in {:.0} ms (goal < 1 s)",
        v["recipients"],
        accepted_in.as_secs_f64() * 1e3
    );
    let job = v["job"].as_u64().context("job id")?;
    let deadline = Instant::now() + Duration::from_secs(a.wait);
    let mut last: Value = Value::Null;
    while Instant::now() < deadline {
        let (_, j) = call(t, "GET", &format!("/v1/jobs/{job}"), None).await?;
        let done: u64 = j["by_status"]
            .as_object()
            .map_or(0, |m| m.values().filter_map(Value::as_u64).sum());
        println!(
            "{:>6.1} s: {} accepted, {done} finished",
            t0.elapsed().as_secs_f64(),
            j["accepted"]
        );
        if j["recipients"] == json!(done) {
            last = j;
            break;
        }
        last = j;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let finished: u64 = last["by_status"]
        .as_object()
        .map_or(0, |m| m.values().filter_map(Value::as_u64).sum());
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "group send: {finished} of {} finished in {secs:.1} s ({:.0}/s; the carriers' TPS paces this)",
        last["recipients"],
        finished as f64 / secs
    );
    Ok(())
}
