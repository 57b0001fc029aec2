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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::wire::RpcRequest;

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
