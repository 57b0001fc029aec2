//! The cluster secret: the one credential every member of a cluster (and
//! every admin talking to its raft port) holds. It is created once, at the
//! first start of the first node, in the data dir (`cluster-secret`, hex,
//! mode 0600, written to a temp file and renamed so a crash never leaves half
//! a secret), or given by the operator (node file, `--secret-file`,
//! `SMSGW_CLUSTER_SECRET`).
//!
//! The file may hold a second line while the secret is rotated (see
//! [`super::keyring`]); a node and the CLI dial with the first.
//!
//! It must never be printed: `Debug` shows only that a secret is there, and
//! errors name the file, never the content.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// The file name of the secret inside a data dir.
pub const SECRET_FILE: &str = "cluster-secret";
/// Fewest bytes a secret may have (128 bits).
pub const MIN_SECRET_BYTES: usize = 16;
/// Bytes of a generated secret (256 bits).
const GENERATED_BYTES: usize = 32;

/// The shared key of a cluster. Cheap to clone.
#[derive(Clone, PartialEq, Eq)]
pub struct ClusterSecret(Arc<Vec<u8>>);

impl fmt::Debug for ClusterSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClusterSecret(<hidden>)")
    }
}

/// Why a secret could not be read, parsed or written.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The text is not hex or too short.
    #[error("{origin}: the cluster secret must be at least {min} hex digits (it has {len} characters, or a non-hex one)", min = MIN_SECRET_BYTES * 2)]
    Malformed {
        /// Where it came from (a file path or a variable name).
        origin: String,
        /// Its length in characters, after trimming.
        len: usize,
    },
    /// A secret file must hold one secret, or two while rotating.
    #[error(
        "{origin}: a cluster secret file holds one hex secret per line, one or two lines (it has {found})"
    )]
    Lines {
        /// The file.
        origin: String,
        /// Non-blank lines found.
        found: usize,
    },
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
}

impl ClusterSecret {
    /// Raw key bytes (at least [`MIN_SECRET_BYTES`]).
    pub fn from_bytes(bytes: Vec<u8>) -> Option<Self> {
        (bytes.len() >= MIN_SECRET_BYTES).then(|| Self(Arc::new(bytes)))
    }

    /// A fresh random secret from the operating system's generator.
    pub fn generate() -> Self {
        let mut b = vec![0u8; GENERATED_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut b);
        Self(Arc::new(b))
    }

    /// Parses the hex form (surrounding whitespace ignored); `origin` names
    /// where the text came from in the error.
    pub fn from_hex(text: &str, origin: &str) -> Result<Self, SecretError> {
        let t = text.trim();
        let bad = || SecretError::Malformed {
            origin: origin.to_string(),
            len: t.chars().count(),
        };
        let bytes = hex::decode(t).map_err(|_| bad())?;
        Self::from_bytes(bytes).ok_or_else(bad)
    }

    /// The hex form, as written to files. Handle with care: this is the secret.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0.as_slice())
    }

    /// The key bytes, for the handshake.
    pub(crate) fn key(&self) -> &[u8] {
        &self.0
    }

    /// HMAC-SHA256 over `label` then each of `data`, keyed with the secret:
    /// how the node signs what it sends to another member outside the raft
    /// port (the label keeps one use's tag from being valid for another).
    pub fn mac(&self, label: &[u8], data: &[&[u8]]) -> [u8; 32] {
        self.hmac(label, data).finalize().into_bytes().into()
    }

    /// Checks a tag made by [`ClusterSecret::mac`], in constant time (a tag
    /// of the wrong length is refused without comparing).
    pub fn verify_mac(&self, label: &[u8], data: &[&[u8]], tag: &[u8]) -> bool {
        self.hmac(label, data).verify_slice(tag).is_ok()
    }

    fn hmac(&self, label: &[u8], data: &[&[u8]]) -> Hmac<Sha256> {
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.0) {
            Ok(m) => m,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        };
        mac.update(label);
        for d in data {
            mac.update(&(d.len() as u64).to_be_bytes());
            mac.update(d);
        }
        mac
    }

    /// Reads the secret file at `path` and returns the secret to dial with
    /// (its first line; a second is only accepted, see [`super::keyring`]).
    pub fn read_file(path: &Path) -> Result<Self, SecretError> {
        Ok(super::keyring::SecretSet::read_file(path)?.dial().clone())
    }

    /// Writes the secret to `path` atomically (temp file in the same
    /// directory, mode 0600 from the start, fsync, rename).
    pub fn write_file(&self, path: &Path) -> Result<(), SecretError> {
        let io = |source| SecretError::Io {
            path: path.to_path_buf(),
            source,
        };
        let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let _ = std::fs::remove_file(&tmp);
        let mut f = opts.open(&tmp).map_err(io)?;
        let written = f
            .write_all(format!("{}\n", self.to_hex()).as_bytes())
            .and_then(|_| f.sync_all());
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(io(e));
        }
        std::fs::rename(&tmp, path).map_err(io)?;
        Ok(())
    }

    /// The secret in `data_dir/cluster-secret`, created (random) when the
    /// file does not exist. Returns it and whether it was created now.
    pub fn load_or_create(data_dir: &Path) -> Result<(Self, bool), SecretError> {
        let path = data_dir.join(SECRET_FILE);
        if path.exists() {
            return Ok((Self::read_file(&path)?, false));
        }
        std::fs::create_dir_all(data_dir).map_err(|source| SecretError::Io {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let s = Self::generate();
        s.write_file(&path)?;
        Ok((s, true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_secret_is_read_back_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let (a, created) = ClusterSecret::load_or_create(dir.path()).unwrap();
        assert!(created);
        let (b, created) = ClusterSecret::load_or_create(dir.path()).unwrap();
        assert!(!created);
        assert_eq!(a, b);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(SECRET_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(format!("{a:?}"), "ClusterSecret(<hidden>)");
    }

    #[test]
    fn a_mac_verifies_only_with_the_same_secret_label_and_data() {
        let a = ClusterSecret::from_bytes(vec![1; 32]).unwrap();
        let b = ClusterSecret::from_bytes(vec![2; 32]).unwrap();
        let tag = a.mac(b"l", &[b"x", b"y"]);
        assert!(a.verify_mac(b"l", &[b"x", b"y"], &tag));
        assert!(!b.verify_mac(b"l", &[b"x", b"y"], &tag));
        assert!(!a.verify_mac(b"m", &[b"x", b"y"], &tag));
        assert!(!a.verify_mac(b"l", &[b"xy"], &tag));
        assert!(!a.verify_mac(b"l", &[b"x", b"y"], &tag[..31]));
    }

    #[test]
    fn short_or_non_hex_secrets_are_refused_without_echoing_them() {
        let e = ClusterSecret::from_hex("abcd", "SMSGW_CLUSTER_SECRET").unwrap_err();
        assert!(e.to_string().contains("SMSGW_CLUSTER_SECRET"));
        assert!(!e.to_string().contains("abcd"));
        assert!(ClusterSecret::from_hex(&"zz".repeat(16), "x").is_err());
        assert!(ClusterSecret::from_hex(&"ab".repeat(16), "x").is_ok());
    }
}
