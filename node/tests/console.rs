//! Console sessions over real HTTP on a three-node cluster: sign-in by
//! password (argon2, users made with the CLI) and by API key, the cookie's
//! flags, a session accepted by every node, CSRF on writes, account
//! scoping and admin-only endpoints, tampering, failed sign-ins limited,
//! a removed user's session ending, sign-out, and the console's files.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::sim_cluster::{cluster, Sim, KEY};
use serde_json::{json, Value};

struct Answer {
    status: u16,
    head: String,
    body: Value,
}

/// One HTTP/1.1 request with extra headers (`Connection: close`).
fn call(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Answer {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).ok();
    let body = body.unwrap_or("");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\nContent-Type: application/json\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).expect("write");
    s.write_all(body.as_bytes()).expect("write body");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read");
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, rest) = text.split_once("\r\n\r\n").expect("http response");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    let body = serde_json::from_str(rest).unwrap_or(Value::String(rest.to_string()));
    Answer {
        status,
        head: head.to_string(),
        body,
    }
}

fn login(addr: &str, body: Value) -> Answer {
    call(addr, "POST", "/console/api/login", &[], Some(&body.to_string()))
}

/// The session cookie (`smsgw_session=...`) a sign-in set.
fn cookie_of(a: &Answer) -> String {
    a.head
        .lines()
        .find_map(|l| {
            l.strip_prefix("set-cookie: ")
                .or_else(|| l.strip_prefix("Set-Cookie: "))
        })
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_string()
}

fn add_user(
    dir: &std::path::Path,
    raft: &str,
    name: &str,
    password: &str,
    role: &str,
    account: Option<&str>,
) {
    let mut args = vec![
        "users",
        "add",
        name,
        "--role",
        role,
        "--addr",
        raft,
        "--password-stdin",
    ];
    if let Some(a) = account {
        args.extend(["--account", a]);
    }
    let mut child = Command::new(common::BIN)
        .args(&args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn smsgw users add");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{password}\n").as_bytes())
        .expect("password");
    let out = child.wait_with_output().expect("users add");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "users add: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!stdout.contains(password), "the password is never printed");
}

#[test]
fn sessions_work_on_every_node_and_guard_writes() {
    let sim = Sim::start();
    let nodes = cluster(&sim, 100);
    let dir = nodes[0].dir.path();
    add_user(
        dir,
        &nodes[0].raft,
        "ops",
        "ops-pass-123",
        "dispatcher",
        Some("app"),
    );
    add_user(dir, &nodes[0].raft, "root", "root-pass-123", "admin", None);
    let (a, b, c) = (&nodes[0].http, &nodes[1].http, &nodes[2].http);

    // Wrong password: 401 bad_credentials, no cookie; no hint which was wrong.
    let bad = login(b, json!({"username": "ops", "password": "nope-nope"}));
    assert_eq!(
        (bad.status, bad.body["error"]["code"].as_str()),
        (401, Some("bad_credentials"))
    );
    assert!(!bad.head.to_ascii_lowercase().contains("set-cookie"));
    let unknown = login(b, json!({"username": "nobody", "password": "nope-nope"}));
    assert_eq!(unknown.body["error"]["message"], bad.body["error"]["message"]);

    // Right password on node 2: the cookie is HttpOnly and SameSite=Strict.
    let ok = login(b, json!({"username": "ops", "password": "ops-pass-123"}));
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    assert_eq!(
        (ok.body["role"].as_str(), ok.body["account"].as_str()),
        (Some("dispatcher"), Some("app"))
    );
    let set = ok
        .head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie"))
        .expect("set-cookie");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/"),
        "{set}"
    );
    let cookie = cookie_of(&ok);
    let csrf = ok.body["csrf"].as_str().expect("csrf").to_string();

    // The session is accepted by every node (signed with the cluster secret).
    for n in [a, b, c] {
        let r = call(n, "GET", "/v1/records?limit=5", &[("Cookie", &cookie)], None);
        assert_eq!(r.status, 200, "{n}: {:?}", r.body);
        let me = call(n, "GET", "/console/api/session", &[("Cookie", &cookie)], None);
        assert_eq!(me.body["user"], "ops");
        assert_eq!(me.body["csrf"], csrf.as_str(), "the same CSRF token everywhere");
    }

    // A write with the cookie needs the CSRF token.
    let send = json!({"to": ["13800138000"], "text": "会话发送"}).to_string();
    let r = call(c, "POST", "/v1/messages", &[("Cookie", &cookie)], Some(&send));
    assert_eq!(
        (r.status, r.body["error"]["code"].as_str()),
        (403, Some("csrf_failed"))
    );
    let r = call(
        c,
        "POST",
        "/v1/messages",
        &[("Cookie", &cookie), ("x-csrf-token", "00ff")],
        Some(&send),
    );
    assert_eq!(r.status, 403);
    let r = call(
        c,
        "POST",
        "/v1/messages",
        &[("Cookie", &cookie), ("x-csrf-token", &csrf)],
        Some(&send),
    );
    assert_eq!(r.status, 202, "{:?}", r.body);
    let id = r.body["messages"][0]["id"].as_str().expect("id").to_string();
    // The message is the account's: its key reads it.
    let by_key = call(
        a,
        "GET",
        &format!("/v1/messages/{id}"),
        &[("Authorization", &format!("Bearer {KEY}"))],
        None,
    );
    assert_eq!(by_key.status, 200, "{:?}", by_key.body);

    // A dispatcher is no admin; a tampered token is nobody.
    let r = call(a, "GET", "/v1/admin/users", &[("Cookie", &cookie)], None);
    assert_eq!(
        (r.status, r.body["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
    let token = cookie.trim_start_matches("smsgw_session=");
    let (payload, tag) = token.split_once('.').expect("token");
    let forged_payload = hex_of(
        &String::from_utf8(hex_decode(payload))
            .expect("utf8")
            .replace("|dispatcher|", "|admin|"),
    );
    let forged = format!("smsgw_session={forged_payload}.{tag}");
    let r = call(a, "GET", "/v1/admin/users", &[("Cookie", &forged)], None);
    assert_eq!(r.status, 401, "{:?}", r.body);

    // The API key signs in too (the demo's way), scoped to its account.
    let k = login(a, json!({"key": KEY}));
    assert_eq!((k.status, k.body["account"].as_str()), (200, Some("app")));
    let k = login(a, json!({"key": "sk_wrong_key_0000000000"}));
    assert_eq!(k.status, 401);

    // An admin session manages users; removing one ends its sessions.
    let root = login(c, json!({"username": "root", "password": "root-pass-123"}));
    assert_eq!(root.status, 200, "{:?}", root.body);
    let rc = cookie_of(&root);
    let rcsrf = root.body["csrf"].as_str().expect("csrf").to_string();
    let list = call(a, "GET", "/v1/admin/users", &[("Cookie", &rc)], None);
    assert_eq!(list.status, 200, "{:?}", list.body);
    let names: Vec<&str> = list.body["users"]
        .as_array()
        .expect("users")
        .iter()
        .filter_map(|u| u["username"].as_str())
        .collect();
    assert_eq!(names, ["ops", "root"]);
    assert!(!list.body.to_string().contains("argon2"), "no hash in answers");
    let made = call(
        a,
        "POST",
        "/v1/admin/users",
        &[("Cookie", &rc), ("x-csrf-token", &rcsrf)],
        Some(
            &json!({"username": "li", "password": "short", "role": "officer", "account": "app"}).to_string(),
        ),
    );
    assert_eq!(
        (made.status, made.body["error"]["code"].as_str()),
        (422, Some("invalid_parameter"))
    );
    let made = call(
        a,
        "POST",
        "/v1/admin/users",
        &[("Cookie", &rc), ("x-csrf-token", &rcsrf)],
        Some(
            &json!({"username": "li", "password": "officer-pass", "role": "officer", "account": "app"})
                .to_string(),
        ),
    );
    assert_eq!(made.status, 201, "{:?}", made.body);
    let li = login(b, json!({"username": "li", "password": "officer-pass"}));
    assert_eq!(
        li.status, 200,
        "a user made through the API signs in on another node: {:?}",
        li.body
    );
    let r = call(
        b,
        "GET",
        "/v1/records?limit=5",
        &[("Cookie", &cookie_of(&li))],
        None,
    );
    assert_eq!(
        r.status, 403,
        "an officer's session reaches only the alarm desk: {:?}",
        r.body
    );
    let gone = call(
        a,
        "DELETE",
        "/v1/admin/users/ops",
        &[("Cookie", &rc), ("x-csrf-token", &rcsrf)],
        None,
    );
    assert_eq!(gone.status, 204, "{:?}", gone.body);
    std::thread::sleep(Duration::from_millis(500));
    for n in [a, b, c] {
        let r = call(n, "GET", "/v1/records?limit=5", &[("Cookie", &cookie)], None);
        assert_eq!(r.status, 401, "a removed user's session ends on {n}");
    }

    // A stale cookie never stops a sign-in, and reads as nobody.
    let again = call(
        b,
        "POST",
        "/console/api/login",
        &[("Cookie", &cookie)],
        Some(&json!({"username": "root", "password": "root-pass-123"}).to_string()),
    );
    assert_eq!(again.status, 200, "{:?}", again.body);
    let me = call(b, "GET", "/console/api/session", &[("Cookie", &cookie)], None);
    assert_eq!((me.status, &me.body["user"]), (200, &Value::Null));

    // Sign-out clears the cookie.
    let out = call(
        a,
        "POST",
        "/console/api/logout",
        &[("Cookie", &rc), ("x-csrf-token", &rcsrf)],
        None,
    );
    assert_eq!(out.status, 200);
    assert!(out.head.contains("Max-Age=0"), "{}", out.head);

    // Failed sign-ins are limited per name: the sixth try is refused even
    // with the right password.
    for _ in 0..5 {
        assert_eq!(
            login(a, json!({"username": "li", "password": "wrong-wrong"})).status,
            401
        );
    }
    let limited = login(a, json!({"username": "li", "password": "officer-pass"}));
    assert_eq!(
        (limited.status, limited.body["error"]["code"].as_str()),
        (429, Some("too_many_sign_ins"))
    );
    assert!(limited.head.to_ascii_lowercase().contains("retry-after"));

    // The console itself: the page and its files, from the binary.
    let page = call(a, "GET", "/", &[], None);
    assert_eq!(page.status, 200);
    assert!(page
        .body
        .as_str()
        .unwrap_or("")
        .contains("/console/assets/app.js"));
    assert!(page
        .head
        .to_ascii_lowercase()
        .contains("content-security-policy: default-src 'self'"));
    for f in [
        "app.js",
        "pages.js",
        "i18n.js",
        "app.css",
        "uPlot.iife.min.js",
        "uPlot.min.css",
    ] {
        let r = call(a, "GET", &format!("/console/assets/{f}"), &[], None);
        assert_eq!(r.status, 200, "{f}");
    }
    assert_eq!(call(a, "GET", "/console/assets/nope.js", &[], None).status, 404);
}

fn hex_decode(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn hex_of(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}
