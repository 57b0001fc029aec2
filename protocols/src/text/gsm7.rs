//! GSM 03.38 (3GPP TS 23.038) 7-bit default alphabet: the character tables,
//! septet conversion, and septet packing.
//!
//! Two forms exist on the wire. *Unpacked* (one septet per octet) is what SMPP
//! `short_message` carries with `data_coding` 0; the SMSC packs it for the
//! air. *Packed* (7 bits per character, LSB first) is the TPDU form, with
//! fill bits after a UDH so the text starts on a septet boundary.
//!
//! This module never panics on input and never guesses: a byte above 0x7F is
//! not a septet and is an error with its offset.

use super::{Encoding, TextError};

/// The escape septet that switches to the extension table for one character.
pub const ESCAPE: u8 = 0x1B;

/// The default alphabet, indexed by septet. 0x1B (escape) is shown as a space,
/// as TS 23.038 asks receivers to display it when no extension table applies.
const DEFAULT: [char; 128] = [
    '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å', //
    'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', ' ', 'Æ', 'æ', 'ß', 'É', //
    ' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/', //
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?', //
    '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', //
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§', //
    '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', //
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à', //
];

/// The extension table: (septet after the escape, character).
const EXTENSION: [(u8, char); 10] = [
    (0x0A, '\u{000C}'), // form feed
    (0x14, '^'),
    (0x28, '{'),
    (0x29, '}'),
    (0x2F, '\\'),
    (0x3C, '['),
    (0x3D, '~'),
    (0x3E, ']'),
    (0x40, '|'),
    (0x65, '€'),
];

/// The septets for one character: `Some([c, 0], 1)` for the default table,
/// `Some([ESCAPE, c], 2)` for the extension table, `None` when GSM 7-bit
/// cannot carry it.
pub fn char_to_septets(c: char) -> Option<([u8; 2], usize)> {
    if let Some(&(code, _)) = EXTENSION.iter().find(|&&(_, e)| e == c) {
        return Some(([ESCAPE, code], 2));
    }
    // The escape slot is displayed as a space but never encodes one.
    if c == ' ' {
        return Some(([0x20, 0], 1));
    }
    DEFAULT.iter().position(|&d| d == c).map(|i| ([i as u8, 0], 1))
}

/// How many septets a character costs (1 or 2), or `None` if it is not in the
/// alphabet.
pub fn septet_len(c: char) -> Option<usize> {
    char_to_septets(c).map(|(_, n)| n)
}

/// Whether every character of `text` is in the default or extension table.
pub fn can_encode(text: &str) -> bool {
    text.chars().all(|c| septet_len(c).is_some())
}

/// Text to unpacked septets (one per octet).
pub fn encode(text: &str) -> Result<Vec<u8>, TextError> {
    let mut out = Vec::with_capacity(text.len());
    for (offset, c) in text.char_indices() {
        let (s, n) = char_to_septets(c).ok_or(TextError::Unencodable {
            encoding: Encoding::Gsm7,
            ch: c,
            offset,
        })?;
        out.extend_from_slice(&s[..n]);
    }
    Ok(out)
}

/// Unpacked septets to text.
///
/// Follows TS 23.038 for codes the extension table does not define: an escape
/// followed by such a code shows the default-table character, and a double
/// escape shows a space. A septet above 0x7F, or an escape with nothing after
/// it, is an error.
pub fn decode(septets: &[u8]) -> Result<String, TextError> {
    let mut out = String::with_capacity(septets.len());
    let mut i = 0;
    while let Some(&s) = septets.get(i) {
        if s > 0x7F {
            return Err(invalid(i, "octet above 0x7F is not a septet"));
        }
        if s != ESCAPE {
            out.push(DEFAULT[s as usize]);
            i += 1;
            continue;
        }
        let Some(&e) = septets.get(i + 1) else {
            return Err(invalid(i, "escape at the end with no character after it"));
        };
        if e > 0x7F {
            return Err(invalid(i + 1, "octet above 0x7F is not a septet"));
        }
        let c = match EXTENSION.iter().find(|&&(code, _)| code == e) {
            Some(&(_, c)) => c,
            None if e == ESCAPE => ' ',
            None => DEFAULT[e as usize],
        };
        out.push(c);
        i += 2;
    }
    Ok(out)
}

fn invalid(offset: usize, reason: &'static str) -> TextError {
    TextError::Invalid {
        encoding: Encoding::Gsm7,
        offset,
        reason,
    }
}

/// The number of fill bits that follow a UDH of `udh_len` octets (including
/// its length octet) so the text starts on a septet boundary.
pub fn fill_bits(udh_len: usize) -> u8 {
    ((7 - (udh_len * 8) % 7) % 7) as u8
}

/// Packs septets 7 bits each, least significant bit first, after `fill_bits`
/// zero bits (0..=6; larger values are taken modulo 7). The result is the
/// octets that follow the UDH (or the whole user data when there is none).
///
/// Spare bits in the last octet are zero; see [`pack_padded`] for the
/// `<CR>` padding TS 23.038 asks for when seven bits are spare.
pub fn pack_septets(septets: &[u8], fill_bits: u8) -> Vec<u8> {
    let fill = usize::from(fill_bits % 7);
    let total_bits = fill + 7 * septets.len();
    let mut out = vec![0u8; total_bits.div_ceil(8)];
    let mut bit = fill;
    for &s in septets {
        let v = u16::from(s & 0x7F) << (bit % 8);
        let at = bit / 8;
        if let Some(o) = out.get_mut(at) {
            *o |= v as u8;
        }
        if let Some(o) = out.get_mut(at + 1) {
            *o |= (v >> 8) as u8;
        }
        bit += 7;
    }
    out
}

/// Like [`pack_septets`], but when the last octet would have seven spare bits
/// they hold `<CR>` (TS 23.038 §6.1.2.3.1), so a receiver that infers the
/// count from the length does not see a spurious `@`.
/// [`unpack_padded`] undoes this.
pub fn pack_padded(septets: &[u8], fill_bits: u8) -> Vec<u8> {
    let fill = usize::from(fill_bits % 7);
    if (fill + 7 * septets.len()) % 8 == 1 {
        let mut padded = septets.to_vec();
        padded.push(0x0D);
        pack_septets(&padded, fill_bits)
    } else {
        pack_septets(septets, fill_bits)
    }
}

/// Unpacks `count` septets that follow `fill_bits` fill bits. Errors (with
/// the offset of the missing octet) when `bytes` is too short.
pub fn unpack_septets(bytes: &[u8], count: usize, fill_bits: u8) -> Result<Vec<u8>, TextError> {
    let fill = usize::from(fill_bits % 7);
    let needed = count
        .checked_mul(7)
        .and_then(|b| b.checked_add(fill))
        .map(|b| b.div_ceil(8))
        .unwrap_or(usize::MAX);
    if needed > bytes.len() {
        return Err(TextError::Invalid {
            encoding: Encoding::Gsm7,
            offset: bytes.len(),
            reason: "packed septets end before the count given",
        });
    }
    let mut out = Vec::with_capacity(count);
    let mut bit = fill;
    for _ in 0..count {
        let at = bit / 8;
        let lo = u16::from(bytes.get(at).copied().unwrap_or(0));
        let hi = u16::from(bytes.get(at + 1).copied().unwrap_or(0));
        let v = ((lo | hi << 8) >> (bit % 8)) & 0x7F;
        out.push(v as u8);
        bit += 7;
    }
    Ok(out)
}

/// Unpacks all whole septets in `bytes` after `fill_bits`, dropping the
/// `<CR>` that [`pack_padded`] adds in seven spare bits.
///
/// The one ambiguity is TS 23.038's own: a text that really ends with `<CR>`
/// exactly on an octet boundary loses that `<CR>`.
pub fn unpack_padded(bytes: &[u8], fill_bits: u8) -> Vec<u8> {
    let fill = usize::from(fill_bits % 7);
    let bits = bytes.len() * 8;
    let count = bits.saturating_sub(fill) / 7;
    let mut out = unpack_septets(bytes, count, fill_bits).unwrap_or_default();
    if count > 0 && (fill + 7 * count) == bits && out.last() == Some(&0x0D) {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_septet_round_trips() {
        for s in 0u8..0x80 {
            if s == ESCAPE {
                continue;
            }
            let text = decode(&[s]).unwrap();
            assert_eq!(encode(&text).unwrap(), vec![s], "septet {s:#04x}");
        }
    }

    #[test]
    fn fill_bits_for_usual_udh_lengths() {
        assert_eq!(fill_bits(6), 1);
        assert_eq!(fill_bits(7), 0);
        assert_eq!(fill_bits(0), 0);
    }
}
