//! `smsgw send` and `smsgw status`: thin clients of a node's HTTP API for
//! admins. They only format requests and print answers; every rule lives in
//! the node.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::Args;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::Request;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};

/// Where the API is and which key to use.
#[derive(Args)]
pub struct ApiTarget {
    /// Base URL of a node's HTTP API: http://HOST:PORT, or https://HOST:PORT
    /// with --ca-cert.
    #[arg(long, env = "SMSGW_API", default_value = "http://127.0.0.1:8080")]
    pub api: String,
    /// PEM file of the certificate(s) to trust for an https:// API (the
    /// node's certificate, or the CA that signed it).
    #[arg(long, env = "SMSGW_CA_CERT")]
    pub ca_cert: Option<PathBuf>,
    /// API key; default: the demo key in ./smsgw-data/demo-api-key.
    #[arg(long, env = "SMSGW_API_KEY")]
    pub key: Option<String>,
}

/// `smsgw send`: to numbers, to groups of the address book (minus some of
/// their members), with a template, now or at a time.
///
/// Examples:
///   smsgw send --to 13800138000 --text "测试"
///   smsgw send --group 应急办全员 --except 张伟 --template 集合 --var place=三号楼 --at 2026-12-24T08:00:00+08:00
#[derive(Args)]
#[command(verbatim_doc_comment)]
pub struct SendArgs {
    /// Recipient number; repeat for several.
    #[arg(long, required_unless_present_any = ["group", "contact"])]
    pub to: Vec<String>,
    /// A group of the address book (name); repeat for several.
    #[arg(long)]
    pub group: Vec<String>,
    /// A contact (id) to send to; repeat for several.
    #[arg(long)]
    pub contact: Vec<u64>,
    /// A contact to leave out, by id or exact name; repeat for several.
    #[arg(long, value_name = "ID|NAME")]
    pub except: Vec<String>,
    /// The text (or use --template).
    #[arg(long, required_unless_present = "template", conflicts_with = "template")]
    pub text: Option<String>,
    /// A template (common phrase) by name; {name}, {unit}, {title} come from each contact.
    #[arg(long)]
    pub template: Option<String>,
    /// A template variable, `key=value`; repeat for several.
    #[arg(long = "var", value_name = "KEY=VALUE")]
    pub vars: Vec<String>,
    /// When to send (RFC 3339, e.g. 2026-12-24T08:00:00+08:00); default now.
    #[arg(long)]
    pub at: Option<String>,
    /// alarm, high, normal or bulk.
    #[arg(long, default_value = "normal")]
    pub priority: String,
    /// Sender extension code.
    #[arg(long)]
    pub sender: Option<String>,
    /// Idempotency key.
    #[arg(long)]
    pub client_ref: Option<String>,
    #[command(flatten)]
    pub target: ApiTarget,
}

/// `smsgw status`.
#[derive(Args)]
pub struct StatusArgs {
    /// Message id (as `send` printed it).
    pub id: String,
    #[command(flatten)]
    pub target: ApiTarget,
}

fn key(t: &ApiTarget) -> anyhow::Result<String> {
    if let Some(k) = &t.key {
        return Ok(k.clone());
    }
    let path = Path::new("smsgw-data/demo-api-key");
    let k = std::fs::read_to_string(path)
        .with_context(|| format!("no --key given and cannot read {}", path.display()))?;
    Ok(k.trim().to_string())
}

/// Sends one request; returns the status and the JSON body.
pub(crate) async fn call(
    t: &ApiTarget,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> anyhow::Result<(u16, Value)> {
    let bytes = body.map(|b| b.to_string()).unwrap_or_default();
    let (status, body) = call_raw(t, method, path, bytes.into_bytes(), "application/json").await?;
    let v = serde_json::from_slice(&body).unwrap_or_else(|_| json!(String::from_utf8_lossy(&body)));
    Ok((status, v))
}

/// Sends one request with a body of `content_type`; returns the status and
/// the body as it came.
pub(crate) async fn call_raw(
    t: &ApiTarget,
    method: &str,
    path: &str,
    body: Vec<u8>,
    content_type: &str,
) -> anyhow::Result<(u16, Bytes)> {
    let key = key(t)?;
    let url = format!("{}{path}", t.api.trim_end_matches('/'));
    let req = Request::builder()
        .method(method)
        .uri(&url)
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", content_type)
        .body(Full::new(Bytes::from(body)))
        .with_context(|| format!("bad URL {url}"))?;
    let resp = if url.starts_with("https://") {
        let Some(ca) = &t.ca_cert else {
            bail!("{url}: https needs --ca-cert FILE (the node's certificate or its CA, PEM)");
        };
        crate::cli::https_client::request(req, ca)
            .await
            .with_context(|| format!("cannot reach {url}"))?
    } else {
        let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
        client
            .request(req)
            .await
            .with_context(|| format!("cannot reach {url}"))?
    };
    let status = resp.status().as_u16();
    let body = resp
        .into_body()
        .collect()
        .await
        .context("reading the answer")?
        .to_bytes();
    Ok((status, body))
}

pub(crate) fn print_or_fail(status: u16, v: &Value) -> anyhow::Result<()> {
    if status >= 400 {
        let code = v["error"]["code"].as_str().unwrap_or("?");
        let msg = v["error"]["message"].as_str().unwrap_or("");
        bail!("HTTP {status} {code}: {msg}");
    }
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

pub fn send(a: SendArgs) -> anyhow::Result<()> {
    let rt = tokio::runtime::Runtime::new()?;
    let mut body = json!({"priority": a.priority});
    if !a.to.is_empty() {
        body["to"] = json!(a.to);
    }
    if let Some(t) = &a.text {
        body["text"] = json!(t);
    }
    if let Some(s) = a.sender {
        body["sender"] = json!(s);
    }
    if let Some(r) = a.client_ref {
        body["client_ref"] = json!(r);
    }
    if !a.group.is_empty() {
        body["to_groups"] = json!(a.group);
    }
    if !a.contact.is_empty() {
        body["to_contacts"] = json!(a.contact);
    }
    if !a.except.is_empty() {
        let ids = rt.block_on(crate::cli::service::contact_ids(&a.target, &a.except))?;
        body["exclude_contacts"] = json!(ids);
    }
    if let Some(t) = a.template {
        body["template"] = json!(t);
    }
    if !a.vars.is_empty() {
        let mut vars = serde_json::Map::new();
        for v in &a.vars {
            let (k, val) = v
                .split_once('=')
                .with_context(|| format!("--var `{v}` must be key=value"))?;
            vars.insert(k.to_string(), json!(val));
        }
        body["vars"] = Value::Object(vars);
    }
    if let Some(at) = a.at {
        body["send_at"] = json!(at);
    }
    let (status, v) = rt.block_on(call(&a.target, "POST", "/v1/messages", Some(body)))?;
    print_or_fail(status, &v)
}

pub fn status(a: StatusArgs) -> anyhow::Result<()> {
    if !a.id.bytes().all(|b| b.is_ascii_digit()) {
        bail!("`{}` is not a message id (digits)", a.id);
    }
    let rt = tokio::runtime::Runtime::new()?;
    let (status, v) = rt.block_on(call(&a.target, "GET", &format!("/v1/messages/{}", a.id), None))?;
    print_or_fail(status, &v)
}
