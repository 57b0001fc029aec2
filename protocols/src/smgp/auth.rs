//! Login / Login_Resp and the MD5 authenticators both sides compute.
//!
//! AuthenticatorClient = MD5(ClientID ‖ 7 zero bytes ‖ shared secret ‖
//! TimeStamp as 10 ASCII digits MMDDHHMMSS, left-padded with '0');
//! AuthenticatorServer = MD5(Status as 4 big-endian bytes ‖
//! AuthenticatorClient ‖ shared secret). ClientID goes in as given (not
//! padded to 8), as the spec's example and the public implementations do.
//! This module never logs or stores the secret.

use bytes::{BufMut, BytesMut};
use chrono::{Datelike, NaiveDateTime, Timelike};
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

use crate::error::{DecodeError, EncodeError};
use crate::wire::{FixedStr, PutExt, Reader};

/// The protocol version we speak: 3.0.
pub const VERSION_30: u8 = 0x30;

/// LoginMode values.
pub mod login_mode {
    /// Send (MT) only.
    pub const SEND: u8 = 0;
    /// Receive (MO and reports) only.
    pub const RECEIVE: u8 = 1;
    /// Both directions.
    pub const TRANSMIT: u8 = 2;
}

/// The TimeStamp field for a time: MMDDHHMMSS read as a decimal number
/// (March 1st 00:00:00 is 301000000 = 0x11F0E540).
pub fn timestamp_of(t: &NaiveDateTime) -> u32 {
    t.month() * 100_000_000 + t.day() * 1_000_000 + t.hour() * 10_000 + t.minute() * 100 + t.second()
}

/// The TimeStamp for now in Beijing time (what the SMG checks it
/// against), whatever the host's zone; see [`crate::clock`].
pub fn timestamp_now() -> u32 {
    timestamp_of(&crate::clock::beijing_now())
}

/// AuthenticatorClient for a login.
pub fn authenticator_client(client_id: &str, secret: &str, timestamp: u32) -> [u8; 16] {
    let mut h = Md5::new();
    h.update(client_id.as_bytes());
    h.update([0u8; 7]);
    h.update(secret.as_bytes());
    h.update(format!("{timestamp:010}").as_bytes());
    h.finalize().into()
}

/// AuthenticatorServer for a login response.
pub fn authenticator_server(status: u32, authenticator_client: &[u8; 16], secret: &str) -> [u8; 16] {
    let mut h = Md5::new();
    h.update(status.to_be_bytes());
    h.update(authenticator_client);
    h.update(secret.as_bytes());
    h.finalize().into()
}

/// Login (0x00000001): 30-byte body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Login {
    pub client_id: FixedStr<8>,
    #[serde(with = "crate::wire::hex_array")]
    pub authenticator_client: [u8; 16],
    /// See [`login_mode`].
    pub login_mode: u8,
    /// MMDDHHMMSS as a number, see [`timestamp_of`].
    pub timestamp: u32,
    pub client_version: u8,
}

impl Login {
    /// A version-3.0 login with its authenticator computed.
    pub fn new(client_id: &str, secret: &str, login_mode: u8, timestamp: u32) -> Result<Login, EncodeError> {
        Ok(Login {
            client_id: FixedStr::for_field("client_id", client_id)?,
            authenticator_client: authenticator_client(client_id, secret, timestamp),
            login_mode,
            timestamp,
            client_version: VERSION_30,
        })
    }

    /// Whether the authenticator matches `secret` (the server's check).
    pub fn verify(&self, secret: &str) -> bool {
        authenticator_client(self.client_id.as_str(), secret, self.timestamp) == self.authenticator_client
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Login, DecodeError> {
        let l = Login {
            client_id: r.octets("client_id")?,
            authenticator_client: r.array("authenticator_client")?,
            login_mode: r.u8("login_mode")?,
            timestamp: r.u32("timestamp")?,
            client_version: r.u8("client_version")?,
        };
        r.finish()?;
        Ok(l)
    }

    pub(crate) fn encode(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        dst.put_octets(self.client_id.as_bytes(), 8, "client_id")?;
        dst.put_slice(&self.authenticator_client);
        dst.put_u8(self.login_mode);
        dst.put_u32(self.timestamp);
        dst.put_u8(self.client_version);
        Ok(())
    }
}

/// Login_Resp (0x80000001): 21-byte body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginResp {
    pub status: u32,
    /// All zero when authentication failed (the spec says "empty").
    #[serde(with = "crate::wire::hex_array")]
    pub authenticator_server: [u8; 16],
    pub server_version: u8,
}

impl LoginResp {
    /// The server's answer to `login`; the authenticator is only computed on
    /// success, as the spec leaves it empty otherwise.
    pub fn new(status: u32, login: &Login, secret: &str) -> LoginResp {
        let authenticator_server = if status == super::status::OK {
            authenticator_server(status, &login.authenticator_client, secret)
        } else {
            [0; 16]
        };
        LoginResp {
            status,
            authenticator_server,
            server_version: VERSION_30,
        }
    }

    /// The client's check that the server knows the secret too.
    pub fn verify(&self, authenticator_client: &[u8; 16], secret: &str) -> bool {
        authenticator_server(self.status, authenticator_client, secret) == self.authenticator_server
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<LoginResp, DecodeError> {
        let l = LoginResp {
            status: r.u32("status")?,
            authenticator_server: r.array("authenticator_server")?,
            server_version: r.u8("server_version")?,
        };
        r.finish()?;
        Ok(l)
    }

    pub(crate) fn encode(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        dst.put_u32(self.status);
        dst.put_slice(&self.authenticator_server);
        dst.put_u8(self.server_version);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn timestamp_is_mmddhhmmss() {
        let t = NaiveDate::from_ymd_opt(2026, 3, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        assert_eq!(timestamp_of(&t), 0x11F0_E540);
        let t = NaiveDate::from_ymd_opt(2026, 12, 31)
            .unwrap()
            .and_hms_opt(23, 59, 58)
            .unwrap();
        assert_eq!(timestamp_of(&t), 1_231_235_958);
    }

    #[test]
    fn authenticators_match_hand_computed_md5() {
        // MD5("10690001" ‖ 00*7 ‖ "secret" ‖ "0301000000"), computed independently.
        let mut input = b"10690001".to_vec();
        input.extend_from_slice(&[0; 7]);
        input.extend_from_slice(b"secret0301000000");
        let want: [u8; 16] = Md5::digest(&input).into();
        assert_eq!(authenticator_client("10690001", "secret", 301_000_000), want);

        let login = Login::new("10690001", "secret", login_mode::TRANSMIT, 301_000_000).unwrap();
        assert!(login.verify("secret"));
        assert!(!login.verify("Secret"));
        let resp = LoginResp::new(0, &login, "secret");
        let mut input = vec![0, 0, 0, 0];
        input.extend_from_slice(&login.authenticator_client);
        input.extend_from_slice(b"secret");
        let want: [u8; 16] = Md5::digest(&input).into();
        assert_eq!(resp.authenticator_server, want);
        assert!(resp.verify(&login.authenticator_client, "secret"));
        assert_eq!(LoginResp::new(21, &login, "secret").authenticator_server, [0; 16]);
    }
}
