//! bincode 2 (serde mode) encoding shared by the stores, snapshots and the
//! wire. It must never choose a different configuration per call site: data
//! written by one module is read by another and by other versions of the node.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Encoding or decoding failed.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// The value could not be encoded.
    #[error("encode: {0}")]
    Encode(#[from] bincode::error::EncodeError),
    /// The bytes are not a valid encoding of the expected type.
    #[error("decode: {0}")]
    Decode(#[from] bincode::error::DecodeError),
    /// A row's own framing around encoded values is cut or wrong.
    #[error("decode: {0}")]
    Framing(&'static str),
}

fn config() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// Encodes a value with the project's bincode configuration.
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, CodecError> {
    Ok(bincode::serde::encode_to_vec(value, config())?)
}

/// Decodes a value written by [`encode`].
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    let (value, _) = bincode::serde::decode_from_slice(bytes, config())?;
    Ok(value)
}

/// Most bytes [`decode_frame`] reads: a frame of the raft port (see
/// `network::wire::MAX_FRAME`).
pub const FRAME_LIMIT: usize = 64 * 1024 * 1024;

/// Decodes a value that arrived over the network. Same encoding as
/// [`decode`], but no length prefix inside may claim more than
/// [`FRAME_LIMIT`] bytes: without the limit, 11 bytes claiming a string of
/// 2^62 bytes made the allocator abort the process (found by `raft/fuzz`).
pub fn decode_frame<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    let (value, _) = bincode::serde::decode_from_slice(bytes, config().with_limit::<FRAME_LIMIT>())?;
    Ok(value)
}

/// `#[serde(with = "smsgw_raft::codec::bytes")]` for a `Vec<u8>` field:
/// serde's own `Vec<u8>` goes element by element (a call per byte each
/// way), bytes go in one copy. bincode writes both the same way (a varint
/// length, then the bytes: a `u8` is never varint-coded), so values
/// written either way read either way; JSON writes both as an array.
pub mod bytes {
    use serde::{Deserializer, Serializer};

    /// Writes `v` as one byte string.
    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v)
    }

    /// Reads a byte string (or a sequence of bytes, from formats that
    /// have no byte strings).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        d.deserialize_byte_buf(Visitor)
    }

    struct Visitor;

    impl<'de> serde::de::Visitor<'de> for Visitor {
        type Value = Vec<u8>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a byte string")
        }

        fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
            Ok(v.to_vec())
        }

        fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
            Ok(v)
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
            // A length claimed by the input is never trusted for the allocation.
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
            while let Some(b) = seq.next_element()? {
                out.push(b);
            }
            Ok(out)
        }
    }
}

/// `#[serde(with = "smsgw_raft::codec::bytes_list")]` for a `Vec<Vec<u8>>`
/// field: a sequence of byte strings, each as [`bytes`] writes it (the same
/// encoding as serde's own, in one copy per element).
pub mod bytes_list {
    use serde::de::SeqAccess;
    use serde::ser::SerializeSeq;
    use serde::{Deserializer, Serializer};

    struct One<'a>(&'a [u8]);

    impl serde::Serialize for One<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            super::bytes::serialize(self.0, s)
        }
    }

    struct OneOwned(Vec<u8>);

    impl<'de> serde::Deserialize<'de> for OneOwned {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            super::bytes::deserialize(d).map(OneOwned)
        }
    }

    /// Writes `v` as a sequence of byte strings.
    pub fn serialize<S: Serializer>(v: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(v.len()))?;
        for b in v {
            seq.serialize_element(&One(b))?;
        }
        seq.end()
    }

    /// Reads a sequence of byte strings.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        struct List;
        impl<'de> serde::de::Visitor<'de> for List {
            type Value = Vec<Vec<u8>>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a sequence of byte strings")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Vec<u8>>, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
                while let Some(OneOwned(b)) = seq.next_element()? {
                    out.push(b);
                }
                Ok(out)
            }
        }
        d.deserialize_seq(List)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::wire::RpcRequest;

    /// The same fields with serde's own `Vec<u8>` and with [`bytes`] /
    /// [`bytes_list`].
    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Plain {
        one: Vec<u8>,
        list: Vec<Vec<u8>>,
        none: Option<String>,
    }

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct InOneCopy {
        #[serde(with = "bytes")]
        one: Vec<u8>,
        #[serde(with = "bytes_list")]
        list: Vec<Vec<u8>>,
        none: Option<String>,
    }

    #[test]
    fn byte_strings_are_written_exactly_as_serdes_own_vec_of_u8_and_read_either_way() {
        let long: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        for (one, list) in [
            (Vec::new(), Vec::new()),
            (b"x".to_vec(), vec![Vec::new()]),
            (
                long.clone(),
                vec![
                    long.clone(),
                    b"{\"to\":\"13800138000\"}".to_vec(),
                    vec![0xff; 300],
                ],
            ),
        ] {
            let plain = Plain {
                one: one.clone(),
                list: list.clone(),
                none: None,
            };
            let fast = InOneCopy {
                one,
                list,
                none: None,
            };
            let (a, b) = (encode(&plain).expect("plain"), encode(&fast).expect("fast"));
            assert_eq!(a, b, "the two encodings differ");
            let back: InOneCopy = decode(&a).expect("old bytes, new type");
            assert_eq!(back, fast);
            let old: Plain = decode(&b).expect("new bytes, old type");
            assert_eq!(old, plain);
            let json = serde_json::to_string(&fast).expect("json");
            assert_eq!(json, serde_json::to_string(&plain).expect("json"));
            assert_eq!(serde_json::from_str::<InOneCopy>(&json).expect("json back"), fast);
        }
    }

    #[test]
    fn a_byte_string_claiming_more_than_the_frame_is_refused() {
        // varint 0xfd + u64 LE claiming 2^62 bytes, then nothing.
        let crash = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0x40];
        assert!(decode_frame::<InOneCopy>(&crash).is_err());
    }

    #[test]
    fn a_frame_claiming_a_huge_string_is_refused_not_allocated() {
        // The shape of the fuzzer's crash input, for today's frame types:
        // RpcRequest::ClientWrite (variant 3) whose byte string claims
        // 2^62 bytes (varint 0xfd + u64 LE) in an 11-byte frame.
        let crash = [0x03, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0x40, 0];
        assert!(decode_frame::<RpcRequest>(&crash).is_err());
        // The same claim inside an admin request (Admin = 4, Propose = 8).
        let admin = [0x04, 0x08, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0x40];
        assert!(decode_frame::<RpcRequest>(&admin).is_err());
    }
}
