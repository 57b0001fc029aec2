//! HTTPS on the HTTP API of a real node (`http_tls_cert` / `http_tls_key`
//! in the node file, a self-signed certificate made here): a client that
//! trusts the certificate gets 202 for a POST; plain HTTP and a client that
//! does not trust it fail; silent connections are closed (handshake and
//! header timeouts); SIGTERM still ends the node with a keep-alive HTTPS
//! connection open; `smsgw send` reaches it with `--ca-cert`; a bad certificate or key stops the start with an error
//! naming the key and the file.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{cli, http, Node, BIN};
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::{json, Value};

const KEY: &str = "sk_tls_test_0123456789abcdef";

/// A self-signed certificate for localhost and 127.0.0.1: (cert PEM, key PEM, DER).
fn self_signed() -> (String, String, CertificateDer<'static>) {
    let c = rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .expect("rcgen");
    (c.cert.pem(), c.key_pair.serialize_pem(), c.cert.der().clone())
}

fn client_config(trusted: &CertificateDer<'static>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(trusted.clone()).expect("root");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(cfg)
}

type Tls = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

/// A TLS connection to `addr`, handshake done (or its error).
fn connect(addr: &str, cfg: &Arc<rustls::ClientConfig>) -> std::io::Result<Tls> {
    let tcp = TcpStream::connect(addr)?;
    tcp.set_read_timeout(Some(Duration::from_secs(15)))?;
    let name = ServerName::try_from("localhost").expect("name");
    let conn = rustls::ClientConnection::new(cfg.clone(), name).map_err(std::io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock)?;
    }
    Ok(tls)
}

/// One HTTPS request with `Connection: close`: (status, JSON body).
fn https(addr: &str, cfg: &Arc<rustls::ClientConfig>, method: &str, path: &str, body: &[u8]) -> (u16, Value) {
    let mut tls = connect(addr, cfg).expect("tls connect");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nAuthorization: Bearer {KEY}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    tls.write_all(head.as_bytes()).expect("write");
    tls.write_all(body).expect("write body");
    let mut raw = Vec::new();
    // A peer that closes without close_notify ends in UnexpectedEof: the
    // response read so far is still judged.
    if let Err(e) = tls.read_to_end(&mut raw) {
        assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof, "{e}");
    }
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, rest) = text.split_once("\r\n\r\n").expect("an HTTP response");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    (
        status,
        serde_json::from_str(rest).unwrap_or(Value::String(rest.into())),
    )
}

/// A node whose API speaks HTTPS with `cert`/`key` as written in its node file.
fn tls_node(cert: &str, key: &str) -> Node {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("cert.pem"), cert).expect("write");
    std::fs::write(dir.path().join("key.pem"), key).expect("write");
    std::fs::write(
        dir.path().join("node.toml"),
        "node_id = 1\ndata_dir = \"smsgw-data\"\nbootstrap = true\n\
         http_tls_cert = \"cert.pem\"\nhttp_tls_key = \"key.pem\"\n",
    )
    .expect("write");
    let node = Node::start_in(dir, &["--config", "node.toml"]);
    let doc = format!(
        "[[carriers]]\nname = \"cm\"\nprotocol = \"cmpp3\"\naddress = \"127.0.0.1:9\"\nlogin = \"900001\"\npassword = \"pw\"\n\n\
         [[routes]]\nprefixes = [\"*\"]\ncarrier = \"cm\"\n\n[[accounts]]\nname = \"app\"\napi_keys = [\"{KEY}\"]\n"
    );
    std::fs::write(node.dir.path().join("cluster.toml"), doc).expect("write doc");
    let (ok, out, err) = cli(
        node.dir.path(),
        &["config", "apply", "cluster.toml", "--addr", &node.raft],
    );
    assert!(ok, "apply: {out}{err}");
    node
}

/// How long until the server closes `read`'s connection (bounded by its read timeout).
fn time_to_close(mut read: impl Read) -> Duration {
    let started = Instant::now();
    let mut buf = [0u8; 256];
    while let Ok(n) = read.read(&mut buf) {
        if n == 0 {
            break;
        }
    }
    started.elapsed()
}

#[test]
fn https_serves_a_trusting_client_and_refuses_plain_http_and_untrusting_ones() {
    let (cert, key, der) = self_signed();
    let node = tls_node(&cert, &key);
    let trusting = client_config(&der);
    let body = json!({"to": ["13800138000"], "text": "over tls"}).to_string();

    // The cluster document reaches the API within a moment of its commit.
    let deadline = Instant::now() + Duration::from_secs(15);
    let (status, resp) = loop {
        let (s, r) = https(&node.http, &trusting, "POST", "/v1/messages", body.as_bytes());
        if s == 202 || Instant::now() > deadline {
            break (s, r);
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status, 202, "{resp}");
    let id = resp["messages"][0]["id"].as_str().expect("an id").to_string();
    let (status, got) = https(&node.http, &trusting, "GET", &format!("/v1/messages/{id}"), b"");
    assert_eq!(status, 200, "{got}");

    // The CLI speaks HTTPS with --ca-cert (the node's own PEM here), and
    // refuses an https:// URL without one.
    let api = format!("https://{}", node.http);
    let send = [
        "send",
        "--api",
        &api,
        "--key",
        KEY,
        "--to",
        "13800138000",
        "--text",
        "cli over tls",
    ];
    let (ok, out, err) = cli(node.dir.path(), &[&send[..], &["--ca-cert", "cert.pem"]].concat());
    assert!(ok, "{out}{err}");
    assert!(out.contains("\"id\""), "{out}");
    let (ok, _, err) = cli(node.dir.path(), &send);
    assert!(!ok && err.contains("--ca-cert"), "{err}");

    // Plain HTTP to the HTTPS port: refused before any handler, nothing accepted.
    let r = http(
        &node.http,
        "POST",
        "/v1/messages",
        Some(KEY),
        Some(body.as_bytes()),
    );
    assert_eq!((r.status, r.code()), (400, "https_required"), "{:?}", r.body);
    let r = http(&node.http, "GET", "/healthz", None, None);
    assert_eq!(r.status, 400, "{:?}", r.body);
    // Except the members' forwarding, which dials plain HTTP: it reaches the
    // internal endpoint, whose answer to an unsigned request is its 404.
    let r = http(&node.http, "POST", "/internal/v1/deliver", None, Some(b"[]"));
    assert_eq!((r.status, r.code()), (404, "not_found"), "{:?}", r.body);

    // A client that trusts another certificate does not complete the handshake.
    let (_, _, other) = self_signed();
    let e = connect(&node.http, &client_config(&other)).expect_err("untrusted certificate");
    assert!(e.to_string().to_lowercase().contains("certificate"), "{e}");
    let (ok, err, _) = node.terminate();
    assert!(ok, "{err}");
}

#[test]
fn silent_connections_are_closed_and_sigterm_ends_a_node_with_https_connections_open() {
    let (cert, key, der) = self_signed();
    let node = tls_node(&cert, &key);
    let cfg = client_config(&der);
    // One that never starts the handshake, one that completes it and never
    // sends a request head: both closed after the header timeout (5 s).
    let mut silent_tcp = TcpStream::connect(&node.http).expect("connect");
    silent_tcp
        .set_read_timeout(Some(Duration::from_secs(15)))
        .expect("timeout");
    let silent_tls = connect(&node.http, &cfg).expect("tls");
    let waits = [
        std::thread::spawn(move || time_to_close(&mut silent_tcp)),
        std::thread::spawn(move || time_to_close(silent_tls)),
    ];
    for w in waits {
        let took = w.join().expect("join");
        assert!(
            took >= Duration::from_secs(3) && took < Duration::from_secs(12),
            "closed after {took:?}"
        );
    }

    // A keep-alive HTTPS connection that made a request stays open; SIGTERM
    // still ends the node promptly and cleanly.
    let mut kept = connect(&node.http, &cfg).expect("tls");
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .expect("write");
    let mut buf = [0u8; 512];
    let n = kept.read(&mut buf).expect("read");
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let started = Instant::now();
    let (ok, err, _) = node.terminate();
    assert!(ok, "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    drop(kept);
}

/// Runs `node start --config node.toml` in `dir`, which must exit (not
/// serve) within 20 s: (success, stderr).
fn start_must_exit(dir: &Path) -> (bool, String) {
    let mut child = Command::new(BIN)
        .args([
            "node",
            "start",
            "--config",
            "node.toml",
            "--raft-addr",
            "127.0.0.1:0",
            "--http-addr",
            "127.0.0.1:0",
        ])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the node started instead of refusing its TLS files");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    (status.success(), err)
}

#[test]
fn a_missing_or_bad_certificate_or_key_stops_the_start_naming_the_key_and_file() {
    let (cert, key, _) = self_signed();
    let (_, other_key, _) = self_signed();
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).expect("write");
    write("cert.pem", &cert);
    write("key.pem", &key);
    write("other-key.pem", &other_key);
    write(
        "junk.pem",
        "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n",
    );
    let cases = [
        ("missing.pem", "key.pem", "http_tls_cert", "missing.pem"),
        ("cert.pem", "missing-key.pem", "http_tls_key", "missing-key.pem"),
        ("junk.pem", "key.pem", "http_tls_cert", "junk.pem"),
        ("cert.pem", "junk.pem", "http_tls_key", "junk.pem"),
        ("cert.pem", "other-key.pem", "http_tls_key", "other-key.pem"),
    ];
    for (c, k, named_key, named_file) in cases {
        write(
            "node.toml",
            &format!(
                "node_id = 1\ndata_dir = \"smsgw-data\"\nhttp_tls_cert = \"{c}\"\nhttp_tls_key = \"{k}\"\n"
            ),
        );
        let (ok, err) = start_must_exit(dir.path());
        assert!(!ok, "{c} {k}: started");
        assert!(
            err.contains(named_key) && err.contains(named_file),
            "{c} {k}: {err}"
        );
        assert!(err.contains("node.toml"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(!err.contains("PRIVATE KEY"), "{err}");
    }
}
