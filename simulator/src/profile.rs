//! A simulated account playing a named carrier profile (`profile =
//! "china-mobile"` on an account, `smsgw sim --profile NAME`): the same
//! shipped [`CarrierProfile`]s the gateway reads from the cluster document,
//! so a test proves the gateway and "the carrier" agree on each profile.
//!
//! What playing a profile changes: a login in another protocol version is
//! refused; content codes are read (and MOs coded, [`crate::mo::parts_as`])
//! with the profile's `data_coding` for UCS-2 and GBK; SMPP receipts write the id the profile's way (decimal
//! while submit_sm_resp is hex, text only); the numbering of each long
//! part is recorded so tests check it against the profile's UDH style.
//!
//! This module only interprets a profile; it never touches a socket.

use smsgw_config::{CarrierProfile, IdFormat, ReceiptStyle, UdhStyle};
use smsgw_protocols::text::Encoding;
use smsgw_protocols::udh::{Concat, ConcatStyle};

use crate::config::{Account, Protocol, SimConfig};
use crate::quirks::Quirks;

/// The profile an account plays, overrides applied; `None` for an account
/// without one (or naming no shipped profile, which validation refuses).
pub fn of(a: &Account) -> Option<CarrierProfile> {
    let name = a.profile.as_deref()?;
    Some(CarrierProfile::shipped(name)?.with(&a.profile_overrides))
}

/// The simulator protocol a shipped profile is for.
pub fn protocol_of(name: &str) -> Option<Protocol> {
    use smsgw_config::CarrierProtocol as C;
    C::ALL
        .into_iter()
        .find(|&p| CarrierProfile::fits(name, p))
        .map(|p| match p {
            C::Cmpp2 | C::Cmpp3 => Protocol::Cmpp,
            C::Sgip => Protocol::Sgip,
            C::Smgp => Protocol::Smgp,
            C::Smpp => Protocol::Smpp,
        })
}

/// Makes every account of the profile's protocol play shipped profile
/// `name` (`smsgw sim --profile NAME`); returns how many do. Errors for a
/// name that is not a shipped profile.
pub fn play_everywhere(cfg: &mut SimConfig, name: &str) -> Result<usize, String> {
    let p = protocol_of(name).ok_or_else(|| {
        format!("`{name}` is not a shipped profile (china-mobile, china-unicom, china-telecom, generic-smpp)")
    })?;
    let mut n = 0;
    for a in cfg.accounts.iter_mut().filter(|a| a.protocol == p) {
        a.profile = Some(name.to_string());
        n += 1;
    }
    Ok(n)
}

/// The login version byte of a profile: "3.0" is 0x30, "1.3" 0x13.
pub fn version_byte(p: &CarrierProfile) -> Option<u8> {
    let (major, minor) = p.version.split_once('.')?;
    let (major, minor): (u8, u8) = (major.parse().ok()?, minor.parse().ok()?);
    (major < 16 && minor < 16).then_some(major << 4 | minor)
}

/// Whether a login announcing `version` may go on for `a`: always without a
/// profile or a version byte in the protocol (SGIP); else only the
/// profile's own version.
pub fn version_ok(a: &Account, version: Option<u8>) -> bool {
    match (of(a), version) {
        (Some(p), Some(v)) => version_byte(&p).is_none_or(|want| want == v),
        _ => true,
    }
}

/// The encoding of content coded `code` by `a`'s carrier: the profile's
/// UCS-2 and GBK codes first, then the protocol's standard ones.
pub fn encoding_of(a: &Account, protocol: Protocol, code: u8) -> Option<Encoding> {
    let code = of(a).map_or(code, |p| p.standard_coding(code));
    match protocol {
        Protocol::Smpp => Encoding::from_data_coding(code),
        _ => Encoding::from_msg_fmt(code),
    }
}

/// The account's quirks with what its profile implies added: decimal
/// receipt ids when the profile writes them so, and receipts without the
/// `receipted_message_id` TLV when it reads the text alone.
pub fn quirks(a: &Account) -> Quirks {
    let mut q = a.quirks;
    if let Some(p) = of(a) {
        q.decimal_receipt_ids |= p.submit_resp_id == IdFormat::Hex && p.receipt_id == IdFormat::Decimal;
        q.text_receipts |= p.receipts == ReceiptStyle::Text;
    }
    q
}

/// The numbering style a long part arrived with: its UDH's, else `sar_*`.
pub fn numbering(udh: Option<Concat>, sar: bool) -> Option<ConcatStyle> {
    match udh {
        Some(c) if c.wide_reference => Some(ConcatStyle::Udh16),
        Some(_) => Some(ConcatStyle::Udh8),
        None => sar.then_some(ConcatStyle::Sar),
    }
}

/// The numbering a profile asks for.
pub fn style_of(p: &CarrierProfile) -> ConcatStyle {
    match p.udh {
        UdhStyle::Bit8 => ConcatStyle::Udh8,
        UdhStyle::Bit16 => ConcatStyle::Udh16,
        UdhStyle::Sar => ConcatStyle::Sar,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_bytes_and_other_versions_are_refused() {
        let mut a = Account::new(Protocol::Smgp, "9", "s");
        assert!(version_ok(&a, Some(0x13)), "no profile: anything");
        a.profile = Some("china-telecom".into());
        assert!(version_ok(&a, Some(0x30)));
        assert!(!version_ok(&a, Some(0x13)));
        a.profile_overrides.version = Some("1.3".into());
        assert!(version_ok(&a, Some(0x13)));
        assert!(version_ok(&a, None), "no version byte in the protocol");
    }

    #[test]
    fn a_named_profile_is_played_by_the_accounts_of_its_protocol() {
        let mut cfg = SimConfig::for_tests();
        assert_eq!(play_everywhere(&mut cfg, "china-unicom"), Ok(1));
        let sgip = cfg.account(Protocol::Sgip, "900001").unwrap();
        assert_eq!(sgip.profile.as_deref(), Some("china-unicom"));
        assert!(cfg.account(Protocol::Cmpp, "900001").unwrap().profile.is_none());
        assert!(play_everywhere(&mut cfg, "nope").is_err());
    }

    #[test]
    fn a_profiles_codes_win_over_the_standard_ones() {
        let mut a = Account::new(Protocol::Cmpp, "9", "s");
        assert_eq!(encoding_of(&a, Protocol::Cmpp, 24), None);
        a.profile = Some("china-mobile".into());
        a.profile_overrides.data_coding_ucs2 = Some(24);
        assert_eq!(encoding_of(&a, Protocol::Cmpp, 24), Some(Encoding::Ucs2));
        assert_eq!(encoding_of(&a, Protocol::Cmpp, 15), Some(Encoding::Gbk));
    }
}
