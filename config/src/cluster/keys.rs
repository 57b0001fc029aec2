//! API keys at rest: the cluster document carries only a SHA-256 of each key
//! and a short prefix for people (`sk_live_ab12…`), never the key. A
//! presented key is hashed and compared with every stored hash in constant
//! time, so neither its content nor its length shows in the timing.
//!
//! Why SHA-256 and not a password hash (argon2): keys are long random
//! tokens, not passwords people choose, and every API request checks one; a
//! deliberately slow hash would cost milliseconds per request for no gain.
//! It must never store, log or print a whole key.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// One stored API key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyHash {
    /// The first characters of the key and `…`, to tell keys apart.
    pub prefix: String,
    /// SHA-256 of the key, lowercase hex.
    pub sha256: String,
}

impl ApiKeyHash {
    /// The stored form of `key`.
    pub fn of(key: &str) -> Self {
        Self {
            prefix: display_prefix(key),
            sha256: hex_of(&digest(key)),
        }
    }

    /// Whether `presented` (already hashed) is this key, in constant time.
    pub fn matches(&self, presented: &[u8; 32]) -> bool {
        let mut stored = [0u8; 32];
        let ok = decode_hex(&self.sha256, &mut stored);
        bool::from(stored.ct_eq(presented)) & ok
    }
}

/// SHA-256 of a presented key.
pub fn digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// At most 12 characters and at most a third of the key: enough to tell
/// keys apart, too little to guess the rest.
pub fn display_prefix(key: &str) -> String {
    let n = (key.chars().count() / 3).min(12);
    let mut p: String = key.chars().take(n).collect();
    p.push('…');
    p
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Decodes 64 hex digits into `out`; `false` (and zeros) when malformed.
pub(crate) fn decode_hex(s: &str, out: &mut [u8; 32]) -> bool {
    let b = s.as_bytes();
    if b.len() != 64 {
        return false;
    }
    let val = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    for (i, pair) in b.chunks(2).enumerate() {
        match (val(pair[0]), val(pair[1])) {
            (Some(h), Some(l)) => out[i] = (h << 4) | l,
            _ => {
                *out = [0; 32];
                return false;
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_matches_its_hash_only() {
        let h = ApiKeyHash::of("sk_live_ab12cd34ef56gh78ij90kl12345678");
        assert_eq!(h.prefix, "sk_live_ab12…");
        assert!(!h.sha256.contains("ab12cd"));
        assert!(h.matches(&digest("sk_live_ab12cd34ef56gh78ij90kl12345678")));
        assert!(!h.matches(&digest("sk_live_ab12cd34ef56gh78ij90kl12345679")));
        assert!(!h.matches(&digest("")));
    }

    #[test]
    fn a_short_key_shows_at_most_a_third() {
        assert_eq!(display_prefix("0123456789abcdef"), "01234…");
    }
}
