//! The service's CLI: `smsgw contacts|groups|templates|jobs|records|stats`.
//! Thin clients of a node's HTTP API (as `send` and `status` are): they
//! format requests, print answers as tables, JSON or CSV, and exit non-zero
//! with the API's error. Every rule lives in the node.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{json, Value};

use crate::cli::client::{call, call_raw, print_or_fail, ApiTarget};

/// `smsgw contacts`.
#[derive(Subcommand)]
pub enum ContactsCmd {
    /// Import a CSV (UTF-8 or GBK; columns 姓名/name, 手机/phone, 单位/unit,
    /// 职务/title, 标签/tags, 备注/notes). Bad lines are listed and skipped.
    Import {
        /// The CSV file.
        file: PathBuf,
        #[command(flatten)]
        target: ApiTarget,
    },
    /// Find contacts by name, pinyin initials (zw finds 张伟), number, unit or tag.
    Find {
        /// What to look for.
        query: String,
        #[command(flatten)]
        target: ApiTarget,
    },
    /// Write every contact as CSV (UTF-8) to a file or stdout.
    Export {
        /// Output file (default: stdout).
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        target: ApiTarget,
    },
}

/// `smsgw groups`.
#[derive(Subcommand)]
pub enum GroupsCmd {
    /// Create a group of contacts (ids), nested groups, tags and units.
    Add {
        /// Its name.
        name: String,
        /// A contact id; repeat.
        #[arg(long)]
        contact: Vec<u64>,
        /// A group included whole; repeat.
        #[arg(long)]
        group: Vec<String>,
        /// Every contact with this tag; repeat.
        #[arg(long)]
        tag: Vec<String>,
        /// Every contact of this unit; repeat.
        #[arg(long)]
        unit: Vec<String>,
        #[command(flatten)]
        target: ApiTarget,
    },
    /// Show a group.
    Show {
        /// Name or id.
        name: String,
        #[command(flatten)]
        target: ApiTarget,
    },
    /// List a group's members, resolved.
    Members {
        /// Name or id.
        name: String,
        #[command(flatten)]
        target: ApiTarget,
    },
    /// List groups.
    List {
        #[command(flatten)]
        target: ApiTarget,
    },
}

/// `smsgw templates`.
#[derive(Subcommand)]
pub enum TemplatesCmd {
    /// Create or replace a template; variables are written {name}.
    Add {
        /// Its name.
        name: String,
        /// Its text.
        text: String,
        /// A category.
        #[arg(long, default_value = "")]
        category: String,
        #[command(flatten)]
        target: ApiTarget,
    },
    /// List templates with their variables and usage counts.
    List {
        #[command(flatten)]
        target: ApiTarget,
    },
}

/// `smsgw jobs`.
#[derive(Subcommand)]
pub enum JobsCmd {
    /// A job's progress by status.
    Show {
        /// Job id.
        id: u64,
        #[command(flatten)]
        target: ApiTarget,
    },
    /// Cancel what a job has not sent yet.
    Cancel {
        /// Job id.
        id: u64,
        #[command(flatten)]
        target: ApiTarget,
    },
}

/// How to print rows.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    /// Aligned columns.
    Table,
    /// The API's JSON.
    Json,
    /// CSV.
    Csv,
}

/// `smsgw records`.
#[derive(Args)]
pub struct RecordsArgs {
    /// mt (sent) or mo (received).
    #[arg(long, default_value = "mt")]
    pub direction: String,
    /// From (a Beijing date 2026-12-01 or RFC 3339).
    #[arg(long)]
    pub from: Option<String>,
    /// Until (a date includes that whole day).
    #[arg(long)]
    pub until: Option<String>,
    /// A number.
    #[arg(long)]
    pub number: Option<String>,
    /// A group name.
    #[arg(long)]
    pub group: Option<String>,
    /// A job id.
    #[arg(long)]
    pub job: Option<u64>,
    /// A status (DELIVERED, FAILED, ...).
    #[arg(long)]
    pub status: Option<String>,
    /// Text contained.
    #[arg(long)]
    pub q: Option<String>,
    /// Output.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    #[command(flatten)]
    pub target: ApiTarget,
}

/// `smsgw stats`.
#[derive(Args)]
pub struct StatsArgs {
    /// day, week or month (Beijing time).
    #[arg(long, default_value = "day")]
    pub period: String,
    /// First date (default: a week before --until).
    #[arg(long)]
    pub from: Option<String>,
    /// Last date (default: today).
    #[arg(long)]
    pub until: Option<String>,
    /// carrier, status, group or template.
    #[arg(long)]
    pub by: Option<String>,
    /// Output.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    #[command(flatten)]
    pub target: ApiTarget,
}

fn block<T>(f: impl std::future::Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Runtime::new()?.block_on(f)
}

fn query(pairs: &[(&str, Option<String>)]) -> String {
    let mut q = Vec::new();
    for (k, v) in pairs {
        if let Some(v) = v {
            q.push(format!("{k}={}", encode(v)));
        }
    }
    if q.is_empty() {
        String::new()
    } else {
        format!("?{}", q.join("&"))
    }
}

/// Percent-encodes a query value or path segment.
pub fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b':') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Contact ids for `--except` values: ids as they are, names looked up (an
/// exact name that matches no contact, or several, is an error).
pub async fn contact_ids(t: &ApiTarget, names: &[String]) -> anyhow::Result<Vec<u64>> {
    let mut out = Vec::new();
    for n in names {
        if let Ok(id) = n.parse() {
            out.push(id);
            continue;
        }
        let (status, v) = call(t, "GET", &format!("/v1/contacts?q={}&limit=500", encode(n)), None).await?;
        if status >= 400 {
            bail!("looking up `{n}`: HTTP {status}: {}", v["error"]["message"]);
        }
        let ids: Vec<u64> = v["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["name"] == json!(n))
            .filter_map(|c| c["id"].as_u64())
            .collect();
        match ids.as_slice() {
            [one] => out.push(*one),
            [] => bail!("no contact is named `{n}`"),
            _ => bail!("{} contacts are named `{n}`: give the id ({ids:?})", ids.len()),
        }
    }
    Ok(out)
}

fn table(rows: &[Vec<String>]) {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for r in rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(s, w)| format!("{s}{}", " ".repeat(w - s.chars().count())))
            .collect();
        println!("{}", line.join("  ").trim_end());
    }
}

fn cell(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        v => v.to_string(),
    }
}

fn print_contacts(v: &Value) {
    let mut rows = vec![vec![
        "id".into(),
        "name".into(),
        "phones".into(),
        "unit".into(),
        "tags".into(),
    ]];
    for c in v["items"].as_array().into_iter().flatten() {
        let join = |k: &str| {
            c[k].as_array()
                .into_iter()
                .flatten()
                .map(cell)
                .collect::<Vec<_>>()
                .join(";")
        };
        rows.push(vec![
            cell(&c["id"]),
            cell(&c["name"]),
            join("phones"),
            cell(&c["unit"]),
            join("tags"),
        ]);
    }
    table(&rows);
}

pub fn contacts(c: ContactsCmd) -> anyhow::Result<()> {
    block(async {
        match c {
            ContactsCmd::Import { file, target } => {
                let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
                let (status, body) =
                    call_raw(&target, "POST", "/v1/contacts/import", bytes, "text/csv").await?;
                let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                if status >= 400 {
                    return print_or_fail(status, &v);
                }
                println!(
                    "{}: {} created, {} updated ({})",
                    file.display(),
                    v["created"],
                    v["updated"],
                    cell(&v["encoding"])
                );
                let errors = v["errors"].as_array().cloned().unwrap_or_default();
                for e in &errors {
                    eprintln!("line {}: {}", e["line"], cell(&e["message"]));
                }
                if !errors.is_empty() {
                    eprintln!("{} lines skipped", errors.len());
                }
                Ok(())
            }
            ContactsCmd::Find { query, target } => {
                let (status, v) = call(
                    &target,
                    "GET",
                    &format!("/v1/contacts?q={}", encode(&query)),
                    None,
                )
                .await?;
                if status >= 400 {
                    return print_or_fail(status, &v);
                }
                print_contacts(&v);
                Ok(())
            }
            ContactsCmd::Export { out, target } => {
                let (status, body) =
                    call_raw(&target, "GET", "/v1/contacts/export", Vec::new(), "text/csv").await?;
                if status >= 400 {
                    bail!("HTTP {status}: {}", String::from_utf8_lossy(&body));
                }
                match out {
                    Some(p) => std::fs::write(&p, &body).with_context(|| format!("writing {}", p.display())),
                    None => {
                        use std::io::Write;
                        std::io::stdout().write_all(&body).context("writing stdout")
                    }
                }
            }
        }
    })
}

pub fn groups(c: GroupsCmd) -> anyhow::Result<()> {
    block(async {
        let (target, method, path, body) = match c {
            GroupsCmd::Add {
                name,
                contact,
                group,
                tag,
                unit,
                target,
            } => {
                let b =
                    json!({"name": name, "contacts": contact, "groups": group, "tags": tag, "units": unit});
                (target, "POST", "/v1/groups".to_string(), Some(b))
            }
            GroupsCmd::Show { name, target } => {
                (target, "GET", format!("/v1/groups/{}", encode(&name)), None)
            }
            GroupsCmd::Members { name, target } => {
                let (status, v) = call(
                    &target,
                    "GET",
                    &format!("/v1/groups/{}/members", encode(&name)),
                    None,
                )
                .await?;
                if status >= 400 {
                    return print_or_fail(status, &v);
                }
                print_contacts(&v);
                println!("{} members", v["count"]);
                return Ok(());
            }
            GroupsCmd::List { target } => (target, "GET", "/v1/groups?limit=500".to_string(), None),
        };
        let (status, v) = call(&target, method, &path, body).await?;
        print_or_fail(status, &v)
    })
}

pub fn templates(c: TemplatesCmd) -> anyhow::Result<()> {
    block(async {
        match c {
            TemplatesCmd::Add {
                name,
                text,
                category,
                target,
            } => {
                let b = json!({"name": name, "text": text, "category": category});
                let (status, v) = call(&target, "POST", "/v1/templates", Some(b)).await?;
                print_or_fail(status, &v)
            }
            TemplatesCmd::List { target } => {
                let (status, v) = call(&target, "GET", "/v1/templates?limit=500", None).await?;
                if status >= 400 {
                    return print_or_fail(status, &v);
                }
                let mut rows = vec![vec![
                    "name".into(),
                    "category".into(),
                    "uses".into(),
                    "text".into(),
                ]];
                for t in v["items"].as_array().into_iter().flatten() {
                    rows.push(vec![
                        cell(&t["name"]),
                        cell(&t["category"]),
                        cell(&t["uses"]),
                        cell(&t["text"]),
                    ]);
                }
                table(&rows);
                Ok(())
            }
        }
    })
}

pub fn jobs(c: JobsCmd) -> anyhow::Result<()> {
    block(async {
        let (target, method, id) = match c {
            JobsCmd::Show { id, target } => (target, "GET", id),
            JobsCmd::Cancel { id, target } => (target, "DELETE", id),
        };
        let (status, v) = call(&target, method, &format!("/v1/jobs/{id}"), None).await?;
        print_or_fail(status, &v)
    })
}

async fn rows_or_csv(target: &ApiTarget, path: &str, format: Format, cols: &[&str]) -> anyhow::Result<()> {
    if format == Format::Csv {
        let sep = if path.contains('?') { '&' } else { '?' };
        let (status, body) = call_raw(
            target,
            "GET",
            &format!("{path}{sep}format=csv"),
            Vec::new(),
            "text/csv",
        )
        .await?;
        if status >= 400 {
            bail!("HTTP {status}: {}", String::from_utf8_lossy(&body));
        }
        print!(
            "{}",
            String::from_utf8_lossy(&body).trim_start_matches('\u{feff}')
        );
        return Ok(());
    }
    let (status, v) = call(target, "GET", path, None).await?;
    if status >= 400 || format == Format::Json {
        return print_or_fail(status, &v);
    }
    let mut rows = vec![cols.iter().map(|c| c.to_string()).collect::<Vec<_>>()];
    for it in v["items"]
        .as_array()
        .or(v["rows"].as_array())
        .into_iter()
        .flatten()
    {
        rows.push(
            cols.iter()
                .map(|c| {
                    let x = &it[*c];
                    match (x.get("messages"), x.get("name")) {
                        (Some(m), _) => format!("{}/{}", m, x["parts"]),
                        (None, Some(n)) => cell(n),
                        _ => cell(x),
                    }
                })
                .collect(),
        );
    }
    table(&rows);
    Ok(())
}

pub fn records(a: RecordsArgs) -> anyhow::Result<()> {
    let path = format!(
        "/v1/records{}",
        query(&[
            ("direction", Some(a.direction.clone())),
            ("from", a.from),
            ("until", a.until),
            ("number", a.number),
            ("group", a.group),
            ("job", a.job.map(|j| j.to_string())),
            ("status", a.status),
            ("q", a.q),
            ("limit", Some("500".into())),
        ])
    );
    let cols: &[&str] = if a.direction == "mo" {
        &["received_at", "from", "contact", "text"]
    } else {
        &["accepted_at", "to", "contact", "status", "text"]
    };
    block(rows_or_csv(&a.target, &path, a.format, cols))
}

pub fn stats(a: StatsArgs) -> anyhow::Result<()> {
    let path = format!(
        "/v1/stats{}",
        query(&[
            ("period", Some(a.period)),
            ("from", a.from),
            ("until", a.until),
            ("by", a.by.clone()),
        ])
    );
    let cols: &[&str] = match a.by.as_deref() {
        Some("status") => &["period", "key", "count"],
        Some(_) => &["period", "key", "sent", "delivered", "failed", "expired"],
        None => &["period", "sent", "delivered", "failed", "expired", "mo"],
    };
    if a.format == Format::Table {
        println!("(messages/parts, Asia/Shanghai)");
    }
    block(rows_or_csv(&a.target, &path, a.format, cols))
}
