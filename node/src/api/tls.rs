//! HTTPS for the HTTP API: the node file's `http_tls_cert` and
//! `http_tls_key` (PEM) read once at start into a rustls acceptor (ring
//! provider, TLS 1.2 and 1.3, HTTP/1.1 by ALPN).
//!
//! It must never panic on a bad file: a missing, unreadable or invalid
//! certificate or key, or a key that is not the certificate's, is a
//! [`ConfigError`] naming the node-file key and the file. It never prints
//! the key's content.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use smsgw_config::ConfigError;
use tokio_rustls::TlsAcceptor;

const CERT_KEY: &str = "http_tls_cert";
const KEY_KEY: &str = "http_tls_key";

/// The acceptor for `cert` and `key` (PEM files); `file` is the node file,
/// named in errors.
pub fn acceptor(cert: &Path, key: &Path, file: &str) -> Result<TlsAcceptor, ConfigError> {
    let err = |k: &str, m: String| ConfigError {
        file: file.to_string(),
        key: k.to_string(),
        line: 0,
        message: m,
    };
    let read =
        |k: &str, p: &Path| std::fs::read(p).map_err(|e| err(k, format!("cannot read {}: {e}", p.display())));
    let cert_pem = read(CERT_KEY, cert)?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            err(
                CERT_KEY,
                format!("{} is not a PEM certificate chain: {e}", cert.display()),
            )
        })?;
    if chain.is_empty() {
        let m = format!(
            "{} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            cert.display()
        );
        return Err(err(CERT_KEY, m));
    }
    let key_pem = read(KEY_KEY, key)?;
    // The parser's error is about the PEM structure, never the key bytes.
    let private = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        let m = format!(
            "{} holds no usable PEM private key (PKCS#8, PKCS#1 or SEC1): {e}",
            key.display()
        );
        err(KEY_KEY, m)
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| err(CERT_KEY, format!("TLS setup: {e}")))?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(|e| match e {
            rustls::Error::InvalidCertificate(_) => err(
                CERT_KEY,
                format!("{} holds an invalid certificate: {e}", cert.display()),
            ),
            e => {
                let m = format!(
                    "{} is not a key this node can use with the certificate in {}: {e}",
                    key.display(),
                    cert.display()
                );
                err(KEY_KEY, m)
            }
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (String, String) {
        let c = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("rcgen");
        (c.cert.pem(), c.key_pair.serialize_pem())
    }

    #[test]
    fn a_good_pair_loads_and_every_bad_file_names_its_key_and_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (cert, key) = pair();
        let (_, other_key) = pair();
        let p = |n: &str, text: &str| {
            let f = dir.path().join(n);
            std::fs::write(&f, text).expect("write");
            f
        };
        let (c, k) = (p("c.pem", &cert), p("k.pem", &key));
        assert!(acceptor(&c, &k, "n.toml").is_ok());

        let missing = dir.path().join("nope.pem");
        let e = acceptor(&missing, &k, "n.toml").err().expect("missing cert");
        assert_eq!(e.key, CERT_KEY);
        assert!(
            e.to_string().contains("nope.pem") && e.to_string().contains("n.toml"),
            "{e}"
        );
        let e = acceptor(&c, &missing, "n.toml").err().expect("missing key");
        assert_eq!(e.key, KEY_KEY);

        let junk = p("junk.pem", "not pem at all\n");
        let e = acceptor(&junk, &k, "n.toml").err().expect("junk cert");
        assert_eq!(e.key, CERT_KEY, "{e}");
        let e = acceptor(&c, &junk, "n.toml").err().expect("junk key");
        assert_eq!(e.key, KEY_KEY, "{e}");
        // The key file given as the certificate and the other way round.
        let e = acceptor(&k, &c, "n.toml").err().expect("swapped");
        assert_eq!(e.key, CERT_KEY, "{e}");

        let wrong = p("other.pem", &other_key);
        let e = acceptor(&c, &wrong, "n.toml").err().expect("key of another cert");
        assert_eq!(e.key, KEY_KEY, "{e}");
        assert!(!e.to_string().contains("PRIVATE KEY"), "{e}");
    }
}
