//! One HTTPS request from the CLI (`smsgw send` / `status` with an
//! `https://` API), trusting only the certificates of `--ca-cert`: a node's
//! certificate is often self-signed or from a private CA, and trusting the
//! system's roots by default would hide a wrong file.
//!
//! It must never turn verification off: no `--insecure`.

use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, Uri};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;

/// Sends `req` (its URI the full `https://` URL) to its host, verifying the
/// server against the PEM certificates in `ca`.
pub async fn request(mut req: Request<Full<Bytes>>, ca: &Path) -> anyhow::Result<Response<Incoming>> {
    let uri = req.uri().clone();
    let host = uri.host().context("the URL has no host")?.to_string();
    let port = uri.port_u16().unwrap_or(443);
    let pem = std::fs::read(ca).with_context(|| format!("cannot read --ca-cert {}", ca.display()))?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.with_context(|| format!("--ca-cert {}: not PEM certificates", ca.display()))?;
        roots
            .add(cert)
            .with_context(|| format!("--ca-cert {}: an unusable certificate", ca.display()))?;
    }
    if roots.is_empty() {
        bail!("--ca-cert {}: holds no PEM certificate", ca.display());
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    // An IP address in the URL is checked against the certificate's IP names.
    let name = ServerName::try_from(host.trim_matches(['[', ']']).to_string())
        .with_context(|| format!("`{host}` is not a host name or IP address"))?;
    let tcp = TcpStream::connect((host.trim_matches(['[', ']']), port))
        .await
        .with_context(|| format!("cannot reach {host}:{port}"))?;
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .with_context(|| format!("TLS with {host}:{port} failed"))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!("https connection: {e}");
        }
    });
    // A connection-level client sends the URI as given: origin form, and
    // the authority as the Host header.
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    *req.uri_mut() = path.parse::<Uri>()?;
    if let Some(authority) = uri.authority() {
        let host = authority.as_str().parse()?;
        req.headers_mut().insert(hyper::header::HOST, host);
    }
    Ok(sender.send_request(req).await?)
}
