//! CDR files: every final MT part and every MO, written once as a 512-byte
//! record (see [`record`]) into `DATA_DIR/cdr/YYYYMMDD/records.cdr` (the
//! Beijing day of writing), the previous day's file closed with a trailer
//! (count and CRC-32), day directories older than `cdr_retention_days`
//! removed. Every node writes the full set from its own applied state, by
//! tailing the closed-message log (`f/`) and the MO table from a local
//! cursor; the cursor file also records the day file's length and running
//! CRC after each fsynced batch, so a crash mid-batch is cut back on start
//! and nothing is written twice, on a leader change or a restart alike.
//! It must never write to the replicated state.

pub mod record;

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use record::{stamp, trailer, Cdr};
use smsgw_state::StateView;

use crate::api::state::{now_ms, AppState};
use crate::api::submit::Envelope;

/// Records per batch.
const BATCH: usize = 1_000;
/// How often the writer looks for new records when idle.
const TICK: Duration = Duration::from_millis(500);

/// Where the writer is, persisted after every batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Cursor {
    finals: u64,
    mos: u64,
    day: String,
    len: u64,
    count: u64,
    crc: u32,
}

impl Cursor {
    fn load(path: &Path) -> Cursor {
        let Ok(text) = std::fs::read_to_string(path) else {
            return Cursor::default();
        };
        let f: Vec<&str> = text.split_whitespace().collect();
        match f.as_slice() {
            [finals, mos, day, len, count, crc] => Cursor {
                finals: finals.parse().unwrap_or(0),
                mos: mos.parse().unwrap_or(0),
                day: (*day).to_string(),
                len: len.parse().unwrap_or(0),
                count: count.parse().unwrap_or(0),
                crc: u32::from_str_radix(crc, 16).unwrap_or(0),
            },
            _ => Cursor::default(),
        }
    }

    fn save(&self, path: &Path) -> std::io::Result<()> {
        let tmp = path.with_extension("tmp");
        let text = format!(
            "{} {} {} {} {} {:08x}\n",
            self.finals,
            self.mos,
            if self.day.is_empty() { "-" } else { &self.day },
            self.len,
            self.count,
            self.crc
        );
        let mut f = File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    }
}

/// The file of `day` under `dir`.
pub fn day_file(dir: &Path, day: &str) -> PathBuf {
    dir.join(day).join("records.cdr")
}

/// Runs the writer for `dir` until the task is dropped.
pub fn spawn(state: AppState, dir: PathBuf) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if let Err(e) = std::fs::create_dir_all(&dir) {
            tracing::error!(dir = %dir.display(), error = %e, "CDR writer: cannot create its directory; no CDRs");
            return;
        }
        let mut cursor = Cursor::load(&dir.join("cursor"));
        if let Err(e) = cut_back(&dir, &cursor) {
            tracing::error!(error = %e, "CDR writer: cannot cut back a partial batch; no CDRs");
            return;
        }
        let mut last_purge = 0u64;
        loop {
            match step(&state, &dir, &mut cursor) {
                Ok(n) if n > 0 => {
                    metrics::counter!("smsgw_cdr_records_total").increment(n as u64);
                    continue;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "CDR writer: a batch failed; retrying"),
            }
            let now = now_ms();
            if now.saturating_sub(last_purge) > 3_600_000 {
                last_purge = now;
                purge(&state, &dir, now);
            }
            tokio::time::sleep(TICK).await;
        }
    })
}

/// A crash after records were written and before the cursor was saved
/// left bytes the cursor does not count: they are cut, and written again.
fn cut_back(dir: &Path, c: &Cursor) -> std::io::Result<()> {
    if c.day.is_empty() {
        return Ok(());
    }
    let path = day_file(dir, &c.day);
    if let Ok(meta) = std::fs::metadata(&path) {
        if meta.len() > c.len {
            tracing::warn!(file = %path.display(), cut = meta.len() - c.len, "CDR writer: cutting a partial batch");
            OpenOptions::new().write(true).open(&path)?.set_len(c.len)?;
        }
    }
    Ok(())
}

fn today() -> String {
    stamp(Some(now_ms())).get(..8).unwrap_or("19700101").to_string()
}

/// Writes one batch; how many records.
fn step(state: &AppState, dir: &Path, c: &mut Cursor) -> Result<usize, String> {
    let loaded = state.config().map_err(|e| e.message())?;
    let view = smsgw_state::local_view(&state.cluster);
    let err = |e: smsgw_raft::ApplyError| e.to_string();
    let mut records = Vec::new();
    let finals = view.finals(c.finals, BATCH).map_err(err)?;
    let mut next = c.clone();
    for (seq, mid) in &finals {
        records.extend(message_records(&view, mid).map_err(err)?);
        next.finals = *seq;
    }
    let last_mo = view.counter(smsgw_state::keys::counter::MOS).map_err(err)?;
    for seq in c.mos + 1..=last_mo.min(c.mos + BATCH as u64) {
        if let Some(mo) = view.mo(seq).map_err(err)? {
            let m = &mo.message;
            records.push(Cdr {
                kind: 'O',
                id: format!("MO-{seq}"),
                account: loaded
                    .doc
                    .account_for_mo(&m.to)
                    .map(|a| a.name.clone())
                    .unwrap_or_default(),
                source: m.from.clone(),
                destination: m.to.clone(),
                carrier: m.carrier.clone(),
                state: "MO".into(),
                accepted_at: stamp(Some(m.received_at_ms)),
                text: String::from_utf8_lossy(&m.payload).into_owned(),
                ..Cdr::default()
            });
        }
        next.mos = seq;
    }
    if next.finals == c.finals && next.mos == c.mos {
        return Ok(0);
    }
    let day = today();
    if next.day != day {
        if !next.day.is_empty() {
            close_day(dir, &next).map_err(|e| format!("closing {}: {e}", next.day))?;
        }
        next.day = day;
        next.len = 0;
        next.count = 0;
        next.crc = 0;
    }
    let path = day_file(dir, &next.day);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    }
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut hasher = crc32fast::Hasher::new_with_initial(next.crc);
    let mut bytes = Vec::with_capacity(records.len() * record::RECORD);
    for r in &records {
        bytes.extend_from_slice(&r.encode());
    }
    hasher.update(&bytes);
    f.write_all(&bytes)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    f.sync_data().map_err(|e| format!("{}: {e}", path.display()))?;
    next.crc = hasher.finalize();
    next.count += records.len() as u64;
    next.len += bytes.len() as u64;
    next.save(&dir.join("cursor")).map_err(|e| e.to_string())?;
    *c = next;
    Ok(records.len())
}

/// Appends the trailer to a finished day's file.
fn close_day(dir: &Path, c: &Cursor) -> std::io::Result<()> {
    let path = day_file(dir, &c.day);
    let mut f = OpenOptions::new().create(true).append(true).open(&path)?;
    f.write_all(&trailer(c.count, c.crc))?;
    f.sync_data()
}

/// The records of message `mid`: one per part.
fn message_records(view: &StateView, mid: &str) -> Result<Vec<Cdr>, smsgw_raft::ApplyError> {
    let Some((head, rows)) = view.message(mid)? else {
        return Ok(Vec::new());
    };
    let env: Option<Envelope> = serde_json::from_slice(&head.part.payload).ok();
    let mut out = Vec::new();
    for k in 1..=head.part.parts {
        let part = rows.get(k)?;
        let state = part
            .as_ref()
            .and_then(|p| p.report_state.clone())
            .or_else(|| head.report_state.clone())
            .unwrap_or_default();
        out.push(Cdr {
            kind: 'M',
            id: format!("{mid}.{k}"),
            account: head.part.account.clone(),
            source: env.as_ref().and_then(|e| e.sender.clone()).unwrap_or_default(),
            destination: head.part.to.clone(),
            carrier: env.as_ref().map(|e| e.route.clone()).unwrap_or_default(),
            carrier_msg_id: part
                .as_ref()
                .and_then(|p| p.carrier_msg_id.clone())
                .unwrap_or_default(),
            part: k,
            parts: head.part.parts,
            state,
            accepted_at: stamp(Some(head.part.accepted_at_ms)),
            submitted_at: stamp(part.as_ref().and_then(|p| p.submitted_at_ms)),
            final_at: stamp(
                part.as_ref()
                    .and_then(|p| p.reported_at_ms)
                    .or(head.reported_at_ms),
            ),
            priority: env
                .as_ref()
                .map(|e| e.priority.name().to_string())
                .unwrap_or_default(),
            text: env.as_ref().map(|e| e.text.clone()).unwrap_or_default(),
        });
    }
    Ok(out)
}

/// Removes day directories older than the retention.
fn purge(state: &AppState, dir: &Path, now: u64) {
    let Ok(loaded) = state.config() else { return };
    let keep_ms = loaded.doc.billing.cdr_retention_days * 86_400_000;
    let oldest = stamp(Some(now.saturating_sub(keep_ms)));
    let Some(oldest) = oldest.get(..8) else { return };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.len() == 8 && name.bytes().all(|b| b.is_ascii_digit()) && name.as_str() < oldest {
            if let Err(err) = std::fs::remove_dir_all(e.path()) {
                tracing::warn!(dir = %e.path().display(), error = %err, "CDR writer: cannot remove an expired day");
            } else {
                tracing::info!(day = %name, "CDR writer: day past retention removed");
            }
        }
    }
}
