//! `smsgw cdr decode FILE`: reads a CDR day file back, record by record,
//! as JSON lines or CSV, and checks its trailer (count and CRC-32). A
//! malformed record stops it with the record's index and the offset of the
//! bad field; a file without a trailer is a day still being written.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, Subcommand, ValueEnum};

use crate::cdr::record::{decode, read_trailer, RECORD};

/// `smsgw cdr`.
#[derive(Subcommand)]
pub enum CdrCmd {
    /// Print a CDR file's records (and check its trailer).
    Decode(DecodeArgs),
}

/// Output of `cdr decode`.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line.
    Json,
    /// CSV with a header.
    Csv,
}

/// `smsgw cdr decode`.
#[derive(Args)]
pub struct DecodeArgs {
    /// A day file, e.g. smsgw-data/cdr/20261203/records.cdr.
    pub file: PathBuf,
    /// Output.
    #[arg(long, value_enum, default_value = "json")]
    pub format: Format,
}

pub fn run(c: CdrCmd) -> anyhow::Result<()> {
    let CdrCmd::Decode(a) = c;
    let bytes = std::fs::read(&a.file).with_context(|| format!("reading {}", a.file.display()))?;
    if bytes.len() % RECORD != 0 {
        bail!(
            "{}: {} bytes is not a whole number of {RECORD}-byte records",
            a.file.display(),
            bytes.len()
        );
    }
    let mut out = csv::Writer::from_writer(std::io::stdout());
    if a.format == Format::Csv {
        out.write_record([
            "type",
            "id",
            "account",
            "source",
            "destination",
            "carrier",
            "carrier_msg_id",
            "part",
            "parts",
            "state",
            "accepted_at",
            "submitted_at",
            "final_at",
            "priority",
            "text",
        ])?;
    }
    let mut hasher = crc32fast::Hasher::new();
    let mut count = 0u64;
    let mut trailer = None;
    for (i, rec) in bytes.chunks(RECORD).enumerate() {
        if let Some(t) = read_trailer(rec) {
            trailer = Some((i, t));
            break;
        }
        let c = decode(rec, i).with_context(|| a.file.display().to_string())?;
        hasher.update(rec);
        count += 1;
        match a.format {
            Format::Json => println!("{}", serde_json::to_string(&c)?),
            Format::Csv => out.write_record([
                c.kind.to_string(),
                c.id,
                c.account,
                c.source,
                c.destination,
                c.carrier,
                c.carrier_msg_id,
                c.part.to_string(),
                c.parts.to_string(),
                c.state,
                c.accepted_at,
                c.submitted_at,
                c.final_at,
                c.priority,
                c.text,
            ])?,
        }
    }
    out.flush()?;
    match trailer {
        None => eprintln!(
            "{}: {count} records, no trailer yet (the day is still being written)",
            a.file.display()
        ),
        Some((i, (n, crc))) => {
            if (i + 1) * RECORD != bytes.len() {
                bail!("{}: records after the trailer (record {i})", a.file.display());
            }
            if n != count || crc != hasher.finalize() {
                bail!(
                    "{}: the trailer says {n} records with CRC {crc:08x}; the file has {count} with another CRC",
                    a.file.display()
                );
            }
            eprintln!("{}: {count} records, trailer checked", a.file.display());
        }
    }
    Ok(())
}
