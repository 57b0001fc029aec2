//! `smsgw bench cdr`: how fast CDR records are encoded (512 bytes, GBK
//! text) and appended to a day file with one fsync per batch of 1,000, the
//! way the node's writer does; records/s as the median of several runs. It
//! writes only into a fresh temporary directory and removes it.

use std::io::Write;
use std::time::Instant;

use anyhow::Context;
use clap::Args;

use crate::cdr::record::{Cdr, RECORD};

/// Arguments of `bench cdr`.
#[derive(Args)]
pub struct CdrBenchArgs {
    /// Records per run.
    #[arg(long, default_value_t = 200_000)]
    records: usize,
    /// Runs (the median is reported).
    #[arg(long, default_value_t = 5)]
    runs: usize,
}

pub fn run(a: CdrBenchArgs) -> anyhow::Result<()> {
    let dir = tempfile_dir()?;
    let mut rates = Vec::new();
    for run in 0..a.runs.max(1) {
        let path = dir.join(format!("run-{run}.cdr"));
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| path.display().to_string())?;
        let started = Instant::now();
        let mut hasher = crc32fast::Hasher::new();
        let mut batch = Vec::with_capacity(1_000 * RECORD);
        for i in 0..a.records {
            let c = Cdr {
                kind: 'M',
                id: format!("{}.1", 7_000_000_000_000u64 + i as u64),
                account: "bench".into(),
                source: "10690001".into(),
                destination: format!("138{:08}", i % 100_000_000),
                carrier: "china-mobile".into(),
                carrier_msg_id: format!("{i:020}"),
                part: 1,
                parts: 1,
                state: "DELIVRD".into(),
                accepted_at: "20261203093000".into(),
                submitted_at: "20261203093001".into(),
                final_at: "20261203093005".into(),
                priority: "normal".into(),
                text: "【应急办】请各单位于今日下午三点前报送值班表。".into(),
            };
            batch.extend_from_slice(&c.encode());
            if batch.len() >= 1_000 * RECORD || i + 1 == a.records {
                hasher.update(&batch);
                f.write_all(&batch)?;
                f.sync_data()?;
                batch.clear();
            }
        }
        let secs = started.elapsed().as_secs_f64();
        let rate = a.records as f64 / secs;
        println!(
            "run {}: {} records in {secs:.2} s: {rate:.0} records/s (crc {:08x})",
            run + 1,
            a.records,
            hasher.finalize()
        );
        rates.push(rate);
        std::fs::remove_file(&path).ok();
    }
    rates.sort_by(|a, b| a.total_cmp(b));
    println!(
        "median: {:.0} records/s (goal: 10,000/s); 1,000,000 a day is {:.0} MB",
        rates[rates.len() / 2],
        1_000_000.0 * RECORD as f64 / 1e6
    );
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("smsgw-bench-cdr-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| dir.display().to_string())?;
    Ok(dir)
}
