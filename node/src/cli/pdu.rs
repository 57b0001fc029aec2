//! `smsgw pdu decode|encode`: the ops person's window into the wire.
//!
//! Decode takes hex pasted from a packet capture (spaces, colons, `0x` and
//! line breaks are fine; several PDUs back to back are fine) and prints each
//! PDU as JSON with every field named; encode takes that JSON back to hex.
//! Errors say which field at which offset and show the bytes there.
//!
//! `decode --profile NAME` reads the capture the way the gateway will for a
//! carrier with that shipped profile: bytes after a known body are skipped
//! (and counted), odd CMPP reports are read as far as they go, and each PDU
//! gets a `gateway` object saying what the gateway makes of it (the carrier
//! id a response or report is matched by, after the profile's id formats).
//!
//! Each message PDU also shows its text beside the raw bytes, and a
//! receipt its fields ([`crate::cli::pdu_text`]).
//!
//! This module only formats and parses; it never opens a connection.

use std::io::Read;

use anyhow::{anyhow, bail, Context, Result};
use bytes::{Bytes, BytesMut};
use clap::{Args, Subcommand, ValueEnum};
use serde::{de::DeserializeOwned, Serialize};
use smsgw_actors::proto::cmpp::CmppClient;
use smsgw_actors::proto::sgip::SgipClient;
use smsgw_actors::proto::smgp::SmgpClient;
use smsgw_actors::proto::smpp::SmppClient;
use smsgw_actors::proto::{ClientProtocol, Incoming};
use smsgw_actors::SubmitStatus;
use smsgw_config::{CarrierProfile, CarrierProtocol};
use smsgw_protocols::framing::{split_frame, Wire};
use smsgw_protocols::{cmpp, sgip, smgp, smpp, DecodeError, FrameError};

#[derive(Args)]
pub struct PduArgs {
    #[command(subcommand)]
    command: PduCommand,
}

#[derive(Subcommand)]
enum PduCommand {
    /// Decode hex (from a capture) into JSON, one object per PDU.
    ///
    /// Example: smsgw pdu decode --proto smpp 0000001000000015000000000000002e
    ///
    /// With --profile (china-mobile, china-unicom, china-telecom,
    /// generic-smpp) it decodes the way the gateway will for such a carrier
    /// and says what the gateway makes of each PDU; --proto is then optional.
    Decode {
        #[arg(long, value_enum)]
        proto: Option<Proto>,
        /// A shipped carrier profile: decode as the gateway does for it.
        #[arg(long)]
        profile: Option<String>,
        /// The PDU bytes as hex; `-` or nothing reads standard input.
        hex: Option<String>,
    },
    /// Encode JSON (as printed by `decode`) into hex.
    ///
    /// Example: smsgw pdu encode --proto smpp '{"command_status":0,"sequence_number":46,"command":"enquire_link"}'
    Encode {
        #[arg(long, value_enum)]
        proto: Proto,
        /// One PDU object or an array of them; `-` or nothing reads standard input.
        json: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Proto {
    /// CMPP 2.0 (China Mobile)
    Cmpp2,
    /// CMPP 3.0 (China Mobile)
    Cmpp3,
    /// SGIP 1.2 (China Unicom)
    Sgip,
    /// SMGP 3.0 (China Telecom)
    Smgp,
    /// SMPP 3.4
    Smpp,
}

pub fn run(args: PduArgs) -> Result<()> {
    match args.command {
        PduCommand::Decode {
            proto,
            profile: Some(name),
            hex,
        } => {
            let bytes = parse_hex(&input(hex)?)?;
            println!("{}", decode_profiled(&bytes, proto, &name)?);
        }
        PduCommand::Decode { proto, hex, .. } => {
            let proto = proto.ok_or_else(|| anyhow!("say which protocol: --proto (or --profile NAME)"))?;
            let bytes = parse_hex(&input(hex)?)?;
            let json = match proto {
                Proto::Cmpp2 => decode_all::<cmpp::Cmpp>(&bytes, cmpp_opts(cmpp::CmppVersion::V20)),
                Proto::Cmpp3 => decode_all::<cmpp::Cmpp>(&bytes, cmpp_opts(cmpp::CmppVersion::V30)),
                Proto::Sgip => decode_all::<sgip::Sgip>(&bytes, Default::default()),
                Proto::Smgp => decode_all::<smgp::Smgp>(&bytes, Default::default()),
                Proto::Smpp => decode_all::<smpp::Smpp>(&bytes, Default::default()),
            }?;
            println!("{json}");
        }
        PduCommand::Encode { proto, json } => {
            let text = input(json)?;
            let hex = match proto {
                Proto::Cmpp2 => encode_all::<cmpp::Cmpp>(&text, cmpp_opts(cmpp::CmppVersion::V20)),
                Proto::Cmpp3 => encode_all::<cmpp::Cmpp>(&text, cmpp_opts(cmpp::CmppVersion::V30)),
                Proto::Sgip => encode_all::<sgip::Sgip>(&text, Default::default()),
                Proto::Smgp => encode_all::<smgp::Smgp>(&text, Default::default()),
                Proto::Smpp => encode_all::<smpp::Smpp>(&text, Default::default()),
            }?;
            println!("{hex}");
        }
    }
    Ok(())
}

/// Decodes as the gateway does for a carrier with the shipped profile
/// `name` (its protocol unless `proto` says which version).
fn decode_profiled(bytes: &[u8], proto: Option<Proto>, name: &str) -> Result<String> {
    let profile = CarrierProfile::shipped(name).ok_or_else(|| {
        anyhow!(
            "`{name}` is not a carrier profile: use {}",
            smsgw_config::cluster::profile::SHIPPED_PROFILES.join(", ")
        )
    })?;
    let proto = proto.unwrap_or(match name {
        "china-mobile" => Proto::Cmpp3,
        "china-unicom" => Proto::Sgip,
        "china-telecom" => Proto::Smgp,
        _ => Proto::Smpp,
    });
    let carrier_protocol = match proto {
        Proto::Cmpp2 => CarrierProtocol::Cmpp2,
        Proto::Cmpp3 => CarrierProtocol::Cmpp3,
        Proto::Sgip => CarrierProtocol::Sgip,
        Proto::Smgp => CarrierProtocol::Smgp,
        Proto::Smpp => CarrierProtocol::Smpp,
    };
    if !CarrierProfile::fits(name, carrier_protocol) {
        bail!("profile `{name}` is not for {} carriers", carrier_protocol.name());
    }
    let version = CarrierProfile::for_protocol(carrier_protocol).version;
    let profile = CarrierProfile { version, ..profile };
    match proto {
        Proto::Cmpp2 | Proto::Cmpp3 => view_all(bytes, &CmppClient::new(profile)),
        Proto::Sgip => view_all(bytes, &SgipClient::with_profile(0, profile)),
        Proto::Smgp => view_all(bytes, &SmgpClient::new(profile)),
        Proto::Smpp => view_all(bytes, &SmppClient::new(profile)),
    }
}

/// Every PDU in `bytes`, read leniently with `client`'s options, as JSON
/// with a `gateway` object: trailing bytes skipped and what it reads as.
fn view_all<C: ClientProtocol>(bytes: &[u8], client: &C) -> Result<String>
where
    C::Pdu: Serialize,
{
    let opts = client.options();
    let mut buf = BytesMut::from(bytes);
    let mut out = Vec::new();
    let mut offset = 0usize;
    while !buf.is_empty() {
        let frame = match split_frame(&mut buf, C::Wire::HEADER_LEN, usize::MAX) {
            Ok(Some(frame)) => frame,
            Ok(None) => bail!(
                "{}: PDU at byte {offset} declares more bytes than the {} given (truncated capture?)",
                C::Wire::NAME,
                buf.len()
            ),
            Err(e) => bail!("{}: PDU at byte {offset}: {e}", C::Wire::NAME),
        };
        let len = frame.len();
        let (pdu, skipped) = C::Wire::decode_lenient(frame.clone(), &opts)
            .map_err(|e| explain(C::Wire::NAME, &frame, offset, &e))?;
        let mut v = serde_json::to_value(&pdu)?;
        crate::cli::pdu_text::annotate(&mut v);
        let mut gw = reads_as(client.classify(pdu, "capture"));
        gw.insert("trailing_bytes".into(), skipped.into());
        if let serde_json::Value::Object(m) = &mut v {
            m.insert("gateway".into(), serde_json::Value::Object(gw));
        }
        out.push(v);
        offset += len;
    }
    Ok(if out.len() == 1 {
        serde_json::to_string_pretty(&out[0])?
    } else {
        serde_json::to_string_pretty(&out)?
    })
}

/// What the gateway makes of one PDU, as JSON fields.
fn reads_as<P>(i: Incoming<P>) -> serde_json::Map<String, serde_json::Value> {
    use serde_json::json;
    let v = match i {
        Incoming::LoginResp { ok, status } => json!({"reads_as": "login_resp", "ok": ok, "status": status}),
        Incoming::SubmitResp { seq, status } => match status {
            SubmitStatus::Accepted(id) => {
                json!({"reads_as": "submit_resp", "request": seq, "carrier_msg_id": id})
            }
            SubmitStatus::Throttled => json!({"reads_as": "submit_resp", "request": seq, "throttled": true}),
            SubmitStatus::Rejected(code) => {
                json!({"reads_as": "submit_resp", "request": seq, "rejected": code})
            }
        },
        Incoming::Report { report, .. } => json!({"reads_as": "report", "report": report}),
        Incoming::Mo { mo, .. } => json!({
            "reads_as": "mo", "source": mo.source, "destination": mo.destination, "udhi": mo.udhi
        }),
        Incoming::BadDeliver { ack, error } => json!({
            "reads_as": "unreadable_deliver", "error": error, "acknowledged": ack.is_some()
        }),
        Incoming::KeepAlive { .. } => json!({"reads_as": "heartbeat"}),
        Incoming::KeepAliveResp => json!({"reads_as": "heartbeat_resp"}),
        Incoming::Logout { .. } => json!({"reads_as": "logout"}),
        Incoming::LogoutResp => json!({"reads_as": "logout_resp"}),
        Incoming::Nack { seq, status } => json!({"reads_as": "nack", "request": seq, "status": status}),
        Incoming::Other(name) => json!({"reads_as": "ignored", "name": name}),
    };
    match v {
        serde_json::Value::Object(m) => m,
        _ => serde_json::Map::new(),
    }
}

fn cmpp_opts(version: cmpp::CmppVersion) -> cmpp::Options {
    cmpp::Options { version }
}

fn input(arg: Option<String>) -> Result<String> {
    match arg.as_deref() {
        Some("-") | None => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .context("reading standard input")?;
            Ok(s)
        }
        Some(s) => Ok(s.to_string()),
    }
}

/// Hex as people paste it: any mix of whitespace, `:` and `-` separators, an
/// optional `0x` prefix per chunk.
fn parse_hex(s: &str) -> Result<Vec<u8>> {
    let mut digits = String::with_capacity(s.len());
    for chunk in s.split(|c: char| c.is_whitespace() || c == ':' || c == '-') {
        let chunk = chunk
            .strip_prefix("0x")
            .or_else(|| chunk.strip_prefix("0X"))
            .unwrap_or(chunk);
        digits.push_str(chunk);
    }
    if digits.is_empty() {
        bail!("no hex given: paste the PDU bytes, e.g. 0000001000000015000000000000002e");
    }
    if let Some((i, c)) = digits.char_indices().find(|(_, c)| !c.is_ascii_hexdigit()) {
        bail!("not hex: character {c:?} at hex digit {i}");
    }
    if !digits.len().is_multiple_of(2) {
        bail!(
            "odd number of hex digits ({}): a byte is missing a digit",
            digits.len()
        );
    }
    hex::decode(&digits).map_err(|e| anyhow!("not hex: {e}"))
}

fn decode_all<P: Wire>(bytes: &[u8], opts: P::Options) -> Result<String>
where
    P::Pdu: Serialize,
{
    let mut buf = BytesMut::from(bytes);
    let mut out = Vec::new();
    let mut offset = 0usize;
    while !buf.is_empty() {
        let frame = match split_frame(&mut buf, P::HEADER_LEN, usize::MAX) {
            Ok(Some(frame)) => frame,
            Ok(None) => {
                let declared = declared_len(&buf);
                let mut msg = format!(
                    "{}: PDU at byte {offset} declares {} bytes but only {} were given (truncated capture?)",
                    P::NAME,
                    declared.map_or("a length field of 4".to_string(), |d| d.to_string()),
                    buf.len()
                );
                if let Some(why) = partial_field_error::<P>(&buf, &opts) {
                    msg.push_str(&format!("\n  decoding what is there: {why}"));
                }
                bail!(msg);
            }
            Err(FrameError::BadLength { declared, min, .. }) => bail!(
                "{}: PDU at byte {offset} declares length {declared}, below the {min}-byte header",
                P::NAME
            ),
            Err(e) => bail!("{}: {e}", P::NAME),
        };
        let len = frame.len();
        let pdu = P::decode(frame.clone(), &opts).map_err(|e| explain(P::NAME, &frame, offset, &e))?;
        let mut v = serde_json::to_value(&pdu)?;
        crate::cli::pdu_text::annotate(&mut v);
        out.push(v);
        offset += len;
    }
    Ok(if out.len() == 1 {
        serde_json::to_string_pretty(&out[0])?
    } else {
        serde_json::to_string_pretty(&out)?
    })
}

/// Which field a truncated PDU runs out in: the bytes given are decoded as
/// if the length field said so.
fn partial_field_error<P: Wire>(buf: &[u8], opts: &P::Options) -> Option<String> {
    if buf.len() < P::HEADER_LEN {
        return None;
    }
    let mut copy = buf.to_vec();
    copy[..4].copy_from_slice(&(buf.len() as u32).to_be_bytes());
    match P::decode(Bytes::from(copy), opts) {
        Err(e) => Some(e.to_string()),
        Ok(_) => None,
    }
}

fn declared_len(buf: &[u8]) -> Option<u32> {
    let b: [u8; 4] = buf.get(..4)?.try_into().ok()?;
    Some(u32::from_be_bytes(b))
}

/// A decode error with the bytes around the failing offset, so the reader can
/// line it up with the capture.
fn explain(proto: &str, frame: &Bytes, frame_start: usize, e: &DecodeError) -> anyhow::Error {
    let offset = match e {
        DecodeError::Truncated { offset, .. }
        | DecodeError::Unterminated { offset, .. }
        | DecodeError::InvalidText { offset, .. }
        | DecodeError::InvalidValue { offset, .. }
        | DecodeError::TrailingBytes { offset, .. } => Some(*offset),
        DecodeError::UnknownCommand { .. } => Some(4),
    };
    let mut msg = format!("{proto}: {e}");
    if frame_start > 0 {
        msg.push_str(&format!(" (in the PDU starting at byte {frame_start})"));
    }
    if let Some(off) = offset {
        let from = off.saturating_sub(4).min(frame.len());
        let to = (off + 12).min(frame.len());
        let shown: Vec<String> = frame[from..to].iter().map(|b| format!("{b:02x}")).collect();
        msg.push_str(&format!("\n  bytes {from}..{to}: {}", shown.join(" ")));
    }
    anyhow!(msg)
}

fn encode_all<P: Wire>(text: &str, opts: P::Options) -> Result<String>
where
    P::Pdu: DeserializeOwned,
{
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| anyhow!("not JSON: {e} (line {}, column {})", e.line(), e.column()))?;
    let items = match value {
        serde_json::Value::Array(items) => items,
        one => vec![one],
    };
    let mut dst = BytesMut::new();
    for (i, item) in items.into_iter().enumerate() {
        let pdu: P::Pdu =
            serde_json::from_value(item).map_err(|e| anyhow!("{}: PDU #{i} does not fit: {e}", P::NAME))?;
        P::encode(&pdu, &opts, &mut dst).map_err(|e| anyhow!("{}: PDU #{i}: {e}", P::NAME))?;
    }
    Ok(hex::encode(&dst))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_as_pasted() {
        assert_eq!(parse_hex("0x00 01:02-03\n04").unwrap(), vec![0, 1, 2, 3, 4]);
        assert!(parse_hex("0g").is_err());
        assert!(parse_hex("000").is_err());
        assert!(parse_hex("  ").is_err());
    }
}
