//! What the console's browser tests share: the runtime, console users made
//! with the CLI, and the checks every page gets (fits the width, no console
//! errors, no English interface words in zh-CN).
#![allow(dead_code)]

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;

use super::Browser;
use crate::common::{self, Node};

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// A console user made with the CLI (through the raft port, cluster secret
/// from the node's data dir).
pub fn add_user(node: &Node, name: &str, password: &str, role: &str, account: Option<&str>) {
    let mut args = vec!["users", "add", name, "--role", role, "--addr", &node.raft];
    if let Some(a) = account {
        args.extend(["--account", a]);
    }
    let out = Command::new(common::BIN)
        .args(&args)
        .env("SMSGW_USER_PASSWORD", password)
        .current_dir(node.dir.path())
        .stdin(Stdio::null())
        .output()
        .expect("run smsgw users add");
    assert!(
        out.status.success(),
        "users add: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// No sideways scrolling: nothing reaches past the window's width.
pub async fn assert_fits(b: &Browser) {
    let wide = b
        .js("return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && getComputedStyle(e).position !== 'fixed' && !e.closest('table')).slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))")
        .await;
    let fits = b
        .js("return document.documentElement.scrollWidth <= window.innerWidth + 1")
        .await;
    assert_eq!(
        fits,
        json!(true),
        "sideways scrolling at phone width; too wide: {wide}"
    );
}

/// Interface words that must never show in English on a zh-CN page (the
/// codes the API gives for steps, kinds, statuses, roles and duty, and the
/// former English headers); data such as numbers, ids and names is not
/// checked.
pub const ENGLISH_UI: &[&str] = &[
    "created",
    "accepted",
    "citizen",
    "crime",
    "help",
    "dispatched",
    "transferred",
    "escalated",
    "closed",
    "flagged",
    "system",
    "dispatcher",
    "officer",
    "operator",
    "on",
    "off",
    "shifts",
    "voter",
    "learner",
    "kind",
    "ref",
    "at",
    "price_fen",
    "freezes_at",
    "carrier",
    "status",
    "group",
    "id",
    "raft",
    "http",
    "NEW",
    "DISPATCHED",
    "ACCEPTED",
    "CLOSED",
    "QUEUED",
    "SUBMITTED",
    "DELIVERED",
    "FAILED",
    "RUNNING",
    "DONE",
    "round_robin",
    "one_of",
    "whole_group",
];

/// The English interface words visible on the page (main area and navigation).
pub async fn english_ui_words(b: &Browser) -> Vec<String> {
    let words = serde_json::to_string(ENGLISH_UI).expect("json");
    let found = b
        .js(&format!(
            "const w = new Set({words}); const t = document.getElementById('main').innerText + ' ' + document.getElementById('nav').innerText; return [...new Set((t.match(/[A-Za-z_]+/g) || []).filter(x => w.has(x)))]"
        ))
        .await;
    serde_json::from_value(found).unwrap_or_default()
}

pub async fn assert_all_chinese(b: &Browser, page: &str) {
    let words = english_ui_words(b).await;
    assert!(
        words.is_empty(),
        "English interface words on the zh-CN {page} page: {words:?}"
    );
}

pub async fn no_console_errors(b: &Browser, page: &str) {
    let errors = b.console_errors().await;
    assert!(errors.is_empty(), "console errors on {page}: {errors:?}");
}

/// Polls `path` on the API (demo key) until `ok` holds on its JSON, up to 10 s.
pub fn api_until(
    node: &Node,
    key: &str,
    path: &str,
    ok: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let start = std::time::Instant::now();
    loop {
        let r = node.call("GET", path, Some(key), None);
        if r.status == 200 && ok(&r.body) {
            return r.body;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{path} never as expected: {:?}",
            r.body
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Opens each of `pages` from the navigation and checks it shows no English
/// interface word (each page given 1.5 s to load its data).
pub async fn walk_in_chinese(b: &Browser, pages: &[&str]) {
    for p in pages {
        b.click(&format!("nav-{p}")).await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_all_chinese(b, p).await;
    }
}
