//! Application logins: which account an SMPP `system_id`/password or a CMPP
//! `Source_Addr`/`AuthenticatorSource` belongs to. Secrets are compared in
//! constant time (a digest of each side, so neither length nor content
//! shows in the timing); a refusal never says whether the id or the secret
//! was wrong. It must never log a presented secret.

use sha2::{Digest, Sha256};
use smsgw_config::{Account, ClusterDoc};
use subtle::ConstantTimeEq;

/// Whether `presented` equals `stored`, in time independent of both.
pub fn same_secret(presented: &[u8], stored: &[u8]) -> bool {
    let a: [u8; 32] = Sha256::digest(presented).into();
    let b: [u8; 32] = Sha256::digest(stored).into();
    bool::from(a.ct_eq(&b))
}

/// The account an SMPP bind authenticates as.
pub fn smpp_login<'a>(doc: &'a ClusterDoc, system_id: &str, password: &str) -> Option<&'a Account> {
    let account = doc.account_by_system_id(system_id);
    let stored = account
        .and_then(|a| a.apps.as_ref())
        .and_then(|l| l.password.as_deref());
    // Compared even for an unknown id, so an unknown id takes as long.
    let ok = same_secret(password.as_bytes(), stored.unwrap_or("").as_bytes());
    (ok && stored.is_some()).then_some(account).flatten()
}

/// The account a CMPP CONNECT authenticates as: `check(secret)` computes the
/// expected authenticator for the stored secret and compares it.
pub fn cmpp_login<'a>(
    doc: &'a ClusterDoc,
    sp_id: &str,
    check: impl FnOnce(&str) -> bool,
) -> Option<&'a Account> {
    let account = doc.account_by_sp_id(sp_id);
    let stored = account
        .and_then(|a| a.apps.as_ref())
        .and_then(|l| l.secret.as_deref());
    let ok = check(stored.unwrap_or(""));
    (ok && stored.is_some()).then_some(account).flatten()
}

/// Counts (and logs, without the secret) a refused login.
pub fn refused(port: &'static str, peer: &std::net::SocketAddr, id: &str) {
    let shown: String = id.chars().take(16).collect();
    smsgw_raft::network::auth::record_failure(port, peer, &format!("app login `{shown}` refused"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_by_content_only() {
        assert!(same_secret(b"pw123456", b"pw123456"));
        assert!(!same_secret(b"pw12345", b"pw123456"));
        assert!(!same_secret(b"", b"x"));
    }

    #[test]
    fn logins_find_their_account_and_refuse_the_rest() {
        let text = "[[accounts]]\nname = \"a\"\napi_keys = [\"sk_0123456789abcdefa\"]\n[accounts.apps]\nsystem_id = \"sa\"\npassword = \"pa\"\n\
                    [[accounts]]\nname = \"b\"\napi_keys = [\"sk_0123456789abcdefb\"]\n";
        let doc = ClusterDoc::from_toml_str(text, "c.toml").unwrap();
        assert_eq!(smpp_login(&doc, "sa", "pa").map(|a| a.name.as_str()), Some("a"));
        assert!(smpp_login(&doc, "sa", "pb").is_none());
        assert!(smpp_login(&doc, "b", "").is_none());
        assert!(cmpp_login(&doc, "900001", |_| true).is_none());
    }
}
