//! Quirky carrier modes: what real ISMGs, SMGs and SMSCs send that the
//! specs do not, so tests prove the gateway copes. Per account (in the
//! simulator's config and through the control API's account update):
//! trailing bytes after login and heartbeat answers (an SMGP
//! Active_Test_Resp with a 1-byte Reserved), SMPP receipts that write the
//! message id in decimal while submit_sm_resp gave it in hex, and CMPP
//! status reports whose Msg_Content is longer or shorter than 60/71 bytes.
//!
//! Only the bytes on the wire change; the ledger keeps recording the
//! canonical ids, so tests still compare against the ground truth.

use bytes::{Bytes, BytesMut};
use serde::{Deserialize, Serialize};
use smsgw_protocols::framing::Wire;

use crate::config::Protocol;

/// One account's quirks; all off by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Quirks {
    /// Bytes (zeros) appended after the body of login and heartbeat answers.
    pub trailing_bytes: u8,
    /// SMPP: receipts carry the id in decimal (submit_sm_resp keeps hex).
    pub decimal_receipt_ids: bool,
    /// CMPP: report Msg_Content this many bytes longer (or, negative,
    /// shorter) than the spec's 60 / 71.
    pub report_length_delta: i8,
    /// SMPP: receipts carry their facts in the text alone, without the
    /// `receipted_message_id` TLV (an SMPP 3.3 SMSC).
    pub text_receipts: bool,
}

impl Quirks {
    /// Every quirk at once: 1 trailing byte, decimal receipt ids, reports
    /// 2 bytes too long.
    pub fn quirky() -> Quirks {
        Quirks {
            trailing_bytes: 1,
            decimal_receipt_ids: true,
            report_length_delta: 2,
            text_receipts: false,
        }
    }

    /// The id a receipt for `id` carries: SMPP's hex id in decimal when
    /// asked, else `id`.
    pub fn receipt_id(&self, protocol: Protocol, id: &str) -> String {
        if self.decimal_receipt_ids && protocol == Protocol::Smpp {
            if let Ok(n) = u128::from_str_radix(id, 16) {
                return n.to_string();
            }
        }
        id.to_string()
    }
}

/// `pdu` encoded with `n` zero bytes after its body and its total length
/// (the first 4 bytes in every protocol) counting them; `None` when `n` is
/// 0 or the PDU does not encode.
pub fn padded<W: Wire>(pdu: &W::Pdu, opts: &W::Options, n: u8) -> Option<Bytes> {
    if n == 0 {
        return None;
    }
    let mut b = BytesMut::new();
    W::encode(pdu, opts, &mut b).ok()?;
    b.extend(std::iter::repeat_n(0u8, usize::from(n)));
    let len = u32::try_from(b.len()).ok()?.to_be_bytes();
    b.get_mut(..4)?.copy_from_slice(&len);
    Some(b.freeze())
}

/// A report content resized by `delta` bytes (zeros added at the end, or
/// the end cut off).
pub fn resize_report(content: &Bytes, delta: i8) -> Bytes {
    let want = (content.len() as i64 + i64::from(delta)).max(0) as usize;
    let mut v = content.to_vec();
    v.resize(want, 0);
    Bytes::from(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use smsgw_protocols::smgp;

    #[test]
    fn a_padded_frame_counts_its_extra_bytes_in_its_length() {
        let pdu = smgp::Pdu::new(3, smgp::Body::ActiveTestResp);
        let b = padded::<smgp::Smgp>(&pdu, &smgp::Options, 1).unwrap();
        assert_eq!(b.len(), 13);
        assert_eq!(&b[..4], &13u32.to_be_bytes());
        assert!(padded::<smgp::Smgp>(&pdu, &smgp::Options, 0).is_none());
    }

    #[test]
    fn decimal_receipt_ids_are_smpp_only() {
        let q = Quirks::quirky();
        assert_eq!(q.receipt_id(Protocol::Smpp, "000000007b"), "123");
        assert_eq!(q.receipt_id(Protocol::Cmpp, "000000007b"), "000000007b");
        assert_eq!(Quirks::default().receipt_id(Protocol::Smpp, "7b"), "7b");
    }
}
