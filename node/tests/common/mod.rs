//! The one process harness of the node tests: start a real `smsgw node
//! start` (kernel-picked ports, data in a temp dir, killed on drop), kill -9
//! and restart it on the same raft address and data, a minimal HTTP/1.1
//! client over 127.0.0.1, and CLI invocations. Clusters of such nodes and
//! their raft-port queries are in [`cluster`].
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

pub mod cluster;
pub mod sim_cluster;

pub use cluster::*;

pub const BIN: &str = env!("CARGO_BIN_EXE_smsgw");

pub struct Node {
    pub child: Child,
    pub dir: tempfile::TempDir,
    /// The node id from its ready line.
    pub id: u64,
    pub raft: String,
    pub http: String,
    pub stdout: Vec<String>,
    /// Everything the node wrote on stderr so far (drained by a thread, so
    /// a chatty node never blocks on a full pipe).
    pub stderr: std::sync::Arc<std::sync::Mutex<String>>,
    /// What it was started with, for [`Node::restart`].
    args: Vec<String>,
    env: Vec<(String, String)>,
}

/// An address on which the kernel picks the port.
const ANY_PORT: &str = "127.0.0.1:0";

impl Node {
    /// `smsgw node start` with `args` in a fresh temp dir; waits for the ready line.
    pub fn start(args: &[&str]) -> Node {
        Self::start_in(tempfile::tempdir().expect("tempdir"), args)
    }

    pub fn start_in(dir: tempfile::TempDir, args: &[&str]) -> Node {
        Self::start_with_env(dir, args, &[])
    }

    /// As [`Node::start_in`], with extra environment variables (kept for restarts).
    pub fn start_with_env(dir: tempfile::TempDir, args: &[&str], env: &[(&str, &str)]) -> Node {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Self::spawn(dir, ANY_PORT, args, env)
    }

    /// SIGKILL, no shutdown: the process is gone when this returns.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// kill -9, then start again with the same arguments, data and raft
    /// address (the other members know it by that address).
    pub fn restart(&mut self) {
        self.kill9();
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().expect("tempdir"));
        let raft = self.raft.clone();
        *self = Self::spawn(dir, &raft, self.args.clone(), self.env.clone());
    }

    fn spawn(dir: tempfile::TempDir, raft: &str, args: Vec<String>, env: Vec<(String, String)>) -> Node {
        let mut child = Command::new(BIN)
            .args(["node", "start", "--raft-addr", raft, "--http-addr", ANY_PORT])
            .args(&args)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn smsgw");
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        if let Some(err) = child.stderr.take() {
            let buf = stderr.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(err).lines().map_while(Result::ok) {
                    let mut b = buf.lock().unwrap_or_else(|p| p.into_inner());
                    b.push_str(&line);
                    b.push('\n');
                }
            });
        }
        let out = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut lines = Vec::new();
        let mut node = Node {
            child,
            dir,
            id: 0,
            raft: String::new(),
            http: String::new(),
            stdout: Vec::new(),
            stderr,
            args,
            env,
        };
        while node.http.is_empty() {
            let line = rx
                .recv_timeout(Duration::from_secs(30))
                .expect("ready line within 30 s");
            if let Some((head, _)) = line.split_once(" ready ") {
                // `smsgw node N ready raft=ADDR http=ADDR ...`
                node.id = head
                    .rsplit(' ')
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("node id in the ready line");
                for w in line.split_whitespace() {
                    if let Some(a) = w.strip_prefix("raft=") {
                        node.raft = a.into();
                    }
                    if let Some(a) = w.strip_prefix("http=") {
                        node.http = a.into();
                    }
                }
            }
            lines.push(line);
        }
        // The demo lines follow the ready line at once.
        while let Ok(line) = rx.recv_timeout(Duration::from_millis(300)) {
            lines.push(line);
        }
        node.stdout = lines;
        node
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("smsgw-data")
    }

    pub fn demo_key(&self) -> String {
        std::fs::read_to_string(self.data().join("demo-api-key"))
            .expect("demo key file")
            .trim()
            .to_string()
    }

    pub fn call(&self, method: &str, path: &str, key: Option<&str>, body: Option<&[u8]>) -> Resp {
        http(&self.http, method, path, key, body)
    }

    pub fn post(&self, key: &str, body: &Value) -> Resp {
        self.call(
            "POST",
            "/v1/messages",
            Some(key),
            Some(body.to_string().as_bytes()),
        )
    }

    /// Sends SIGTERM and waits for the exit; returns (success, stderr, data dir).
    pub fn terminate(mut self) -> (bool, String, tempfile::TempDir) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        for _ in 0..200 {
            if let Ok(Some(st)) = self.child.try_wait() {
                // Let the drain thread read the last lines.
                std::thread::sleep(Duration::from_millis(100));
                let err = self.stderr.lock().unwrap_or_else(|p| p.into_inner()).clone();
                let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().expect("tempdir"));
                return (st.success(), err, dir);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("node did not exit within 10 s of SIGTERM");
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: String,
    pub body: Value,
}

impl Resp {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

/// The simulator's control address from the demo line.
pub fn sim_control(node: &Node) -> String {
    node.stdout
        .iter()
        .find_map(|l| l.split("control http://").nth(1))
        .map(|s| s.trim_end_matches(')').to_string())
        .expect("demo line with the simulator's control address")
}

/// One HTTP/1.1 request with `Connection: close`.
pub fn http(addr: &str, method: &str, path: &str, key: Option<&str>, body: Option<&[u8]>) -> Resp {
    try_http(addr, method, path, key, body).unwrap_or_else(|e| panic!("{method} {path} on {addr}: {e}"))
}

/// As [`http`], with an error instead of a panic when the node is gone.
pub fn try_http(
    addr: &str,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: Option<&[u8]>,
) -> std::io::Result<Resp> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok();
    let body = body.unwrap_or(b"");
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\nContent-Type: application/json\r\n", body.len());
    if let Some(k) = key {
        req.push_str(&format!("Authorization: Bearer {k}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())?;
    s.write_all(body)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).to_string();
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{what}: {text:?}"));
    let (head, rest) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| bad("no http response"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("no status"))?;
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    let body = serde_json::from_str(&body).unwrap_or(Value::String(body));
    Ok(Resp {
        status,
        headers: head.to_ascii_lowercase(),
        body,
    })
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((len, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(len.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
    out
}

/// Runs the CLI; returns (success, stdout, stderr).
pub fn cli(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run smsgw");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs the CLI and asserts success; returns its stdout.
pub fn cli_ok(dir: &Path, args: &[&str]) -> String {
    let (ok, out, err) = cli(dir, args);
    assert!(ok, "smsgw {args:?} failed: {out}{err}");
    out
}

/// Starts a node in `dir` that is expected to refuse to start, and returns
/// its stderr. A node that starts anyway would serve until stopped: it is
/// given 60 s, then killed, and the calling test fails instead of hanging.
#[allow(dead_code)]
pub fn start_refused(dir: &Path) -> String {
    let mut child = Command::new(BIN)
        .args(["node", "start", "--raft-addr", ANY_PORT, "--http-addr", ANY_PORT])
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut err);
    }
    match status {
        None => panic!("a damaged data dir must not start: the node still ran after 60 s: {err}"),
        Some(s) => assert!(!s.success(), "a damaged data dir must not start: {err}"),
    }
    err
}
