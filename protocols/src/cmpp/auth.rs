//! CMPP login authenticators and timestamps.
//!
//! AuthenticatorSource = MD5(Source_Addr ‖ 9 zero bytes ‖ secret ‖
//! timestamp as 10 ASCII digits MMDDHHMMSS); the Timestamp field carries the
//! same digits as an integer. AuthenticatorISMG = MD5(Status ‖
//! AuthenticatorSource ‖ secret), where Status is hashed in its wire width:
//! 4 bytes big-endian in 3.0, 1 byte in 2.0.
//!
//! Comparisons of authenticators are constant-time; this module never logs
//! or stores a secret.

use chrono::{Datelike, NaiveDateTime, Timelike};
use md5::{Digest, Md5};

use super::{CmppVersion, Connect, ConnectResp};
use crate::error::EncodeError;
use crate::wire::FixedStr;

/// MD5(source_addr ‖ 9 × 0x00 ‖ secret ‖ timestamp as 10 digits).
pub fn authenticator_source(source_addr: &str, secret: &str, timestamp: u32) -> [u8; 16] {
    let mut h = Md5::new();
    h.update(source_addr.as_bytes());
    h.update([0u8; 9]);
    h.update(secret.as_bytes());
    h.update(format!("{timestamp:010}").as_bytes());
    h.finalize().into()
}

/// AuthenticatorISMG with the 4-byte (CMPP 3.0) status. For a 2.0 link use
/// [`authenticator_ismg_for`], which hashes the 1-byte status 2.0 sends.
pub fn authenticator_ismg(status: u32, auth_source: &[u8; 16], secret: &str) -> [u8; 16] {
    authenticator_ismg_for(CmppVersion::V30, status, auth_source, secret)
}

/// AuthenticatorISMG with the status in the version's wire width (2.0: 1
/// byte, the low byte of `status`; 3.0: 4 bytes big-endian).
pub fn authenticator_ismg_for(
    version: CmppVersion,
    status: u32,
    auth_source: &[u8; 16],
    secret: &str,
) -> [u8; 16] {
    let mut h = Md5::new();
    match version {
        CmppVersion::V30 => h.update(status.to_be_bytes()),
        CmppVersion::V20 => h.update([status as u8]),
    }
    h.update(auth_source);
    h.update(secret.as_bytes());
    h.finalize().into()
}

/// MMDDHHMMSS of `t` as a decimal integer (e.g. 1125080910).
pub fn timestamp_of(t: &NaiveDateTime) -> u32 {
    t.month() * 100_000_000 + t.day() * 1_000_000 + t.hour() * 10_000 + t.minute() * 100 + t.second()
}

/// The timestamp for now in Beijing time (the ISMG checks it against
/// China time), whatever the host's zone; see [`crate::clock`].
pub fn timestamp_now() -> u32 {
    timestamp_of(&crate::clock::beijing_now())
}

fn eq_ct(a: &[u8; 16], b: &[u8; 16]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Connect {
    /// A CONNECT for `source_addr` with its authenticator. `version` sets
    /// the Version byte (0x20 or 0x30).
    pub fn new(
        source_addr: &str,
        secret: &str,
        timestamp: u32,
        version: CmppVersion,
    ) -> Result<Connect, EncodeError> {
        Ok(Connect {
            source_addr: FixedStr::for_field("source_addr", source_addr)?,
            authenticator_source: authenticator_source(source_addr, secret, timestamp),
            version: version.byte(),
            timestamp,
        })
    }

    /// Whether the authenticator matches `secret` (the ISMG/simulator side).
    pub fn verify(&self, secret: &str) -> bool {
        let expected = authenticator_source(self.source_addr.as_str(), secret, self.timestamp);
        eq_ct(&expected, &self.authenticator_source)
    }
}

impl ConnectResp {
    /// The answer to `connect` (server side). A failed login carries an
    /// all-zero authenticator, as the spec says ("empty on error").
    pub fn for_connect(connect: &Connect, status: u32, secret: &str, version: CmppVersion) -> ConnectResp {
        let authenticator_ismg = if status == super::result::OK {
            authenticator_ismg_for(version, status, &connect.authenticator_source, secret)
        } else {
            [0; 16]
        };
        ConnectResp {
            status,
            authenticator_ismg,
            version: version.byte(),
        }
    }

    /// Whether the ISMG proved it knows `secret` (client side), given the
    /// AuthenticatorSource we sent. Accepts either status width, since
    /// gateways differ on what they hash for 2.0.
    pub fn verify(&self, auth_source: &[u8; 16], secret: &str, version: CmppVersion) -> bool {
        let main = authenticator_ismg_for(version, self.status, auth_source, secret);
        let other = match version {
            CmppVersion::V20 => authenticator_ismg_for(CmppVersion::V30, self.status, auth_source, secret),
            CmppVersion::V30 => main,
        };
        eq_ct(&main, &self.authenticator_ismg) | eq_ct(&other, &self.authenticator_ismg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_digits() {
        let t = NaiveDateTime::parse_from_str("2026-01-01 00:00:00", "%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(timestamp_of(&t), 101000000);
        let t = NaiveDateTime::parse_from_str("2026-12-31 23:59:58", "%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(timestamp_of(&t), 1231235958);
    }

    #[test]
    fn connect_round_trip_auth() {
        let c = Connect::new("445566", "abc123", 101000000, CmppVersion::V20).unwrap();
        assert!(c.verify("abc123"));
        assert!(!c.verify("abc124"));
        for v in [CmppVersion::V20, CmppVersion::V30] {
            let resp = ConnectResp::for_connect(&c, 0, "abc123", v);
            assert!(resp.verify(&c.authenticator_source, "abc123", v));
            assert!(!resp.verify(&c.authenticator_source, "nope", v));
        }
        assert_ne!(
            authenticator_ismg_for(CmppVersion::V20, 0, &c.authenticator_source, "abc123"),
            authenticator_ismg(0, &c.authenticator_source, "abc123")
        );
    }
}
