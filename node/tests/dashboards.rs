//! Keeps `grafana/` honest: every metric name used by a dashboard panel,
//! template variable or annotation, and by every Prometheus alert rule, must
//! be one a real node exports on `/metrics` after it has carried some
//! traffic, unless it is in [`ALLOWED_ABSENT`] with the reason it is not
//! there in a healthy run. Also checks that the dashboards parse as JSON and
//! carry the `DS_PROMETHEUS`, `node` and `carrier` variables, and that every
//! alert rule has `expr`, `for`, `labels.severity` and `annotations.summary`
//! (a line-based check: serde_yaml is not a dependency).
//!
//! Only 127.0.0.1: the node runs with no config, i.e. with the in-process
//! carrier simulator.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{http, Node};
use serde_json::{json, Value};

/// Names the dashboards or alerts may use although a healthy demo node does
/// not export them: (name, why it is absent, a string that must appear in
/// the Rust sources, proving the code does emit it).
const ALLOWED_ABSENT: &[(&str, &str, &str)] = &[
    (
        "smsgw_alarm_cases_total",
        "only once the alarm desk has taken its first case",
        "smsgw_alarm_cases_total",
    ),
    (
        "smsgw_alarm_open_cases",
        "only once the alarm desk has taken its first case",
        "smsgw_alarm_open_cases",
    ),
    (
        "smsgw_alarm_escalations_total",
        "only when a case was not accepted in time",
        "smsgw_alarm_escalations_total",
    ),
    (
        "smsgw_alarm_accept_seconds_bucket",
        "only once an officer accepted a case",
        "smsgw_alarm_accept_seconds",
    ),
    (
        "smsgw_alarm_forward_delay_seconds_bucket",
        "only once a case was forwarded to an officer",
        "smsgw_alarm_forward_delay_seconds",
    ),
    (
        "smsgw_carrier_reconnects_total",
        "only after a carrier link was lost and logged in again",
        "smsgw_carrier_reconnects_total",
    ),
    (
        "smsgw_carrier_connect_failures_total",
        "only when connecting or logging in to a carrier fails",
        "smsgw_carrier_connect_failures_total",
    ),
    (
        "smsgw_carrier_throttles_total",
        "only when a carrier answers with a throttling status",
        "smsgw_carrier_throttles_total",
    ),
    (
        "smsgw_carrier_bad_pdus_total",
        "only when a carrier sends a PDU that does not decode",
        "smsgw_carrier_bad_pdus_total",
    ),
    (
        "smsgw_carrier_session_restarts_total",
        "only when the supervisor restarts a crashed session actor",
        "smsgw_carrier_session_restarts_total",
    ),
    (
        "smsgw_carrier_crash_loop",
        "set together with session restarts",
        "smsgw_carrier_crash_loop",
    ),
    (
        "smsgw_carrier_resent_after_loss_total",
        "only when a link is lost with submits in flight",
        "smsgw_carrier_resent_after_loss_total",
    ),
    (
        "smsgw_reports_early_total",
        "only when a DR beats its submit response (a race)",
        "reports(\"early\"",
    ),
    (
        "smsgw_reports_unmatched_total",
        "only for a DR that matches no part",
        "reports(\"unmatched\"",
    ),
    (
        "smsgw_reports_expired_total",
        "only when a message reaches its validity deadline without a DR",
        "reports(\"expired\"",
    ),
    (
        "smsgw_mo_received_total",
        "only when a phone sends us an MO (the test sends MT only)",
        "smsgw_mo_received_total",
    ),
    (
        "smsgw_raft_snapshots_built_total",
        "only once the log reaches the snapshot threshold",
        "smsgw_raft_snapshots_built_total",
    ),
    (
        "smsgw_raft_snapshots_installed_total",
        "only on a follower that receives a snapshot (single node here)",
        "smsgw_raft_snapshots_installed_total",
    ),
    (
        "smsgw_forward_delivered_total",
        "only on a standby node forwarding DRs/MOs to the leader",
        "smsgw_forward_delivered_total",
    ),
    (
        "smsgw_forward_received_total",
        "only on a leader that receives forwarded DRs/MOs",
        "smsgw_forward_received_total",
    ),
    (
        "smsgw_forward_dropped_total",
        "only when a standby's forward queue is full",
        "smsgw_forward_dropped_total",
    ),
];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    out.sort();
    out
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

/// Every `smsgw_*` metric name in a PromQL expression (not inside quoted
/// label values).
fn metric_names(expr: &str) -> Vec<String> {
    let mut unquoted = String::with_capacity(expr.len());
    let mut quote: Option<char> = None;
    for c in expr.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' || c == '`' => {
                quote = Some(c);
                unquoted.push(' ');
            }
            None => unquoted.push(c),
        }
    }
    unquoted
        .split(|c: char| !is_name_char(c))
        .filter(|t| t.starts_with("smsgw_"))
        .map(str::to_string)
        .collect()
}

/// Strings under `expr`, `query` and `definition` keys anywhere in a
/// dashboard (panel targets, template variables, annotations).
fn dashboard_exprs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                match (k.as_str(), v) {
                    ("expr" | "query" | "definition", Value::String(s)) => out.push(s.clone()),
                    _ => dashboard_exprs(v, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| dashboard_exprs(v, out)),
        _ => {}
    }
}

struct Rule {
    name: String,
    expr: String,
    has_for: bool,
    severity: bool,
    summary: bool,
}

/// Line-based reading of a Prometheus rules file: one rule per `- alert:`,
/// `expr:` on one line or as a `|`/`>` block.
fn alert_rules(text: &str) -> Vec<Rule> {
    let mut rules: Vec<Rule> = Vec::new();
    let mut section = "";
    let mut block_indent: Option<usize> = None;
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let t = line.trim();
        if let Some(bi) = block_indent {
            if t.is_empty() || indent > bi {
                if let Some(r) = rules.last_mut() {
                    r.expr.push(' ');
                    r.expr.push_str(t);
                }
                continue;
            }
            block_indent = None;
        }
        if t.starts_with('#') || t.is_empty() {
            continue;
        }
        if let Some(name) = t.strip_prefix("- alert:") {
            rules.push(Rule {
                name: name.trim().to_string(),
                expr: String::new(),
                has_for: false,
                severity: false,
                summary: false,
            });
            section = "";
            continue;
        }
        let Some(r) = rules.last_mut() else { continue };
        if let Some(e) = t.strip_prefix("expr:") {
            let e = e.trim();
            if e == "|" || e == ">" || e.starts_with("|-") || e.starts_with(">-") {
                block_indent = Some(indent);
            } else {
                r.expr = e.to_string();
            }
        } else if let Some(f) = t.strip_prefix("for:") {
            r.has_for = !f.trim().is_empty();
        } else if t == "labels:" || t == "annotations:" {
            section = if t == "labels:" { "labels" } else { "annotations" };
        } else if let Some(s) = t.strip_prefix("severity:") {
            r.severity = section == "labels" && !s.trim().is_empty();
        } else if let Some(s) = t.strip_prefix("summary:") {
            r.summary = section == "annotations" && !s.trim().is_empty();
        }
    }
    rules
}

/// Every expression and where it is used, for the failure message.
type Uses = Vec<(String, String)>;

fn used_in_dashboards(uses: &mut Uses) -> usize {
    let dir = repo().join("grafana/dashboards");
    let paths = files(&dir, "json");
    assert!(paths.len() >= 2, "dashboards in {}", dir.display());
    for p in &paths {
        let text = std::fs::read_to_string(p).expect("read dashboard");
        let d: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", p.display()));
        let file = p.file_name().unwrap_or_default().to_string_lossy().to_string();
        assert!(
            d["uid"].is_string() && d["title"].is_string(),
            "{file}: uid and title"
        );
        let vars: BTreeSet<&str> = d["templating"]["list"]
            .as_array()
            .unwrap_or_else(|| panic!("{file}: templating.list"))
            .iter()
            .filter_map(|v| v["name"].as_str())
            .collect();
        for v in ["DS_PROMETHEUS", "node", "carrier"] {
            assert!(vars.contains(v), "{file}: template variable {v}");
        }
        let panels = d["panels"].as_array().unwrap_or_else(|| panic!("{file}: panels"));
        let mut n_targets = 0;
        for panel in panels.iter().filter(|p| p["type"] != "row") {
            assert_eq!(
                panel["datasource"]["uid"], "${DS_PROMETHEUS}",
                "{file}: panel {:?} uses the DS_PROMETHEUS variable",
                panel["title"]
            );
            let targets = panel["targets"].as_array().map(Vec::len).unwrap_or(0);
            assert!(targets > 0, "{file}: panel {:?} has no query", panel["title"]);
            n_targets += targets;
        }
        assert!(n_targets > 0, "{file}: no queries");
        let mut exprs = Vec::new();
        dashboard_exprs(&d, &mut exprs);
        for e in exprs {
            uses.push((e, file.clone()));
        }
    }
    paths.len()
}

fn used_in_alerts(uses: &mut Uses) -> usize {
    let path = repo().join("grafana/prometheus/alerts.yml");
    let text = std::fs::read_to_string(&path).expect("read alerts.yml");
    assert!(text.contains("groups:"), "alerts.yml has groups");
    let rules = alert_rules(&text);
    assert!(rules.len() >= 6, "alert rules: {}", rules.len());
    let mut names = BTreeSet::new();
    for r in &rules {
        assert!(names.insert(r.name.clone()), "alert {} defined twice", r.name);
        assert!(!r.expr.is_empty(), "alert {}: expr", r.name);
        assert!(r.has_for, "alert {}: for", r.name);
        assert!(r.severity, "alert {}: labels.severity", r.name);
        assert!(r.summary, "alert {}: annotations.summary", r.name);
        assert!(
            !metric_names(&r.expr).is_empty(),
            "alert {}: uses no smsgw_ metric",
            r.name
        );
        uses.push((r.expr.clone(), format!("alerts.yml {}", r.name)));
    }
    rules.len()
}

/// Names in a Prometheus text scrape: sample names and `# TYPE` names.
fn scraped_names(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let name = match line.strip_prefix("# TYPE ") {
            Some(rest) => rest.split_whitespace().next(),
            None if line.starts_with('#') => None,
            None => line.split(['{', ' ']).next(),
        };
        if let Some(n) = name.filter(|n| !n.is_empty()) {
            out.insert(n.to_string());
        }
    }
    out
}

/// `# TYPE name kind` lines of a scrape.
fn metric_types(text: &str) -> std::collections::BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some((w.next()?.to_string(), w.next()?.to_string()))
        })
        .collect()
}

fn exported(name: &str, scraped: &BTreeSet<String>) -> bool {
    scraped.contains(name)
        || ["_bucket", "_sum", "_count"]
            .iter()
            .any(|s| name.strip_suffix(s).is_some_and(|base| scraped.contains(base)))
}

fn rust_sources() -> String {
    fn walk(dir: &Path, out: &mut String) {
        let Ok(rd) = std::fs::read_dir(dir) else { return };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push_str(&std::fs::read_to_string(&p).unwrap_or_default());
            }
        }
    }
    let mut out = String::new();
    for d in ["actors/src", "raft/src", "node/src"] {
        walk(&repo().join(d), &mut out);
    }
    out
}

fn scrape(node: &Node) -> String {
    let r = http(&node.http, "GET", "/metrics", None, None);
    assert_eq!(r.status, 200, "/metrics");
    match r.body {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

#[test]
fn every_dashboard_and_alert_metric_is_exported() {
    let mut uses: Uses = Vec::new();
    let n_dash = used_in_dashboards(&mut uses);
    let n_rules = used_in_alerts(&mut uses);
    let names: Vec<(String, &str)> = uses
        .iter()
        .flat_map(|(e, place)| metric_names(e).into_iter().map(move |n| (n, place.as_str())))
        .collect();
    let used: BTreeSet<&str> = names.iter().map(|(n, _)| n.as_str()).collect();

    // The allowlist stays small and true: each entry is used somewhere and
    // is emitted by the code.
    let sources = rust_sources();
    for (name, why, hint) in ALLOWED_ABSENT {
        assert!(
            used.contains(name),
            "allowlisted {name} ({why}) is not used by any dashboard or alert: drop it"
        );
        assert!(
            sources.contains(hint),
            "allowlisted {name}: `{hint}` not found in the Rust sources"
        );
    }

    // A demo node that has carried traffic to every carrier.
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("smsgw-data");
    let data = data.to_str().expect("utf-8 path").to_string();
    let node = Node::start_in(dir, &["--data-dir", &data]);
    let key = node.demo_key();
    for i in 0..4 {
        let to = ["13800138000", "13012345678", "13312345678", "+447700900123"];
        let r = node.post(&key, &json!({"to": to, "text": format!("dashboards {i}")}));
        assert_eq!(r.status, 202, "{:?}", r.body);
    }
    // Submits, responses and reports arrive asynchronously.
    let wanted = [
        "smsgw_carrier_submits_total",
        "smsgw_carrier_responses_total",
        "smsgw_carrier_submit_report_seconds",
        "smsgw_reports_matched_total",
    ];
    let deadline = Instant::now() + Duration::from_secs(30);
    let (scraped, types) = loop {
        let text = scrape(&node);
        let s = scraped_names(&text);
        if wanted.iter().all(|w| s.contains(*w)) || Instant::now() > deadline {
            break (s, metric_types(&text));
        }
        std::thread::sleep(Duration::from_millis(300));
    };

    // Latencies are read as summaries (`quantile` label) or histograms
    // (`histogram_quantile` over `_bucket`): the query must fit the type the
    // node exports.
    for (expr, place) in &uses {
        for n in metric_names(expr) {
            let base = n.strip_suffix("_bucket").unwrap_or(&n);
            let Some(kind) = types.get(base) else { continue };
            if expr.contains("histogram_quantile") {
                assert_eq!(
                    kind, "histogram",
                    "{place}: histogram_quantile over {n} ({kind}): {expr}"
                );
            } else if expr.contains("quantile=") {
                assert_eq!(kind, "summary", "{place}: quantile label on {n} ({kind}): {expr}");
            }
        }
    }

    let allowed: BTreeSet<&str> = ALLOWED_ABSENT.iter().map(|(n, _, _)| *n).collect();
    let mut missing = Vec::new();
    for (name, place) in &names {
        if !exported(name, &scraped) && !allowed.contains(name.as_str()) {
            missing.push(format!("{name} (in {place})"));
        }
    }
    missing.sort();
    missing.dedup();
    assert!(
        missing.is_empty(),
        "metrics used by grafana/ but not exported by a node:\n  {}\nexported: {:?}",
        missing.join("\n  "),
        scraped
    );
    eprintln!(
        "{n_dash} dashboards, {n_rules} alert rules, {} metric names used, {} names (with _sum/_count) in the scrape",
        used.len(),
        scraped.len()
    );
}

#[test]
fn metric_name_extraction() {
    assert_eq!(
        metric_names(r#"sum by (x) (rate(smsgw_a_total{c="smsgw_no"}[5m])) / smsgw_b:c"#),
        vec!["smsgw_a_total", "smsgw_b:c"]
    );
    assert_eq!(metric_names("xsmsgw_a + smsgw_b"), vec!["smsgw_b"]);
    let rules = alert_rules(
        "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: |\n          up\n          + smsgw_x\n        for: 1m\n        labels:\n          severity: critical\n        annotations:\n          summary: s\n      - alert: B\n        expr: smsgw_y\n        annotations:\n          severity: wrong place\n",
    );
    assert_eq!(rules.len(), 2);
    assert_eq!(metric_names(&rules[0].expr), vec!["smsgw_x"]);
    assert!(rules[0].has_for && rules[0].severity && rules[0].summary);
    assert!(!rules[1].has_for && !rules[1].severity && !rules[1].summary);
}
