//! What an authenticated peer sends on the raft port: bytes through the
//! length-delimited framing (the port's limits) and every frame through the
//! request decoder. Nothing may panic or allocate without bound.
#![no_main]

use bytes::BytesMut;
use smsgw_raft::network::wire::{RpcRequest, RpcResponse, MAX_FRAME};
use tokio_util::codec::{Decoder, LengthDelimitedCodec};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut codec = LengthDelimitedCodec::builder()
        .max_frame_length(MAX_FRAME)
        .new_codec();
    let mut buf = BytesMut::from(data);
    while let Ok(Some(frame)) = codec.decode(&mut buf) {
        let _ = smsgw_raft::codec::decode_frame::<RpcRequest>(&frame);
        let _ = smsgw_raft::codec::decode_frame::<RpcResponse>(&frame);
    }
    // The bytes as one frame whose length was right.
    let _ = smsgw_raft::codec::decode_frame::<RpcRequest>(data);
});
