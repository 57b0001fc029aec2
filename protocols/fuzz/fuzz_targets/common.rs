//! The one fuzz body every decoder target shares: arbitrary bytes through the
//! frame codec (as from a socket) and through `Protocol::decode` directly, and
//! whatever decodes must encode and decode again to the same value. `extra`
//! runs on every decoded PDU, for what a target checks beyond the frame
//! (status reports carried in content, UDH concatenation).

use bytes::{Bytes, BytesMut};
use smsgw_protocols::framing::{FrameCodec, Protocol};
use tokio_util::codec::Decoder;

pub fn fuzz<P: Protocol>(data: &[u8], opts: P::Options, extra: impl Fn(&P::Pdu))
where
    P::Pdu: PartialEq + std::fmt::Debug,
{
    let mut codec = FrameCodec::<P>::new().with_options(opts.clone());
    let mut buf = BytesMut::from(data);
    while let Ok(Some(item)) = codec.decode(&mut buf) {
        if let Ok(pdu) = item {
            roundtrip::<P>(&pdu, &opts);
            extra(&pdu);
        }
    }
    // Pretend the length field was right, to reach the body decoders with
    // every possible body.
    if data.len() >= P::HEADER_LEN {
        let mut frame = data.to_vec();
        let len = (frame.len() as u32).to_be_bytes();
        frame[..4].copy_from_slice(&len);
        if let Ok(pdu) = P::decode(Bytes::from(frame), &opts) {
            roundtrip::<P>(&pdu, &opts);
            extra(&pdu);
        }
    }
}

fn roundtrip<P: Protocol>(pdu: &P::Pdu, opts: &P::Options)
where
    P::Pdu: PartialEq + std::fmt::Debug,
{
    let mut out = BytesMut::new();
    if P::encode(pdu, opts, &mut out).is_ok() {
        let again = P::decode(out.freeze(), opts).expect("re-encoded PDU must decode");
        assert_eq!(&again, pdu, "decode(encode(pdu)) != pdu");
    }
}
