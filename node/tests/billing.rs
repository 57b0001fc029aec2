//! Accounts under the service agreement, end to end: one real node, the
//! simulator in its own process as the carrier. Concurrent clients spend a
//! prepaid balance exactly; top-ups count once by reference; content rules
//! reject, or hold for review; an opt-out MO stops later sends uncharged;
//! idle accounts freeze and close; a statement adds up.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::sim_cluster::{apply_text, carrier, texts_to, Sim};
use common::{http, start_cluster, Node};
use serde_json::{json, Value};

const SHOP: &str = "sk_shop_0123456789abcdef";
const MKT: &str = "sk_market_0123456789abcdef";
const REV: &str = "sk_review_0123456789abcdef";
const ADMIN: &str = "sk_admin_0123456789abcdef";
const NARROW: &str = "sk_narrow_0123456789abcdef";

fn accounts(rules: &str) -> String {
    format!(
        r#"
[admin]
api_keys = ["{ADMIN}"]

[billing]
{rules}

[content.categories]
fraud = ["发票"]

[[accounts]]
name = "shop"
api_keys = ["{SHOP}"]
balance = 1000
[accounts.billing]
price_fen = 5
contact_phone = "13700000001"
low_balance_parts = 100

[[accounts]]
name = "mkt"
api_keys = ["{MKT}"]
balance = 50
service_codes = ["1069000888"]
[accounts.billing]
kind = "marketing"

[[accounts]]
name = "rev"
api_keys = ["{REV}"]
balance = 50
[accounts.billing]
content = "review"

[[accounts]]
name = "narrow"
api_keys = ["{NARROW}"]
balance = 5
[accounts.billing]
carriers = ["elsewhere"]
"#
    )
}

fn node_with(sim: &Sim, rules: &str) -> Vec<Node> {
    let nodes = start_cluster(1);
    apply_text(&nodes, &format!("{}{}", carrier(sim, 2000), accounts(rules)));
    // The billing worker opens each prepaid account with its balance.
    for key in [SHOP, MKT, REV] {
        wait(
            &nodes[0],
            key,
            "/v1/account",
            |v| v["balance"].as_u64().is_some_and(|b| b > 0),
            20,
        );
    }
    nodes
}

fn call(node: &Node, key: &str, method: &str, path: &str, body: Option<Value>) -> common::Resp {
    let bytes = body.map(|b| b.to_string().into_bytes());
    node.call(method, path, Some(key), bytes.as_deref())
}

fn wait(node: &Node, key: &str, path: &str, until: impl Fn(&Value) -> bool, secs: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let r = call(node, key, "GET", path, None);
        if r.status == 200 && until(&r.body) {
            return r.body;
        }
        assert!(
            Instant::now() < deadline,
            "GET {path} never got there: {} {:?}",
            r.status,
            r.body
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn sixty_four_clients_spend_exactly_the_balance_and_a_top_up_counts_once() {
    let sim = Sim::start();
    let nodes = node_with(&sim, "");
    let node = &nodes[0];
    let long: String = "应急演练通知".repeat(25); // 150 characters: 3 parts in UCS-2
    let spent = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    std::thread::scope(|s| {
        for c in 0..64 {
            let (spent, refused, long, http_addr) =
                (spent.clone(), refused.clone(), long.clone(), node.http.clone());
            s.spawn(move || {
                for i in 0..40 {
                    let (text, parts) = if (c + i) % 2 == 0 {
                        ("通知".to_string(), 1)
                    } else {
                        (long.clone(), 3)
                    };
                    let body = json!({"to": [format!("139{c:02}{i:06}")], "text": text}).to_string();
                    let r = http(
                        &http_addr,
                        "POST",
                        "/v1/messages",
                        Some(SHOP),
                        Some(body.as_bytes()),
                    );
                    match r.status {
                        202 => {
                            spent.fetch_add(parts, Ordering::SeqCst);
                        }
                        402 => {
                            assert_eq!(r.code(), "insufficient_balance");
                            refused.fetch_add(1, Ordering::SeqCst);
                        }
                        other => panic!("unexpected {other}: {:?}", r.body),
                    }
                }
            });
        }
    });
    let spent = spent.load(Ordering::SeqCst);
    assert!(refused.load(Ordering::SeqCst) > 0, "the balance ran out");
    let me = call(node, SHOP, "GET", "/v1/account", None).body;
    let left = me["balance"].as_u64().expect("balance");
    assert_eq!(
        spent + left,
        1000,
        "exactly the accepted parts were charged: {me}"
    );
    assert!(
        left < 3,
        "nothing was refused that the balance could pay... beyond a 3-part message: {left}"
    );

    // The contact phone was told of the low balance, once.
    let deadline = Instant::now() + Duration::from_secs(20);
    while texts_to(&sim, "13700000001").is_empty() {
        assert!(Instant::now() < deadline, "no low-balance notice");
        std::thread::sleep(Duration::from_millis(200));
    }
    let notices = texts_to(&sim, "13700000001");
    assert!(notices[0].contains("余额不足"), "{notices:?}");

    // Top-ups: admin only; the same ref counts once.
    let denied = call(
        node,
        SHOP,
        "POST",
        "/v1/admin/accounts/shop/topups",
        Some(json!({"parts": 10, "ref": "r1"})),
    );
    assert_eq!((denied.status, denied.code()), (403, "forbidden"));
    let t1 = call(
        node,
        ADMIN,
        "POST",
        "/v1/admin/accounts/shop/topups",
        Some(json!({"parts": 10, "ref": "r1"})),
    );
    assert_eq!(t1.status, 201, "{:?}", t1.body);
    let t2 = call(
        node,
        ADMIN,
        "POST",
        "/v1/admin/accounts/shop/topups",
        Some(json!({"parts": 10, "ref": "r1"})),
    );
    assert!(t2.headers.contains("idempotent-replayed: true"));
    assert_eq!(
        call(node, SHOP, "GET", "/v1/account", None).body["balance"].as_u64(),
        Some(left + 10)
    );

    // The operator's CLI: a top-up by reference, then the statement as CSV.
    let api = format!("http://{}", node.http);
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--api", &api, "--key", ADMIN]);
        common::cli(node.dir.path(), &all)
    };
    let (ok, out, err) = run(&["accounts", "topup", "shop", "5", "--ref", "cli-1"]);
    assert!(ok && out.contains("\"balance\""), "{out}{err}");
    let (ok, out, err) = run(&["accounts", "statement", "shop", "--csv"]);
    assert!(ok && out.contains(",,topups,1015"), "{out}{err}");
    let left = left + 5;

    // The ledger and the statement add up; another account cannot read them.
    let st = call(node, SHOP, "GET", "/v1/accounts/shop/statement", None).body;
    assert_eq!(st["topups"].as_u64(), Some(1015), "{st}");
    assert_eq!(st["charges"].as_u64(), Some(spent), "{st}");
    assert_eq!(st["closing_balance"].as_u64(), Some(left + 10), "{st}");
    assert_eq!(st["amount_fen"].as_u64(), Some(spent * 5));
    let other = call(node, MKT, "GET", "/v1/accounts/shop/ledger", None);
    assert_eq!((other.status, other.code()), (403, "forbidden"));
}

#[test]
fn content_rules_opt_outs_and_an_idle_account_freezing_then_closing() {
    let sim = Sim::start();
    let nodes = node_with(&sim, "freeze_after_secs = 600\nclose_after_secs = 900");
    let node = &nodes[0];
    let send = |key: &str, to: &str, text: &str| {
        call(
            node,
            key,
            "POST",
            "/v1/messages",
            Some(json!({"to": [to], "text": text})),
        )
    };

    // Marketing needs a signature and an opt-out hint; banned words in evasive spellings are refused.
    let r = send(MKT, "13900000001", "新品上市");
    assert_eq!((r.status, r.code()), (422, "content_rejected"), "{:?}", r.body);
    let r = send(MKT, "13900000001", "【影楼】代开發 票，拒收请回复R");
    assert_eq!((r.status, r.code()), (422, "content_rejected"));
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap_or("")
        .contains("fraud"));
    assert!(
        !r.body["error"]["message"].as_str().unwrap_or("").contains("发票"),
        "never the word list"
    );
    let r = send(MKT, "13900000001", "【影楼】新品上市，拒收请回复R");
    assert_eq!(r.status, 202, "{:?}", r.body);
    // An account limited to other carriers cannot use this route.
    let r = send(NARROW, "13900000001", "通知");
    assert_eq!((r.status, r.code()), (403, "forbidden"), "{:?}", r.body);

    // Review: held, then approved (sent) or rejected (refunded).
    let held = send(REV, "13900000002", "代开发票");
    assert_eq!(held.status, 202, "{:?}", held.body);
    assert_eq!(held.body["held_for_review"], true);
    let rejected = send(REV, "13900000003", "代开发票请联系");
    let before = call(node, REV, "GET", "/v1/account", None).body["balance"].as_u64();
    let list = call(node, ADMIN, "GET", "/v1/admin/review", None).body;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(2), "{list}");
    let (a, b) = (
        held.body["job"].as_u64().unwrap_or(0),
        rejected.body["job"].as_u64().unwrap_or(0),
    );
    let ok = call(
        node,
        ADMIN,
        "POST",
        &format!("/v1/admin/review/{a}"),
        Some(json!({"decision": "approve"})),
    );
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    let no = call(
        node,
        ADMIN,
        "POST",
        &format!("/v1/admin/review/{b}"),
        Some(json!({"decision": "reject", "note": "违规内容"})),
    );
    assert_eq!(no.status, 200, "{:?}", no.body);
    let job = wait(
        node,
        REV,
        &format!("/v1/jobs/{b}"),
        |j| j["status"] == "CANCELLED",
        10,
    );
    assert_eq!(job["review"], "违规内容", "the sender is told why");
    let after = call(node, REV, "GET", "/v1/account", None).body["balance"].as_u64();
    assert_eq!(after, before.map(|b| b + 1), "the rejected message was refunded");
    let deadline = Instant::now() + Duration::from_secs(20);
    while texts_to(&sim, "13900000002").is_empty() {
        assert!(Instant::now() < deadline, "the approved message never went out");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(texts_to(&sim, "13900000003").is_empty());

    // 退订 from a number: on the opt-out list, told so, later sends skipped and not charged.
    let mo = json!({"protocol": "cmpp", "account": sim.login, "from": "13900000009", "to": "1069000888", "text": "退订"});
    let r = http(&sim.control, "POST", "/mo", None, Some(mo.to_string().as_bytes()));
    assert!(r.status < 300, "{:?}", r.body);
    wait(
        node,
        MKT,
        "/v1/optouts",
        |v| v["items"][0]["number"] == "13900000009",
        20,
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while !texts_to(&sim, "13900000009").iter().any(|t| t.contains("退订")) {
        assert!(Instant::now() < deadline, "no opt-out confirmation");
        std::thread::sleep(Duration::from_millis(200));
    }
    let balance = call(node, MKT, "GET", "/v1/account", None).body["balance"].as_u64();
    let r = send(MKT, "13900000009", "【影楼】新品上市，拒收请回复R");
    assert_eq!(r.status, 202);
    assert_eq!(r.body["rejected"][0]["reason"], "opted_out", "{:?}", r.body);
    assert_eq!(
        call(node, MKT, "GET", "/v1/account", None).body["balance"].as_u64(),
        balance
    );
    let stats = call(node, MKT, "GET", "/v1/stats", None).body;
    assert_eq!(
        stats["rows"][0]["mo"]["messages"], 1,
        "the MO is counted for its account: {stats}"
    );

    // Idle accounts: seconds instead of a month.
    apply_text(
        &nodes,
        &format!(
            "{}{}",
            carrier(&sim, 2000),
            accounts("freeze_after_secs = 2\nclose_after_secs = 6")
        ),
    );
    wait(node, SHOP, "/v1/account", |v| v["status"] == "FROZEN", 20);
    let r = send(SHOP, "13900000010", "通知");
    assert_eq!((r.status, r.code()), (403, "account_frozen"));
    let t = call(
        node,
        ADMIN,
        "POST",
        "/v1/admin/accounts/shop/topups",
        Some(json!({"parts": 5, "ref": "unfreeze"})),
    );
    assert_eq!(t.body["status"], "ACTIVE", "a top-up unfreezes: {:?}", t.body);
    assert_eq!(send(SHOP, "13900000010", "通知").status, 202);
    wait(
        node,
        ADMIN,
        "/v1/admin/accounts/mkt",
        |v| v["status"] == "CLOSED",
        30,
    );
    let r = call(node, MKT, "GET", "/v1/account", None);
    assert_eq!(
        (r.status, r.code()),
        (403, "account_closed"),
        "a closed account's keys stop working"
    );
}
