//! A minimal HTTP/1.1 client over TCP for the drills' clients and probes:
//! one request per connection (`Connection: close`), every step bounded by a
//! deadline. It must never retry on its own: retrying is the honest client's
//! decision, and it is recorded in the history.

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How a request ended.
#[derive(Debug, Clone)]
pub enum Answer {
    /// A status line and a body (JSON when it parsed, else a string).
    Response { status: u16, body: Value },
    /// No connection could be made.
    Refused(String),
    /// Connected, but no complete answer within the deadline.
    Timeout,
    /// The connection broke mid-exchange.
    Broken(String),
}

impl Answer {
    pub fn status(&self) -> Option<u16> {
        match self {
            Answer::Response { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn body(&self) -> Option<&Value> {
        match self {
            Answer::Response { body, .. } => Some(body),
            _ => None,
        }
    }
}

/// One request to `addr` (`host:port`), answered within `timeout`.
pub async fn request(
    addr: &str,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: Option<&[u8]>,
    timeout: Duration,
) -> Answer {
    match tokio::time::timeout(timeout, exchange(addr, method, path, key, body)).await {
        Err(_) => Answer::Timeout,
        Ok(a) => a,
    }
}

async fn exchange(addr: &str, method: &str, path: &str, key: Option<&str>, body: Option<&[u8]>) -> Answer {
    let mut s = match TcpStream::connect(addr).await {
        Ok(s) => s,
        Err(e) => return Answer::Refused(e.to_string()),
    };
    let body = body.unwrap_or(b"");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\nContent-Type: application/json\r\n",
        body.len()
    );
    if let Some(k) = key {
        req.push_str(&format!("Authorization: Bearer {k}\r\n"));
    }
    req.push_str("\r\n");
    let mut raw = req.into_bytes();
    raw.extend_from_slice(body);
    if let Err(e) = s.write_all(&raw).await {
        return Answer::Broken(e.to_string());
    }
    let mut buf = Vec::new();
    if let Err(e) = s.read_to_end(&mut buf).await {
        return Answer::Broken(e.to_string());
    }
    parse(&buf).unwrap_or_else(|| Answer::Broken("not an HTTP response".into()))
}

fn parse(raw: &[u8]) -> Option<Answer> {
    let text = String::from_utf8_lossy(raw);
    let (head, rest) = text.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        dechunk(rest)?
    } else {
        rest.to_string()
    };
    let body = serde_json::from_str(&body).unwrap_or(Value::String(body));
    Some(Answer::Response { status, body })
}

fn dechunk(mut s: &str) -> Option<String> {
    let mut out = String::new();
    while let Some((len, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(len.trim(), 16).ok()?;
        if n == 0 {
            break;
        }
        out.push_str(rest.get(..n)?);
        s = rest.get(n + 2..)?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_chunked_bodies() {
        let a = parse(b"HTTP/1.1 202 Accepted\r\ncontent-length: 9\r\n\r\n{\"a\": 1}").unwrap();
        assert_eq!(a.status(), Some(202));
        assert_eq!(a.body().unwrap()["a"], 1);
        let a = parse(
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n4\r\n{\"b\"\r\n3\r\n:2}\r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!(a.body().unwrap()["b"], 2);
        assert!(parse(b"garbage").is_none());
        assert!(parse(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nff\r\nshort").is_none());
    }
}
