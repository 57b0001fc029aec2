//! The web console in real Chromium (WebDriver, headless), against a real
//! node with its in-process simulated carriers: sign-in (a refused one
//! first), a send to free numbers and to a group seen DELIVERED in the
//! records, the live overview (a numeric actual TPS per carrier, the oldest
//! wait per class), the statistics chart drawn with data, a bad cluster
//! document shown at its line, the alarm desk, phone width, no console
//! errors, and no English interface word on any zh-CN page, as a
//! dispatcher, an admin and an officer. `SMSGW_SCREENSHOTS=docs/screenshots`
//! also saves a picture of every page (how the README's screenshots are
//! made).

mod browser;
mod common;

use std::time::Duration;

use browser::console::{
    add_user, assert_all_chinese, assert_fits, no_console_errors, runtime, walk_in_chinese,
};
use browser::{screenshot_dir, Browser};
use common::Node;
use serde_json::json;

#[test]
fn a_dispatcher_signs_in_sends_to_numbers_and_a_group_and_sees_them_delivered() {
    let node = Node::start(&[]);
    let key = node.demo_key();
    // The address book the group send uses, through the JSON API.
    for (name, phone) in [
        ("张伟", "13800138001"),
        ("李娜", "13800138002"),
        ("王芳", "13800138003"),
    ] {
        let r = node.call(
            "POST",
            "/v1/contacts",
            Some(&key),
            Some(
                json!({"name": name, "phones": [phone], "unit": "应急办"})
                    .to_string()
                    .as_bytes(),
            ),
        );
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
    let r = node.call(
        "POST",
        "/v1/groups",
        Some(&key),
        Some(
            json!({"name": "应急办", "units": ["应急办"]})
                .to_string()
                .as_bytes(),
        ),
    );
    assert_eq!(r.status, 201, "{:?}", r.body);
    add_user(&node, "wang", "s3cret-pass", "dispatcher", Some("demo"));

    runtime().block_on(async {
        let Some(b) = Browser::start(&node.http).await else { return };
        let shots = screenshot_dir();
        b.open("/").await;
        b.screenshot(shots.as_deref(), "login").await;

        // A wrong password is refused, in Chinese by default.
        b.fill("login-user", "wang").await;
        b.fill("login-password", "wrong-password").await;
        b.click("login-submit").await;
        let msg = b.wait_text("login-error", Duration::from_secs(10), |t| !t.is_empty()).await;
        assert!(msg.contains("错误"), "{msg}");
        // The refused sign-in's 401 is the only thing the console logged.
        let errors = b.console_errors().await;
        assert!(
            errors.iter().all(|e| e.contains("/console/api/login") && e.contains("401")),
            "{errors:?}"
        );

        b.fill("login-password", "s3cret-pass").await;
        b.click("login-submit").await;
        b.el("nav-overview").await;
        for hidden in ["nav-accounts", "nav-cluster"] {
            let found = b.js(&format!("return !!document.querySelector('[data-testid=\"{hidden}\"]')")).await;
            assert_eq!(found, json!(false), "a dispatcher sees no {hidden}");
        }
        // The session cookie is not readable by scripts (HttpOnly).
        assert_eq!(b.js("return document.cookie.includes('smsgw_session')").await, json!(false));

        // Overview: live, refreshed within 2 s.
        b.click("nav-overview").await;
        let first = b.wait_text("overview-updated", Duration::from_secs(10), |t| !t.is_empty()).await;
        let next = b
            .wait_text("overview-updated", Duration::from_millis(2500), |t| !t.is_empty() && t != first)
            .await;
        assert_ne!(first, next);
        let leader = b.text("overview-leader").await;
        assert!(leader.starts_with('#'), "{leader}");
        assert_all_chinese(&b, "overview").await;
        b.screenshot(shots.as_deref(), "overview").await;
        no_console_errors(&b, "overview").await;

        // Send to two free numbers.
        b.click("nav-send").await;
        b.fill("send-to", "13912345678, 13912345679").await;
        b.fill("send-text", "台风预警：请做好防范").await;
        let preview = b.wait_text("send-preview", Duration::from_secs(5), |t| t.contains("UCS-2")).await;
        assert!(preview.contains("UCS-2"), "{preview}");
        b.click("send-submit").await;
        let result = b.wait_text("send-result", Duration::from_secs(15), |t| t.contains("13912345679")).await;
        assert!(result.contains("13912345678"), "{result}");
        assert_all_chinese(&b, "send").await;
        b.screenshot(shots.as_deref(), "send").await;
        no_console_errors(&b, "send").await;

        // Send to the group (all its members ticked): a job.
        // A fresh form: through another page and back.
        b.click("nav-overview").await;
        b.click("nav-send").await;
        b.click("send-group-应急办").await;
        b.wait_text("send-groups", Duration::from_secs(5), |t| t.contains("13800138003")).await;
        b.fill("send-text", "集合：三号楼").await;
        b.click("send-submit").await;
        let job = b.wait_text("send-result", Duration::from_secs(15), |t| t.contains('#')).await;
        assert!(job.contains("(3)"), "three recipients: {job}");

        // Records: every one of the five DELIVERED (the simulator reports).
        b.click("nav-records").await;
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            b.click("records-filter").await;
            tokio::time::sleep(Duration::from_millis(500)).await;
            let statuses = b
                .js("return [...document.querySelectorAll('[data-testid=\"records-table\"] [data-testid=\"record-status\"]')].map(e => e.dataset.status)")
                .await;
            let list: Vec<String> = serde_json::from_value(statuses).unwrap_or_default();
            if list.len() == 5 && list.iter().all(|s| s == "DELIVERED") {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "records never all DELIVERED: {list:?}");
        }
        let table = b.text("records-table").await;
        for n in ["13912345678", "13800138001", "13800138002", "13800138003"] {
            assert!(table.contains(n), "{n} missing from the records: {table}");
        }
        // A message's timeline: accepted, submitted, report.
        b.js("document.querySelector('[data-testid=\"records-table\"] tbody tr').click(); return true").await;
        let tl = b.wait_text("records-detail", Duration::from_secs(10), |t| t.contains("DELIVRD")).await;
        assert!(tl.contains("受理") && tl.contains("提交") && tl.contains("已送达"), "{tl}");
        assert!(table.contains("已送达"), "the status in Chinese: {table}");
        assert_all_chinese(&b, "records").await;
        b.screenshot(shots.as_deref(), "records").await;
        no_console_errors(&b, "records").await;

        // The overview after the sends: a numeric actual TPS beside each
        // carrier's limit, and the oldest wait of every class, in seconds.
        b.click("nav-overview").await;
        b.wait_text("overview-updated", Duration::from_secs(10), |t| !t.is_empty()).await;
        let tps = b
            .js("return [...document.querySelectorAll('[data-testid^=\"carrier-tps-\"]')].map(e => e.dataset.tps)")
            .await;
        let tps: Vec<String> = serde_json::from_value(tps).unwrap_or_default();
        assert!(!tps.is_empty(), "no carrier rows on the overview");
        for v in &tps {
            assert!(v.parse::<f64>().is_ok(), "TPS is a number: {tps:?}");
        }
        for class in ["alarm", "high", "normal", "bulk"] {
            let age = b.text(&format!("oldest-{class}")).await;
            assert!(age.ends_with('秒') && age.split(' ').next().is_some_and(|n| n.parse::<f64>().is_ok()), "{class}: {age}");
        }
        assert_all_chinese(&b, "overview").await;

        b.click("nav-contacts").await;
        b.wait_text("contacts-table", Duration::from_secs(10), |t| t.contains("张伟")).await;
        b.wait_text("templates-table", Duration::from_secs(10), |t| !t.is_empty()).await;
        assert_all_chinese(&b, "contacts").await;
        b.screenshot(shots.as_deref(), "contacts").await;
        no_console_errors(&b, "contacts").await;

        // The dispatcher's other pages, in Chinese too.
        walk_in_chinese(&b, &["stats", "alarm"]).await;

        // English on request; phone width still shows the controls.
        b.click("lang-switch").await;
        b.wait_text("nav-send", Duration::from_secs(5), |t| t == "Send").await;
        b.client.set_window_size(390, 844).await.expect("phone width");
        b.click("nav-send").await;
        assert!(b.el("send-submit").await.is_displayed().await.unwrap_or(false));
        assert_fits(&b).await;
        b.screenshot(shots.as_deref(), "send-phone").await;
        no_console_errors(&b, "send at phone width").await;

        // Sign-out ends the session for this browser.
        b.click("logout").await;
        b.el("login-submit").await;
        b.close().await;
    });
}

#[test]
fn an_admin_sees_the_statistics_chart_and_a_bad_cluster_document_at_its_line() {
    let node = Node::start(&[]);
    let key = node.demo_key();
    let r = node.post(
        &key,
        &json!({"to": ["13700000001", "13700000002"], "text": "统计"}),
    );
    assert_eq!(r.status, 202, "{:?}", r.body);
    add_user(&node, "admin", "admin-pass-1", "admin", Some("demo"));
    let r = node.call(
        "POST",
        "/v1/optouts",
        Some(&key),
        Some(json!({"number": "13700000009"}).to_string().as_bytes()),
    );
    assert!(r.status < 300, "{:?}", r.body);

    runtime().block_on(async {
        let Some(b) = Browser::start(&node.http).await else { return };
        let shots = screenshot_dir();
        b.open("/").await;
        b.fill("login-user", "admin").await;
        b.fill("login-password", "admin-pass-1").await;
        b.click("login-submit").await;
        b.el("nav-cluster").await;
        // Every page an admin has, in Chinese.
        walk_in_chinese(&b, &["overview", "send", "contacts", "records", "alarm", "stats", "accounts", "cluster"]).await;

        // Statistics: the chart draws the two messages of today.
        b.click("nav-stats").await;
        let start = std::time::Instant::now();
        let mut opened = std::time::Instant::now();
        loop {
            // Looked up on every pass: opening the page again draws a new
            // chart, and the old element no longer answers.
            let chart = b.el("stats-chart").await;
            let total = chart.attr("data-total").await.ok().flatten().unwrap_or_default();
            let canvas = b.js("return !!document.querySelector('[data-testid=\"stats-chart\"] canvas')").await;
            if total.parse::<u64>().unwrap_or(0) >= 2 && canvas == json!(true) {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(30), "chart without data: total {total}");
            tokio::time::sleep(Duration::from_millis(300)).await;
            // A slow answer is waited for, not cut short by a reload.
            if opened.elapsed() > Duration::from_secs(3) {
                b.open("/#/records").await;
                b.open("/#/stats").await;
                opened = std::time::Instant::now();
            }
        }
        assert_all_chinese(&b, "stats").await;
        b.screenshot(shots.as_deref(), "stats").await;
        no_console_errors(&b, "stats").await;

        // Accounts: the users table lists the admin.
        b.click("nav-accounts").await;
        b.wait_text("optouts-table", Duration::from_secs(10), |t| t.contains("13700000009"))
            .await;
        b.wait_text("users-table", Duration::from_secs(10), |t| t.contains("管理员")).await;
        assert_all_chinese(&b, "accounts").await;
        b.screenshot(shots.as_deref(), "accounts").await;
        no_console_errors(&b, "accounts").await;

        // Cluster: members, the document with passwords masked, and a bad
        // value shown at its line.
        b.click("nav-cluster").await;
        b.wait_text("cluster-members", Duration::from_secs(10), |t| t.contains("127.0.0.1")).await;
        let doc = b.el("cluster-doc").await;
        let start = std::time::Instant::now();
        let text = loop {
            let v = doc.prop("value").await.ok().flatten().unwrap_or_default();
            if !v.is_empty() || start.elapsed() > Duration::from_secs(10) {
                break v;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert!(text.contains("********"), "carrier passwords masked: {text}");
        assert!(!text.contains("password = \"pw"), "no password in clear: {text}");
        assert_all_chinese(&b, "cluster").await;
        b.screenshot(shots.as_deref(), "cluster").await;
        let lines: Vec<&str> = text.lines().collect();
        let tps_line = lines
            .iter()
            .position(|l| l.trim_start().starts_with("tps ="))
            .expect("a carrier's tps line");
        let mut bad: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        bad[tps_line] = "tps = \"fast\"".into();
        let bad = bad.join("\n");
        b.js(&format!(
            "const d = document.querySelector('[data-testid=\"cluster-doc\"]'); d.value = {}; d.dispatchEvent(new Event('input')); return true",
            serde_json::to_string(&bad).expect("json")
        ))
        .await;
        b.click("cluster-apply").await;
        let err = b
            .wait_text("cluster-error", Duration::from_secs(10), |t| !t.is_empty())
            .await;
        let want = tps_line + 1;
        assert!(err.contains(&format!("第 {want} 行")), "error at line {want}: {err}");
        let marked = b.js("const e = document.querySelector('.doc .gutter .bad'); return e ? e.textContent : null").await;
        assert_eq!(marked, json!(want.to_string()), "the gutter marks the bad line");
        b.screenshot(shots.as_deref(), "cluster-error").await;
        // The console's own error answer is expected here; nothing else.
        let errors: Vec<String> = b
            .console_errors()
            .await
            .into_iter()
            .filter(|e| !e.contains("422"))
            .collect();
        assert!(errors.is_empty(), "console errors on cluster: {errors:?}");
        b.close().await;
    });
}

#[test]
fn an_mo_to_110_appears_on_the_alarm_desk_at_once_and_is_accepted_then_seen_by_the_officer_on_a_phone() {
    let node = Node::start(&[]);
    let key = node.demo_key();
    let r = node.call(
        "POST",
        "/v1/alarm/officers",
        Some(&key),
        Some(
            json!({"badge": "A001", "name": "李警官", "phone": "13600000001"})
                .to_string()
                .as_bytes(),
        ),
    );
    assert_eq!(r.status, 201, "{:?}", r.body);
    add_user(&node, "desk", "desk-pass-1", "dispatcher", Some("demo"));
    add_user(&node, "a001", "officer-pass-1", "officer", Some("demo"));
    let sim = common::sim_control(&node);

    runtime().block_on(async {
        let Some(b) = Browser::start(&node.http).await else { return };
        let shots = screenshot_dir();
        b.open("/").await;
        b.fill("login-user", "desk").await;
        b.fill("login-password", "desk-pass-1").await;
        b.click("login-submit").await;
        b.click("nav-alarm").await;
        b.wait_text("alarm-queue", Duration::from_secs(10), |t| t.contains("（无）")).await;
        // Let the page's event stream connect before the MO is sent.
        tokio::time::sleep(Duration::from_millis(500)).await;

        // A citizen texts 110 (China Mobile's SP number 1069000 + 110).
        let mo = json!({"protocol": "cmpp", "from": "13800138000", "to": "1069000110", "text": "有人持刀抢劫，在三号楼"});
        let r = common::http(&sim, "POST", "/mo", None, Some(mo.to_string().as_bytes()));
        assert_eq!(r.status, 202, "{:?}", r.body);
        let sent = std::time::Instant::now();
        let queue = b
            .wait_text("alarm-queue", Duration::from_secs(5), |t| t.contains("13800138000"))
            .await;
        let took = sent.elapsed();
        println!("the case appeared on the desk {} ms after the MO was injected", took.as_millis());
        assert!(took <= Duration::from_secs(2), "the case took {took:?} to appear");
        assert!(queue.contains("110") && queue.contains("新警情"), "{queue}");
        assert_all_chinese(&b, "alarm").await;
        let flashed = b.js("return !!document.querySelector('[data-testid=\"alarm-queue\"] tr.flash')").await;
        assert_eq!(flashed, json!(true), "a new case is flagged visually");
        b.screenshot(shots.as_deref(), "alarm").await;

        // Open it and accept it for officer A001.
        b.js("document.querySelector('[data-testid=\"alarm-queue\"] tbody tr').click(); return true").await;
        b.wait_text("alarm-case", Duration::from_secs(10), |t| t.contains("持刀")).await;
        b.el("case-officer").await.select_by_value("A001").await.expect("pick the officer");
        b.click("case-accept").await;
        b.wait_text("case-status", Duration::from_secs(10), |t| t == "已接警").await;
        assert_eq!(
            b.el("case-status").await.attr("data-status").await.ok().flatten().as_deref(),
            Some("ACCEPTED")
        );
        // The detail is redrawn by the live stream too: wait, never read once.
        // Its steps, who took them and the line's kind are Chinese words.
        let case = b
            .wait_text("alarm-case", Duration::from_secs(10), |t| t.contains("接警") && t.contains("报警"))
            .await;
        assert!(case.contains("市民") && case.contains("治安"), "{case}");
        let lower = case.to_lowercase();
        for word in ["created", "accepted", "citizen", "crime", "dispatched", "dispatcher"] {
            assert!(!lower.contains(word), "`{word}` in the zh-CN case: {case}");
        }
        // The roster has column headers and its duty column is Chinese.
        let roster = b.text("roster-officers").await;
        assert!(roster.contains("警号") && roster.contains("在岗"), "{roster}");
        assert_all_chinese(&b, "alarm").await;
        b.screenshot(shots.as_deref(), "alarm-case").await;
        no_console_errors(&b, "alarm").await;

        // The officer, on a phone, sees the case given to him.
        b.click("logout").await;
        b.client.set_window_size(390, 844).await.expect("phone width");
        b.fill("login-user", "a001").await;
        b.fill("login-password", "officer-pass-1").await;
        b.click("login-submit").await;
        b.click("nav-alarm").await;
        b.wait_text("alarm-queue", Duration::from_secs(10), |t| t.contains("13800138000")).await;
        assert_all_chinese(&b, "alarm (officer)").await;
        assert_fits(&b).await;
        b.screenshot(shots.as_deref(), "alarm-phone").await;
        no_console_errors(&b, "alarm (officer)").await;
        b.close().await;
    });
}
