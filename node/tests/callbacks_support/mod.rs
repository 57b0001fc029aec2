//! A callback receiver for the node's process tests: an HTTP/1.1 server on
//! 127.0.0.1:0 (std sockets, a thread per connection, keep-alive) that
//! records every request and answers 500 while told to fail, 200 after;
//! and the check of the signature every request must carry.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// The secret the tests configure.
pub const SECRET: &str = "cb-secret-0123456789-abcdef";

/// One request a receiver got.
#[derive(Debug, Clone)]
pub struct Got {
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
    pub answered: u16,
}

/// An HTTP receiver on 127.0.0.1:0 that records every request and answers
/// 500 to the first `fail_first` of them, 200 after.
pub struct Receiver {
    pub url: String,
    pub got: Arc<Mutex<Vec<Got>>>,
    /// Requests still to be answered 500.
    pub failures: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Receiver {
    pub fn start(fail_first: usize) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind receiver");
        let addr = listener.local_addr().expect("addr");
        listener.set_nonblocking(true).expect("nonblocking");
        let got = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let failures = Arc::new(AtomicUsize::new(fail_first));
        let f = failures.clone();
        let (g, s) = (got.clone(), stop.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let (g, f) = (g.clone(), failures.clone());
                        std::thread::spawn(move || serve(conn, &g, &f));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Receiver {
            url: format!("http://{addr}/events"),
            got,
            failures: f,
            stop,
        }
    }

    pub fn requests(&self) -> Vec<Got> {
        self.got.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Reads requests off one connection (keep-alive) and answers each.
fn serve(conn: TcpStream, got: &Mutex<Vec<Got>>, failures: &AtomicUsize) {
    conn.set_read_timeout(Some(Duration::from_secs(30))).ok();
    let Ok(mut out) = conn.try_clone() else { return };
    let mut r = BufReader::new(conn);
    for _ in 0..10_000 {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut headers = BTreeMap::new();
        loop {
            let mut h = String::new();
            if r.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        if r.read_exact(&mut body).is_err() {
            return;
        }
        let fail = failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        let answered = if fail { 500 } else { 200 };
        got.lock().unwrap_or_else(|p| p.into_inner()).push(Got {
            headers,
            body,
            answered,
        });
        let reason = if fail { "Internal Server Error" } else { "OK" };
        let resp = format!("HTTP/1.1 {answered} {reason}\r\nContent-Length: 2\r\n\r\nok");
        if out.write_all(resp.as_bytes()).is_err() {
            return;
        }
    }
}

/// A URL nothing listens on.
pub fn dead_url() -> String {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr");
    drop(l);
    format!("http://{addr}/down")
}

/// Checks the signature of every request; the bodies by event id.
pub fn verified(account: &str, got: &[Got]) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for g in got {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(SECRET.as_bytes()).expect("hmac");
        mac.update(&g.body);
        let want = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        assert_eq!(g.headers.get("x-smsgw-signature"), Some(&want), "bad signature");
        assert!(g.headers.contains_key("x-smsgw-timestamp"));
        let v: Value = serde_json::from_slice(&g.body).expect("json body");
        let id = v["id"].as_str().expect("event id").to_string();
        assert_eq!(g.headers.get("x-smsgw-event-id"), Some(&id));
        assert_eq!(v["account"], account);
        out.insert(id, v);
    }
    out
}

/// Waits until `r` acknowledged (200) events covering every message id and
/// MO text; returns the verified bodies.
pub fn wait_all(
    account: &str,
    r: &Receiver,
    ids: &[String],
    texts: &[&str],
    secs: u64,
) -> BTreeMap<String, Value> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let got: Vec<Got> = r.requests().into_iter().filter(|g| g.answered == 200).collect();
        let bodies = verified(account, &got);
        let reports: BTreeSet<String> = bodies
            .values()
            .filter(|v| v["type"] == "report")
            .map(|v| v["data"]["message_id"].as_str().unwrap_or("").to_string())
            .collect();
        let mos: BTreeSet<String> = bodies
            .values()
            .filter(|v| v["type"] == "mo")
            .map(|v| v["data"]["text"].as_str().unwrap_or("").to_string())
            .collect();
        let missing: Vec<&String> = ids.iter().filter(|i| !reports.contains(*i)).collect();
        let missing_mo: Vec<&&str> = texts.iter().filter(|t| !mos.contains(**t)).collect();
        if missing.is_empty() && missing_mo.is_empty() {
            return bodies;
        }
        assert!(
            Instant::now() < deadline,
            "after {secs} s: reports missing for {missing:?}, MOs missing {missing_mo:?}; got {bodies:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
