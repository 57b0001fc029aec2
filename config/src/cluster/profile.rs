//! Carrier profiles: what differs between real carrier gateways that speak
//! the same protocol. A carrier picks a shipped profile by name
//! (`profile = "china-telecom"`) and may override single keys in
//! `[carriers.overrides]`; [`super::Carrier::profile`] resolves the two into
//! one [`CarrierProfile`] the sessions use.
//!
//! Shipped: `china-mobile` (CMPP), `china-unicom` (SGIP), `china-telecom`
//! (SMGP), `generic-smpp` (SMPP). A carrier without `profile` gets the one
//! of its protocol.
//!
//! ```toml
//! [[carriers]]
//! name = "intl"
//! protocol = "smpp"
//! profile = "generic-smpp"
//! [carriers.overrides]
//! submit_resp_id = "hex"      # hex | decimal | text (opaque, as received)
//! receipt_id = "decimal"      # Kannel's msg-id-type: the two forms differ
//! receipts = "both"           # text | tlv | both
//! data_coding_ucs2 = 8
//! data_coding_gbk = 15
//! max_parts = 10
//! udh = "8bit"                # 8bit | 16bit | sar
//! # version = "3.4"           # smgp: 1.3 2.0 3.0 · cmpp: 2.0 3.0 · smpp: 3.3 3.4 · sgip: 1.2
//! # login_time_zone = "Asia/Shanghai"   # or UTC, +08:00, -05:00
//! # fee_type = "00"  fee_code = "000000"  fixed_fee = "000000"  fee_user_type = 0  service_id = ""
//! # corp_id = "12345"        # sgip: the SP's CorpId
//! ```
//!
//! This module only describes (including the profile's own numbering of
//! UCS-2 and GBK, [`CarrierProfile::wire_coding`]); it never decides what
//! goes on the wire (the actors' protocol clients do, from the resolved
//! profile).

use serde::{Deserialize, Serialize};

use super::CarrierProtocol;

/// How a carrier writes a message id in one place (SMPP only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IdFormat {
    /// Opaque text, compared as received.
    Text,
    /// A number in hexadecimal.
    Hex,
    /// A number in decimal.
    Decimal,
}

impl IdFormat {
    pub const ALL: [IdFormat; 3] = [IdFormat::Text, IdFormat::Hex, IdFormat::Decimal];

    pub fn name(self) -> &'static str {
        match self {
            IdFormat::Text => "text",
            IdFormat::Hex => "hex",
            IdFormat::Decimal => "decimal",
        }
    }

    /// The canonical form of `id` written in this format, so the same id
    /// written in hex on one side and in decimal on the other compares
    /// equal: a number becomes its decimal digits without leading zeros;
    /// text (or a value that is not a number in the format) stays as is.
    pub fn canonical(self, id: &str) -> String {
        let radix = match self {
            IdFormat::Text => return id.to_string(),
            IdFormat::Hex => 16,
            IdFormat::Decimal => 10,
        };
        match u128::from_str_radix(id.trim(), radix) {
            Ok(n) => n.to_string(),
            Err(_) => id.to_string(),
        }
    }
}

/// Where an SMPP receipt carries its facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReceiptStyle {
    /// The `id:... stat:...` text in short_message.
    Text,
    /// `receipted_message_id` and `message_state` TLVs.
    Tlv,
    /// Both (the TLVs win where they disagree).
    Both,
}

impl ReceiptStyle {
    pub const ALL: [ReceiptStyle; 3] = [ReceiptStyle::Text, ReceiptStyle::Tlv, ReceiptStyle::Both];

    pub fn name(self) -> &'static str {
        match self {
            ReceiptStyle::Text => "text",
            ReceiptStyle::Tlv => "tlv",
            ReceiptStyle::Both => "both",
        }
    }
}

/// How long messages are marked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum UdhStyle {
    /// UDH IE 0x00, 8-bit reference.
    #[serde(rename = "8bit")]
    Bit8,
    /// UDH IE 0x08, 16-bit reference.
    #[serde(rename = "16bit")]
    Bit16,
    /// SMPP `sar_*` TLVs instead of a UDH.
    #[serde(rename = "sar")]
    Sar,
}

impl UdhStyle {
    pub const ALL: [UdhStyle; 3] = [UdhStyle::Bit8, UdhStyle::Bit16, UdhStyle::Sar];

    pub fn name(self) -> &'static str {
        match self {
            UdhStyle::Bit8 => "8bit",
            UdhStyle::Bit16 => "16bit",
            UdhStyle::Sar => "sar",
        }
    }
}

/// Charging fields put on every submit (CMPP, SGIP, SMGP).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeDefaults {
    /// FeeType: 2 digits ("00" free, "01" per message, ...).
    pub fee_type: String,
    /// FeeCode in fen: 6 digits.
    pub fee_code: String,
    /// FixedFee (SMGP) in fen: 6 digits.
    pub fixed_fee: String,
    /// FeeUserType / Fee_UserType: 0 the destination, 1 the source, 2 the SP, 3 the charge number.
    pub fee_user_type: u8,
    /// Service_Id / ServiceID (up to 10 characters).
    pub service_id: String,
    /// SGIP CorpId: the SP's enterprise code (5 digits; empty when unset).
    #[serde(default)]
    pub corp_id: String,
}

impl Default for FeeDefaults {
    fn default() -> Self {
        FeeDefaults {
            fee_type: "00".into(),
            fee_code: "000000".into(),
            fixed_fee: "000000".into(),
            fee_user_type: 0,
            service_id: String::new(),
            corp_id: String::new(),
        }
    }
}

/// One carrier's resolved profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarrierProfile {
    /// The shipped profile it starts from.
    pub name: String,
    /// The protocol version variant: "1.3" / "2.0" / "3.0" (SMGP), "2.0" /
    /// "3.0" (CMPP), "1.2" (SGIP), "3.3" / "3.4" (SMPP).
    pub version: String,
    /// The zone login timestamps are written in, as an offset from UTC in
    /// seconds (Asia/Shanghai: +28800, no DST).
    pub login_utc_offset_secs: i32,
    pub fee: FeeDefaults,
    /// SMPP: how submit_sm_resp writes the message id.
    pub submit_resp_id: IdFormat,
    /// SMPP: how receipts write the same id.
    pub receipt_id: IdFormat,
    /// SMPP: where receipts carry their facts.
    pub receipts: ReceiptStyle,
    /// The data_coding / MsgFormat used for UCS-2 (8 everywhere we know).
    pub data_coding_ucs2: u8,
    /// The data_coding / MsgFormat used for GBK (15 in China; some SMSCs want 8).
    pub data_coding_gbk: u8,
    /// Most parts one long message may be split into.
    pub max_parts: u8,
    pub udh: UdhStyle,
}

/// The names of the shipped profiles.
pub const SHIPPED_PROFILES: [&str; 4] = ["china-mobile", "china-unicom", "china-telecom", "generic-smpp"];

/// Beijing time, the zone of every Chinese carrier's clock.
pub const BEIJING_UTC_OFFSET_SECS: i32 = 8 * 3600;

impl CarrierProfile {
    /// The Chinese carriers' defaults (Beijing time, text ids, receipts
    /// read both ways), under `name` and `version`.
    fn china(name: &str, version: &str) -> CarrierProfile {
        CarrierProfile {
            name: name.into(),
            version: version.into(),
            login_utc_offset_secs: BEIJING_UTC_OFFSET_SECS,
            fee: FeeDefaults::default(),
            submit_resp_id: IdFormat::Text,
            receipt_id: IdFormat::Text,
            receipts: ReceiptStyle::Both,
            data_coding_ucs2: 8,
            data_coding_gbk: 15,
            max_parts: 10,
            udh: UdhStyle::Bit8,
        }
    }

    /// A shipped profile by name.
    pub fn shipped(name: &str) -> Option<CarrierProfile> {
        let china = Self::china;
        Some(match name {
            "china-mobile" => china(name, "3.0"),
            "china-unicom" => china(name, "1.2"),
            "china-telecom" => china(name, "3.0"),
            "generic-smpp" => CarrierProfile {
                login_utc_offset_secs: 0,
                ..china(name, "3.4")
            },
            _ => return None,
        })
    }

    /// The shipped profile of a protocol (what a carrier without `profile` gets).
    pub fn for_protocol(p: CarrierProtocol) -> CarrierProfile {
        let (name, version) = match p {
            CarrierProtocol::Cmpp2 => ("china-mobile", "2.0"),
            CarrierProtocol::Cmpp3 => ("china-mobile", "3.0"),
            CarrierProtocol::Sgip => ("china-unicom", "1.2"),
            CarrierProtocol::Smgp => ("china-telecom", "3.0"),
            CarrierProtocol::Smpp => ("generic-smpp", "3.4"),
        };
        let mut prof = CarrierProfile::shipped(name).unwrap_or_else(|| CarrierProfile::fallback(name));
        prof.version = version.into();
        prof
    }

    /// Never reached (every protocol has a shipped profile); keeps
    /// [`CarrierProfile::for_protocol`] free of panics.
    fn fallback(name: &str) -> CarrierProfile {
        Self::china(name, "")
    }

    /// The protocols a shipped profile may be used with.
    pub fn fits(name: &str, p: CarrierProtocol) -> bool {
        matches!(
            (name, p),
            ("china-mobile", CarrierProtocol::Cmpp2 | CarrierProtocol::Cmpp3)
                | ("china-unicom", CarrierProtocol::Sgip)
                | ("china-telecom", CarrierProtocol::Smgp)
                | ("generic-smpp", CarrierProtocol::Smpp)
        )
    }

    /// The version variants a protocol has.
    pub fn versions(p: CarrierProtocol) -> &'static [&'static str] {
        match p {
            CarrierProtocol::Cmpp2 => &["2.0"],
            CarrierProtocol::Cmpp3 => &["3.0"],
            CarrierProtocol::Sgip => &["1.2"],
            CarrierProtocol::Smgp => &["1.3", "2.0", "3.0"],
            CarrierProtocol::Smpp => &["3.3", "3.4"],
        }
    }

    /// The code this carrier's gateway uses for content we code `code`
    /// (the standard `data_coding` / `Msg_Fmt`): its own values for UCS-2
    /// (8) and GBK (15), which some gateways number differently; any other
    /// code as it is.
    pub fn wire_coding(&self, code: u8) -> u8 {
        match code {
            8 => self.data_coding_ucs2,
            15 => self.data_coding_gbk,
            other => other,
        }
    }

    /// The inverse of [`CarrierProfile::wire_coding`]: the standard code of
    /// content this carrier's gateway coded `code` (UCS-2 first when the
    /// profile gives both the same value).
    pub fn standard_coding(&self, code: u8) -> u8 {
        if code == self.data_coding_ucs2 {
            8
        } else if code == self.data_coding_gbk {
            15
        } else {
            code
        }
    }

    /// Applies the keys set in `o`.
    pub fn with(mut self, o: &ProfileOverrides) -> CarrierProfile {
        if let Some(v) = &o.version {
            self.version = v.clone();
        }
        if let Some(z) = o.login_time_zone.as_deref().and_then(parse_time_zone) {
            self.login_utc_offset_secs = z;
        }
        let f = &mut self.fee;
        if let Some(v) = &o.fee_type {
            f.fee_type = v.clone();
        }
        if let Some(v) = &o.fee_code {
            f.fee_code = v.clone();
        }
        if let Some(v) = &o.fixed_fee {
            f.fixed_fee = v.clone();
        }
        if let Some(v) = o.fee_user_type {
            f.fee_user_type = v;
        }
        if let Some(v) = &o.service_id {
            f.service_id = v.clone();
        }
        if let Some(v) = &o.corp_id {
            f.corp_id = v.clone();
        }
        self.submit_resp_id = o.submit_resp_id.unwrap_or(self.submit_resp_id);
        self.receipt_id = o.receipt_id.unwrap_or(self.receipt_id);
        self.receipts = o.receipts.unwrap_or(self.receipts);
        self.data_coding_ucs2 = o.data_coding_ucs2.unwrap_or(self.data_coding_ucs2);
        self.data_coding_gbk = o.data_coding_gbk.unwrap_or(self.data_coding_gbk);
        self.max_parts = o.max_parts.unwrap_or(self.max_parts);
        self.udh = o.udh.unwrap_or(self.udh);
        self
    }
}

/// Keys of a shipped profile a carrier changes (all optional; validated by
/// the parser, so every value here is legal).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProfileOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_time_zone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fee_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fee_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed_fee: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fee_user_type: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corp_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub submit_resp_id: Option<IdFormat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt_id: Option<IdFormat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipts: Option<ReceiptStyle>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_coding_ucs2: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_coding_gbk: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_parts: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub udh: Option<UdhStyle>,
}

impl ProfileOverrides {
    pub fn is_empty(&self) -> bool {
        *self == ProfileOverrides::default()
    }
}

/// A login time zone: `Asia/Shanghai` (and the other fixed +08:00 names
/// Chinese carriers use), `UTC`, or an offset `+HH:MM` / `-HH:MM`. Zones
/// with daylight saving are refused: a login clock must not jump.
pub fn parse_time_zone(s: &str) -> Option<i32> {
    match s {
        "Asia/Shanghai" | "Asia/Chongqing" | "Asia/Harbin" | "Asia/Hong_Kong" | "Asia/Macau" | "PRC" => {
            return Some(BEIJING_UTC_OFFSET_SECS)
        }
        "UTC" | "Etc/UTC" | "GMT" => return Some(0),
        _ => {}
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 14 && m < 60).then_some(sign * (h * 3600 + m * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_in_hex_and_the_same_id_in_decimal_have_one_canonical_form() {
        assert_eq!(IdFormat::Hex.canonical("000000007b"), "123");
        assert_eq!(IdFormat::Hex.canonical("7B"), "123");
        assert_eq!(IdFormat::Decimal.canonical("0123"), "123");
        assert_eq!(IdFormat::Text.canonical("0123"), "0123");
        assert_eq!(IdFormat::Decimal.canonical("ab-1"), "ab-1", "not a number: as is");
    }

    #[test]
    fn time_zones_are_names_without_dst_or_fixed_offsets() {
        assert_eq!(parse_time_zone("Asia/Shanghai"), Some(28_800));
        assert_eq!(parse_time_zone("UTC"), Some(0));
        assert_eq!(parse_time_zone("-05:30"), Some(-19_800));
        assert_eq!(parse_time_zone("Europe/London"), None);
        assert_eq!(parse_time_zone("+8"), None);
    }

    #[test]
    fn a_profiles_own_codes_map_both_ways() {
        let mut p = CarrierProfile::for_protocol(CarrierProtocol::Cmpp3);
        assert_eq!(
            (p.wire_coding(8), p.standard_coding(8)),
            (8, 8),
            "shipped: identity"
        );
        p.data_coding_ucs2 = 24;
        p.data_coding_gbk = 8;
        assert_eq!(
            (p.wire_coding(8), p.wire_coding(15), p.wire_coding(0)),
            (24, 8, 0)
        );
        assert_eq!(
            (p.standard_coding(24), p.standard_coding(8), p.standard_coding(0)),
            (8, 15, 0)
        );
    }

    #[test]
    fn every_protocol_has_a_shipped_profile_that_fits_it() {
        for p in CarrierProtocol::ALL {
            let prof = CarrierProfile::for_protocol(p);
            assert!(CarrierProfile::fits(&prof.name, p), "{p:?}");
            assert!(
                CarrierProfile::versions(p).contains(&prof.version.as_str()),
                "{p:?}"
            );
        }
    }
}
