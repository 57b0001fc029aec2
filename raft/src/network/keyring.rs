//! The secrets a node holds at one time, so that the cluster secret can be
//! rotated without a restart: the one it dials with and at most one more
//! that it also accepts. The secret file has one hex secret per line: the
//! first is dialled with, an optional second is only accepted.
//!
//! [`Keyring`] is the live, shared set: the raft port's server checks a
//! client's proof against every accepted secret and closes connections
//! whose secret is no longer accepted; the client pool drops connections
//! opened with a secret that is no longer the dialling one; a watcher task
//! re-reads the file when its content changes ([`Keyring::watch_file`]).
//!
//! It must never adopt a file that does not parse (the old set stays in
//! force), and never print a secret: `Debug` shows only how many there are.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::watch;

use super::secret::{ClusterSecret, SecretError};

/// How often the watcher looks at the secret file.
pub const DEFAULT_POLL: Duration = Duration::from_secs(2);
/// A changed file is adopted only when it reads the same again after this
/// long, so that a file caught half-written (not renamed into place) is not
/// taken for a shorter secret.
const SETTLE: Duration = Duration::from_millis(250);

/// The secrets in force: the one dialled with, and the other one accepted.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretSet {
    dial: ClusterSecret,
    also: Option<ClusterSecret>,
}

impl fmt::Debug for SecretSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretSet(<{} hidden>)", 1 + usize::from(self.also.is_some()))
    }
}

impl SecretSet {
    /// Only `dial`.
    pub fn single(dial: ClusterSecret) -> Self {
        Self { dial, also: None }
    }

    /// `dial`, and `also` accepted too.
    pub fn with_also(dial: ClusterSecret, also: ClusterSecret) -> Self {
        let also = (also != dial).then_some(also);
        Self { dial, also }
    }

    /// The secret this node proves when it connects.
    pub fn dial(&self) -> &ClusterSecret {
        &self.dial
    }

    /// Every secret a peer may prove (the dialling one first).
    pub fn accepted(&self) -> impl Iterator<Item = &ClusterSecret> {
        std::iter::once(&self.dial).chain(self.also.as_ref())
    }

    /// Whether a peer proving `s` is accepted.
    pub fn accepts(&self, s: &ClusterSecret) -> bool {
        self.accepted().any(|a| a == s)
    }

    /// Parses the file form: one or two hex secrets, one per line (blank
    /// lines ignored); `origin` names where it came from in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, SecretError> {
        let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        match lines.as_slice() {
            [one] => Ok(Self::single(ClusterSecret::from_hex(one, origin)?)),
            [dial, also] => Ok(Self::with_also(
                ClusterSecret::from_hex(dial, &format!("{origin} line 1"))?,
                ClusterSecret::from_hex(also, &format!("{origin} line 2"))?,
            )),
            _ => Err(SecretError::Lines {
                origin: origin.to_string(),
                found: lines.len(),
            }),
        }
    }

    /// Reads the file form from `path`.
    pub fn read_file(path: &Path) -> Result<Self, SecretError> {
        let text = std::fs::read_to_string(path).map_err(|source| SecretError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }
}

/// The live set of secrets of a node, shared by its server, its client
/// pool and the file watcher. Cheap to clone.
#[derive(Clone)]
pub struct Keyring {
    tx: Arc<watch::Sender<Arc<SecretSet>>>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Keyring({:?})", self.current())
    }
}

impl Keyring {
    /// A keyring holding `set`.
    pub fn new(set: SecretSet) -> Self {
        Self {
            tx: Arc::new(watch::Sender::new(Arc::new(set))),
        }
    }

    /// A keyring of one fixed secret (the CLI, in-process benchmarks).
    pub fn fixed(secret: ClusterSecret) -> Self {
        Self::new(SecretSet::single(secret))
    }

    /// The set in force now.
    pub fn current(&self) -> Arc<SecretSet> {
        self.tx.borrow().clone()
    }

    /// The secret to dial with now.
    pub fn dial(&self) -> ClusterSecret {
        self.tx.borrow().dial.clone()
    }

    /// Puts `set` in force; returns whether it differs from the set before.
    pub fn replace(&self, set: SecretSet) -> bool {
        self.tx.send_if_modified(|cur| {
            if **cur == set {
                return false;
            }
            *cur = Arc::new(set);
            true
        })
    }

    /// Told of every later change.
    pub fn subscribe(&self) -> watch::Receiver<Arc<SecretSet>> {
        self.tx.subscribe()
    }

    /// Re-reads `path` now. A file that does not parse leaves the set in
    /// force and is returned as the error.
    pub fn reload(&self, path: &Path) -> Result<bool, SecretError> {
        Ok(self.replace(SecretSet::read_file(path)?))
    }

    /// Watches `path` every `every` until the task is aborted: when its
    /// content changed (and stayed so for a moment), it is read again. A
    /// content that fails is logged and counted once
    /// (`smsgw_cluster_secret_reload_errors_total`), and the set in force
    /// stays; a good one is counted in `smsgw_cluster_secret_reloads_total`.
    pub fn watch_file(&self, path: PathBuf, every: Duration) -> tokio::task::JoinHandle<()> {
        let ring = self.clone();
        // The content the set in force was read from (taken now, not in the
        // task, so a change made before the task first runs is seen): a
        // digest, so that no second copy of the secret stays in memory.
        let mut seen = fingerprint(&path);
        // Exported at 0 from the start, so that the first error is an
        // increase an alert can see (a series born at 1 shows none).
        metrics::counter!("smsgw_cluster_secret_reloads_total").increment(0);
        metrics::counter!("smsgw_cluster_secret_reload_errors_total").increment(0);
        // The set in force may have been read a while before (a node reads
        // it before raft starts): a file changed since is taken now.
        if SecretSet::read_file(&path).is_ok_and(|set| set != *self.current()) {
            self.reload_logged(&path);
        }
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let now = fingerprint(&path);
                if now == seen {
                    continue;
                }
                tokio::time::sleep(SETTLE).await;
                if fingerprint(&path) != now {
                    continue;
                }
                seen = now;
                ring.reload_logged(&path);
            }
        })
    }

    /// [`Keyring::reload`], logged and counted.
    pub fn reload_logged(&self, path: &Path) {
        match self.reload(path) {
            Ok(changed) => {
                metrics::counter!("smsgw_cluster_secret_reloads_total").increment(1);
                let n = self.current().accepted().count();
                tracing::info!(
                    file = %path.display(),
                    changed,
                    accepted = n,
                    "cluster secret file reloaded"
                );
            }
            Err(e) => {
                metrics::counter!("smsgw_cluster_secret_reload_errors_total").increment(1);
                tracing::error!("cluster secret file not reloaded, the secrets in force stay: {e}");
            }
        }
    }
}

/// What the file holds now, as a digest (or why it cannot be read).
fn fingerprint(path: &Path) -> Result<[u8; 32], std::io::ErrorKind> {
    std::fs::read(path)
        .map(|b| Sha256::digest(&b).into())
        .map_err(|e| e.kind())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(b: u8) -> ClusterSecret {
        ClusterSecret::from_bytes(vec![b; 32]).unwrap()
    }

    #[test]
    fn one_or_two_lines_parse_and_more_are_refused() {
        let one = SecretSet::parse(&format!("{}\n", s(1).to_hex()), "f").unwrap();
        assert_eq!(one.accepted().count(), 1);
        let two = SecretSet::parse(&format!("{}\n\n{}\n", s(1).to_hex(), s(2).to_hex()), "f").unwrap();
        assert_eq!(two.dial(), &s(1));
        assert!(two.accepts(&s(2)) && !two.accepts(&s(3)));
        let e = SecretSet::parse(&format!("{0}\n{0}\n{0}\n", s(1).to_hex()), "f").unwrap_err();
        assert!(e.to_string().contains("3"), "{e}");
        assert!(SecretSet::parse("", "f").is_err());
        let e = SecretSet::parse(&format!("{}\nnot-hex\n", s(1).to_hex()), "f").unwrap_err();
        assert!(e.to_string().contains("f line 2"), "{e}");
    }

    #[test]
    fn debug_never_shows_a_secret() {
        let set = SecretSet::with_also(s(0xab), s(0xcd));
        let ring = Keyring::new(set.clone());
        let mut opts = crate::ClusterOptions::new(1, "/tmp/x", "127.0.0.1:0");
        opts.secret = Some(s(0xab));
        let shown = format!("{set:?} {ring:?} {:?} {opts:?}", ring.dial());
        assert!(!shown.contains("abab") && !shown.contains("cdcd"), "{shown}");
        assert_eq!(format!("{set:?}"), "SecretSet(<2 hidden>)");
    }

    #[tokio::test]
    async fn a_file_changed_before_the_watch_starts_is_taken_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cluster-secret");
        s(2).write_file(&path).unwrap();
        let ring = Keyring::fixed(s(1));
        let task = ring.watch_file(path, Duration::from_secs(3600));
        assert_eq!(*ring.current(), SecretSet::single(s(2)));
        task.abort();
    }

    #[tokio::test]
    async fn the_watcher_adopts_a_good_file_and_keeps_the_set_on_a_bad_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cluster-secret");
        s(1).write_file(&path).unwrap();
        let ring = Keyring::new(SecretSet::read_file(&path).unwrap());
        let task = ring.watch_file(path.clone(), Duration::from_millis(20));
        let wait_for = |want: SecretSet| {
            let ring = ring.clone();
            async move {
                for _ in 0..200 {
                    if *ring.current() == want {
                        return true;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                false
            }
        };
        std::fs::write(&path, format!("{}\n{}\n", s(2).to_hex(), s(1).to_hex())).unwrap();
        assert!(wait_for(SecretSet::with_also(s(2), s(1))).await);
        std::fs::write(&path, "zz\n").unwrap();
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert_eq!(*ring.current(), SecretSet::with_also(s(2), s(1)));
        std::fs::write(&path, format!("{}\n", s(2).to_hex())).unwrap();
        assert!(wait_for(SecretSet::single(s(2))).await);
        task.abort();
    }
}
