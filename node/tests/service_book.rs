//! The emergency office's service, end to end with a real node and the
//! simulated carriers: an address book imported from a GBK spreadsheet, a
//! group by unit, a template filled per contact, a group send that leaves
//! two members out, and scheduled jobs that fire once (or never, cancelled).
//! What the carrier received (the simulator's ledger) is the judge.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::{http, sim_control, Node};
use serde_json::{json, Value};

const SURNAMES: [&str; 10] = ["张", "王", "李", "赵", "刘", "陈", "杨", "黄", "周", "吴"];
const GIVEN: [&str; 10] = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋"];

fn name(i: usize) -> String {
    format!(
        "{}{}{}",
        SURNAMES[i % 10],
        GIVEN[(i / 10) % 10],
        if i < 100 { "" } else { GIVEN[i / 100 % 10] }
    )
}

fn phone(i: usize) -> String {
    format!("1390000{i:04}")
}

/// 1,000 contacts in GBK, half of them in 应急办, plus two bad lines.
fn gbk_csv() -> Vec<u8> {
    let mut text = String::from("姓名,手机,单位,标签\n");
    for i in 0..1000 {
        let unit = if i % 2 == 0 { "应急办" } else { "消防队" };
        text.push_str(&format!(
            "{},{},{unit},{}\n",
            name(i),
            phone(i),
            if i % 10 == 0 { "值班" } else { "" }
        ));
        if i == 500 {
            text.push_str("坏号码,12ab34,应急办,\n");
        }
    }
    text.push_str(",13900009999,应急办,\n");
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(&text);
    assert!(!unmappable);
    bytes.into_owned()
}

fn call(node: &Node, key: &str, method: &str, path: &str, body: Option<&Value>) -> common::Resp {
    let bytes = body.map(|b| b.to_string().into_bytes());
    node.call(method, path, Some(key), bytes.as_deref())
}

/// Submits the simulator received, by destination.
fn ledger(sim: &str) -> BTreeMap<String, Vec<String>> {
    let r = http(sim, "GET", "/submits?limit=100000", None, None);
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for s in r.body.as_array().cloned().unwrap_or_default() {
        let to = s["destination"].as_str().unwrap_or("").to_string();
        out.entry(to)
            .or_default()
            .push(s["text"].as_str().unwrap_or("").to_string());
    }
    out
}

fn wait_job(node: &Node, key: &str, id: u64, until: impl Fn(&Value) -> bool, secs: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let r = call(node, key, "GET", &format!("/v1/jobs/{id}"), None);
        assert_eq!(r.status, 200, "{:?}", r.body);
        if until(&r.body) {
            return r.body;
        }
        assert!(
            Instant::now() < deadline,
            "job {id} did not get there in {secs} s: {}",
            r.body
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_gbk_book_of_a_thousand_becomes_a_group_send_that_skips_two_members_and_fills_each_name() {
    let node = Node::start(&[]);
    let key = node.demo_key();
    let sim = sim_control(&node);

    let r = node.call("POST", "/v1/contacts/import", Some(&key), Some(&gbk_csv()));
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["encoding"], "gbk");
    assert_eq!(r.body["created"], 1000, "{:?}", r.body);
    let lines: Vec<u64> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_u64().unwrap())
        .collect();
    assert_eq!(
        lines,
        vec![503, 1003],
        "bad lines are reported by line number: {:?}",
        r.body["errors"]
    );
    // The same file again changes nothing: matched by number.
    let again = node.call("POST", "/v1/contacts/import", Some(&key), Some(&gbk_csv()));
    assert_eq!(
        (again.body["created"].as_u64(), again.body["updated"].as_u64()),
        (Some(0), Some(1000))
    );
    let all = call(&node, &key, "GET", "/v1/contacts?limit=1", None);
    assert_eq!(all.body["total"], 1000);

    // 张伟 by pinyin initials, and by the last four digits of a number.
    let hits = call(&node, &key, "GET", "/v1/contacts?q=zw", None);
    let names: Vec<&str> = hits.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert!(names.contains(&"张伟"), "{names:?}");
    let by_tail = call(&node, &key, "GET", "/v1/contacts?q=0007", None);
    assert_eq!(by_tail.body["items"][0]["phones"][0], phone(7));

    let g = call(
        &node,
        &key,
        "POST",
        "/v1/groups",
        Some(&json!({"name": "应急办全员", "units": ["应急办"]})),
    );
    assert_eq!(g.status, 201, "{:?}", g.body);
    // A group name is unique, and a group cannot include itself.
    let dup = call(
        &node,
        &key,
        "POST",
        "/v1/groups",
        Some(&json!({"name": "应急办全员"})),
    );
    assert_eq!((dup.status, dup.code()), (409, "conflict"));
    let outer = call(
        &node,
        &key,
        "POST",
        "/v1/groups",
        Some(&json!({"name": "全局", "groups": ["应急办全员"]})),
    );
    assert_eq!(outer.status, 201, "{:?}", outer.body);
    let cyc = call(
        &node,
        &key,
        "PATCH",
        "/v1/groups/应急办全员",
        Some(&json!({"groups": ["全局"]})),
    );
    assert_eq!((cyc.status, cyc.code()), (400, "group_cycle"), "{:?}", cyc.body);
    // A number belongs to one contact.
    let taken = call(
        &node,
        &key,
        "POST",
        "/v1/contacts",
        Some(&json!({"name": "重复", "phones": [phone(3)]})),
    );
    assert_eq!(
        (taken.status, taken.code()),
        (409, "conflict"),
        "{:?}",
        taken.body
    );
    let members = call(&node, &key, "GET", "/v1/groups/应急办全员/members", None);
    assert_eq!(members.body["count"], 500);
    let skip: Vec<u64> = members.body["items"].as_array().unwrap()[..2]
        .iter()
        .map(|c| c["id"].as_u64().unwrap())
        .collect();
    let skipped_phones: Vec<String> = members.body["items"].as_array().unwrap()[..2]
        .iter()
        .map(|c| c["phones"][0].as_str().unwrap().to_string())
        .collect();
    let t = call(
        &node,
        &key,
        "POST",
        "/v1/templates",
        Some(&json!({"name": "集合", "text": "{name}同志：请于{time}到{place}集合。", "category": "通知"})),
    );
    assert_eq!(t.status, 201, "{:?}", t.body);

    // Bad input is named and nothing is sent.
    let send = |body: Value| call(&node, &key, "POST", "/v1/messages", Some(&body));
    let r = send(json!({"to_groups": ["应急办全员"], "template": "集合", "vars": {"time": "8点"}}));
    assert_eq!((r.status, r.code()), (400, "unfilled_variable"), "{:?}", r.body);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("{place}"));
    let r = send(json!({"to_groups": ["没有这个组"], "text": "x"}));
    assert_eq!((r.status, r.code()), (404, "not_found"));
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("没有这个组"));
    let r = send(json!({"to_groups": ["应急办全员"], "template": "没有"}));
    assert_eq!(r.status, 404);
    let r = send(json!({"to_groups": ["应急办全员"], "text": "x", "send_at": "2020-01-01T00:00:00+08:00"}));
    assert_eq!((r.status, r.code()), (400, "invalid_send_at"));
    call(
        &node,
        &key,
        "POST",
        "/v1/groups",
        Some(&json!({"name": "空组", "tags": ["没有人"]})),
    );
    let r = send(json!({"to_groups": ["空组"], "text": "x"}));
    assert_eq!((r.status, r.code()), (400, "empty_group"));
    assert!(ledger(&sim).is_empty(), "nothing was sent for refused requests");

    let r = send(json!({
        "to_groups": ["应急办全员"], "exclude_contacts": skip, "template": "集合",
        "vars": {"time": "8点", "place": "三号楼"}, "priority": "high",
    }));
    assert_eq!(r.status, 202, "{:?}", r.body);
    assert_eq!(r.body["recipients"], 498);
    let job = r.body["job"].as_u64().unwrap();
    let done = wait_job(&node, &key, job, |j| j["by_status"]["DELIVERED"] == 498, 90);
    assert_eq!(done["status"], "DONE");

    let got = ledger(&sim);
    assert_eq!(got.len(), 498, "every member but two, once each");
    for p in &skipped_phones {
        assert!(!got.contains_key(p), "{p} was excluded");
    }
    for (i, c) in members.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .skip(2)
    {
        let to = c["phones"][0].as_str().unwrap();
        let texts = &got[to];
        assert_eq!(texts.len(), 1, "{to} got {texts:?}");
        assert_eq!(
            texts[0],
            format!("{}同志：请于8点到三号楼集合。", c["name"].as_str().unwrap()),
            "member {i}"
        );
    }
    let t = call(&node, &key, "GET", "/v1/templates/集合", None);
    assert_eq!(t.body["uses"], 498);

    // Records and statistics agree with the carrier's ledger.
    let recs = call(
        &node,
        &key,
        "GET",
        &format!("/v1/records?job={job}&status=DELIVERED&limit=500"),
        None,
    );
    let items = recs.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 498, "{}", recs.body);
    for it in items {
        let to = it["to"].as_str().unwrap();
        assert_eq!(got[to][0], it["text"].as_str().unwrap());
        assert!(it["text"]
            .as_str()
            .unwrap()
            .starts_with(it["contact"]["name"].as_str().unwrap()));
    }
    let one = &items[0];
    let by_contact = call(
        &node,
        &key,
        "GET",
        &format!("/v1/records?contact={}", one["contact"]["id"]),
        None,
    );
    assert_eq!(by_contact.body["items"].as_array().unwrap().len(), 1);
    let by_group = call(&node, &key, "GET", "/v1/records?group=应急办全员&limit=500", None);
    assert_eq!(by_group.body["items"].as_array().unwrap().len(), 498);
    let csv = node.call(
        "GET",
        &format!("/v1/records?job={job}&format=csv"),
        Some(&key),
        None,
    );
    assert_eq!(csv.status, 200);
    assert_eq!(
        csv.body.as_str().unwrap().lines().count(),
        499,
        "a header and 498 rows"
    );

    let stats = call(&node, &key, "GET", "/v1/stats?by=group", None);
    let row = &stats.body["rows"].as_array().unwrap()[0];
    assert_eq!(row["key"], "应急办全员", "{}", stats.body);
    assert_eq!(row["sent"]["messages"], 498);
    assert_eq!(row["delivered"]["messages"], 498);
    let total = call(&node, &key, "GET", "/v1/stats?period=month", None);
    let rows = total.body["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{}", total.body);
    assert_eq!(
        rows[0]["sent"]["messages"].as_u64(),
        Some(got.values().map(Vec::len).sum::<usize>() as u64)
    );
    let by_carrier = call(&node, &key, "GET", "/v1/stats?by=carrier", None);
    let sent: u64 = by_carrier.body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["sent"]["messages"].as_u64())
        .sum();
    assert_eq!(sent, 498);
    let bad = call(&node, &key, "GET", "/v1/stats?period=year", None);
    assert_eq!((bad.status, bad.code()), (422, "invalid_parameter"));
    assert_eq!(t.body["variables"], json!(["name", "time", "place"]));
}

#[test]
fn a_scheduled_job_fires_once_at_its_time_and_a_cancelled_one_never() {
    let node = Node::start(&[]);
    let key = node.demo_key();
    let sim = sim_control(&node);
    let at = |secs: i64| (chrono::Utc::now() + chrono::Duration::seconds(secs)).to_rfc3339();
    let to = ["13900000001", "13900000002", "13900000003"];
    let r = call(
        &node,
        &key,
        "POST",
        "/v1/messages",
        Some(&json!({"to": to, "text": "演练通知", "send_at": at(3)})),
    );
    assert_eq!(r.status, 202, "{:?}", r.body);
    assert_eq!(r.body["scheduled"], true);
    assert!(
        r.body["send_at"].as_str().unwrap().ends_with("+08:00"),
        "shown in Beijing time"
    );
    let job = r.body["job"].as_u64().unwrap();
    let later = call(
        &node,
        &key,
        "POST",
        "/v1/messages",
        Some(&json!({"to": ["13900000004"], "text": "取消", "send_at": at(60)})),
    );
    let later_job = later.body["job"].as_u64().unwrap();
    assert_eq!(
        call(&node, &key, "GET", &format!("/v1/jobs/{job}"), None).body["status"],
        "SCHEDULED"
    );
    assert!(ledger(&sim).is_empty(), "nothing before its time");

    let c = call(&node, &key, "DELETE", &format!("/v1/jobs/{later_job}"), None);
    assert_eq!(
        (c.status, c.body["not_sent"].as_u64()),
        (200, Some(1)),
        "{:?}",
        c.body
    );
    let c = call(&node, &key, "DELETE", &format!("/v1/jobs/{later_job}"), None);
    assert_eq!(c.status, 409, "a cancelled job cannot be cancelled again");

    let done = wait_job(&node, &key, job, |j| j["status"] == "DONE", 30);
    assert!(done["late_ms"].as_u64().unwrap() < 5_000, "{done}");
    wait_job(&node, &key, job, |j| j["by_status"]["DELIVERED"] == 3, 30);
    let got = ledger(&sim);
    for n in to {
        assert_eq!(got.get(n).map(Vec::len), Some(1), "{n}: {got:?}");
    }
    assert!(!got.contains_key("13900000004"), "the cancelled job sent nothing");
    assert_eq!(
        call(&node, &key, "GET", &format!("/v1/jobs/{later_job}"), None).body["status"],
        "CANCELLED"
    );
}

#[test]
fn a_job_due_while_the_node_was_down_fires_on_restart_and_says_how_late() {
    let node = Node::start(&[]);
    let key = node.demo_key();
    let at = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    let r = call(
        &node,
        &key,
        "POST",
        "/v1/messages",
        Some(&json!({"to": ["13900000077"], "text": "补发", "send_at": at})),
    );
    assert_eq!(r.status, 202, "{:?}", r.body);
    let job = r.body["job"].as_u64().expect("job");
    let (ok, err, dir) = node.terminate();
    assert!(ok, "{err}");
    // Down past the job's time.
    std::thread::sleep(Duration::from_secs(4));
    let node = Node::start_in(dir, &[]);
    let sim = sim_control(&node);
    let done = wait_job(&node, &key, job, |j| j["status"] == "DONE", 30);
    assert!(
        done["late_ms"].as_u64().unwrap_or(0) >= 1_500,
        "it says how late: {done}"
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while ledger(&sim).get("13900000077").map(Vec::len) != Some(1) {
        assert!(
            Instant::now() < deadline,
            "the late job never reached the carrier"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}
