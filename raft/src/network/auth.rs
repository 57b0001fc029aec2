//! Mutual authentication of a raft-port connection, before any frame is
//! read: an HMAC-SHA256 challenge–response over fresh nonces from both
//! sides, keyed with the [`ClusterSecret`].
//!
//! ```text
//! server -> client  MAGIC (8) || Ns (32)
//! client -> server  Nc (32)   || HMAC(k, "smsgw raft client v1" || Ns || Nc)
//! server -> client  HMAC(k, "smsgw raft server v1" || Ns || Nc)      (only if the client's proof is right)
//! ```
//!
//! The server's nonce makes every proof fresh (no replay); the client's makes
//! the server's proof fresh too, so the client knows it talks to a member and
//! not to something that only relays. The two labels keep a proof from being
//! reflected back. Proofs are checked with `Mac::verify_slice` (constant
//! time, fixed length).
//!
//! Why not mutual TLS: it would need a CA, certificates per node and their
//! rotation, while the cluster already has one shared secret to manage; the
//! handshake is ~100 lines with RustCrypto and keeps the frame types
//! unchanged. The traffic after it is not encrypted: run the raft port on a
//! private network (docs/SECURITY.md).
//!
//! During a rotation the server accepts a proof made with any secret of its
//! [`super::keyring::SecretSet`] and proves itself with the one that matched.
//!
//! It must never answer anything to a peer whose proof failed, and never
//! leak the secret or the expected proof in an error or a log.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::secret::ClusterSecret;

/// The first bytes the server sends: protocol name and version.
pub const MAGIC: &[u8; 8] = b"SMSGWA1\n";
/// Nonce length, each side.
pub const NONCE: usize = 32;
/// HMAC-SHA256 output length.
pub const PROOF: usize = 32;
/// How long a peer has to complete the handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

const CLIENT_LABEL: &[u8] = b"smsgw raft client v1";
const SERVER_LABEL: &[u8] = b"smsgw raft server v1";

/// Why a handshake failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The peer's proof was wrong: it does not hold the cluster secret.
    #[error("the peer's proof is wrong: it does not hold this cluster's secret")]
    BadProof,
    /// The server did not start with the smsgw handshake.
    #[error("the peer did not start the smsgw handshake (not an smsgw raft port, or an older version)")]
    NotSmsgw,
    /// The server closed the connection after our proof: it refused our secret.
    #[error("the node closed the connection after our proof: our cluster secret is not the cluster's")]
    Refused,
    /// The handshake did not complete in time.
    #[error("the handshake did not complete within {} s", HANDSHAKE_TIMEOUT.as_secs())]
    Timeout,
    /// Reading or writing failed.
    #[error("i/o during the handshake: {0}")]
    Io(#[from] std::io::Error),
}

fn proof(secret: &ClusterSecret, label: &[u8], ns: &[u8], nc: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.key()) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(label);
    mac.update(ns);
    mac.update(nc);
    mac
}

fn nonce() -> [u8; NONCE] {
    let mut n = [0u8; NONCE];
    rand::rngs::OsRng.fill_bytes(&mut n);
    n
}

/// The server's side: challenge, check the client's proof against each of
/// `accepted`, prove itself with the one that matched and return it.
/// On `Err` the caller closes the connection without writing anything.
pub async fn server<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    accepted: &[ClusterSecret],
) -> Result<ClusterSecret, AuthError> {
    let run = async {
        let ns = nonce();
        let mut hello = Vec::with_capacity(MAGIC.len() + NONCE);
        hello.extend_from_slice(MAGIC);
        hello.extend_from_slice(&ns);
        stream.write_all(&hello).await?;
        stream.flush().await?;
        let mut answer = [0u8; NONCE + PROOF];
        stream.read_exact(&mut answer).await?;
        let (nc, tc) = answer.split_at(NONCE);
        let secret = accepted
            .iter()
            .find(|s| proof(s, CLIENT_LABEL, &ns, nc).verify_slice(tc).is_ok())
            .ok_or(AuthError::BadProof)?;
        let ts = proof(secret, SERVER_LABEL, &ns, nc).finalize().into_bytes();
        stream.write_all(&ts).await?;
        stream.flush().await?;
        Ok(secret.clone())
    };
    tokio::time::timeout(HANDSHAKE_TIMEOUT, run)
        .await
        .map_err(|_| AuthError::Timeout)?
}

/// The client's side: answer the challenge, then check the server's proof.
pub async fn client<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    secret: &ClusterSecret,
) -> Result<(), AuthError> {
    let run = async {
        let mut hello = [0u8; 8 + NONCE];
        stream.read_exact(&mut hello).await.map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => AuthError::NotSmsgw,
            _ => AuthError::Io(e),
        })?;
        let (magic, ns) = hello.split_at(MAGIC.len());
        if magic != MAGIC {
            return Err(AuthError::NotSmsgw);
        }
        let nc = nonce();
        let tc = proof(secret, CLIENT_LABEL, ns, &nc).finalize().into_bytes();
        let mut answer = Vec::with_capacity(NONCE + PROOF);
        answer.extend_from_slice(&nc);
        answer.extend_from_slice(&tc);
        stream.write_all(&answer).await?;
        stream.flush().await?;
        let mut ts = [0u8; PROOF];
        stream.read_exact(&mut ts).await.map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset => AuthError::Refused,
            _ => AuthError::Io(e),
        })?;
        proof(secret, SERVER_LABEL, ns, &nc)
            .verify_slice(&ts)
            .map_err(|_| AuthError::BadProof)
    };
    tokio::time::timeout(HANDSHAKE_TIMEOUT, run)
        .await
        .map_err(|_| AuthError::Timeout)?
}

/// Counts a refused connection on `port` (`smsgw_auth_failures_total{port}`)
/// and logs it at most once per 10 s per process, with how many were not
/// logged, so a flood cannot fill the disk.
pub fn record_failure(port: &'static str, peer: &dyn std::fmt::Display, why: &dyn std::fmt::Display) {
    metrics::counter!("smsgw_auth_failures_total", "port" => port).increment(1);
    static LAST: Mutex<Option<Instant>> = Mutex::new(None);
    static SUPPRESSED: AtomicU64 = AtomicU64::new(0);
    let mut last = LAST.lock().unwrap_or_else(|p| p.into_inner());
    if last.is_some_and(|t| t.elapsed() < Duration::from_secs(10)) {
        SUPPRESSED.fetch_add(1, Ordering::Relaxed);
        return;
    }
    *last = Some(Instant::now());
    let suppressed = SUPPRESSED.swap(0, Ordering::Relaxed);
    tracing::warn!(%peer, port, suppressed, "authentication failed: {why}; connection closed");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(b: u8) -> ClusterSecret {
        ClusterSecret::from_bytes(vec![b; 32]).unwrap()
    }

    #[tokio::test]
    async fn the_same_secret_authenticates_both_ways() {
        let (mut a, mut b) = tokio::io::duplex(1024);
        let s = secret(1);
        let (srv, cli) = tokio::join!(server(&mut a, std::slice::from_ref(&s)), client(&mut b, &s));
        assert!(srv.is_ok() && cli.is_ok(), "{srv:?} {cli:?}");
    }

    #[tokio::test]
    async fn while_rotating_either_secret_authenticates_and_the_match_is_returned() {
        let accepted = [secret(1), secret(2)];
        for s in &accepted {
            let (mut a, mut b) = tokio::io::duplex(1024);
            let (srv, cli) = tokio::join!(server(&mut a, &accepted), client(&mut b, s));
            assert!(cli.is_ok(), "{cli:?}");
            assert_eq!(srv.ok().as_ref(), Some(s));
        }
        let (mut a, mut b) = tokio::io::duplex(1024);
        let other = secret(3);
        let (srv, _) = tokio::join!(
            async {
                let r = server(&mut a, &accepted).await;
                drop(a);
                r
            },
            client(&mut b, &other)
        );
        assert!(matches!(srv, Err(AuthError::BadProof)), "{srv:?}");
    }

    #[tokio::test]
    async fn a_client_with_another_secret_is_refused_and_told_so() {
        let (mut a, mut b) = tokio::io::duplex(1024);
        let (s1, s2) = (secret(1), secret(2));
        let (srv, cli) = tokio::join!(
            async {
                let r = server(&mut a, std::slice::from_ref(&s1)).await;
                drop(a);
                r
            },
            client(&mut b, &s2)
        );
        assert!(matches!(srv, Err(AuthError::BadProof)), "{srv:?}");
        assert!(matches!(cli, Err(AuthError::Refused)), "{cli:?}");
    }

    #[tokio::test]
    async fn a_server_that_does_not_hold_the_secret_is_detected_by_the_client() {
        // A fake server that sends a valid-looking challenge and a made-up proof.
        let (mut a, mut b) = tokio::io::duplex(1024);
        let fake = async {
            let mut hello = MAGIC.to_vec();
            hello.extend_from_slice(&[7u8; NONCE]);
            a.write_all(&hello).await.unwrap();
            let mut answer = [0u8; NONCE + PROOF];
            a.read_exact(&mut answer).await.unwrap();
            a.write_all(&[0u8; PROOF]).await.unwrap();
        };
        let s1 = secret(1);
        let (_, cli) = tokio::join!(fake, client(&mut b, &s1));
        assert!(matches!(cli, Err(AuthError::BadProof)), "{cli:?}");
    }
}
