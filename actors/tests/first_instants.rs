//! An MO (or report) the carrier writes right behind its login answer, in
//! the same TCP segment, reaches the gateway at once. The link's login
//! reads past the answer; those bytes used to be handed to the reader's
//! buffer, which a `FramedRead` does not look into before the socket has
//! more to read: on a quiet link the MO waited for the next heartbeat
//! answer (30 s) or for ever. The carrier here is a raw socket that writes
//! CONNECT_RESP and a DELIVER in one `write_all`, then says nothing.

use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use futures::StreamExt;
use smsgw_actors::link::{self, ConnectTimeouts, Delivered};
use smsgw_actors::proto::cmpp::CmppClient;
use smsgw_actors::proto::{ClientProtocol, Credentials};
use smsgw_protocols::cmpp::{self, MsgId};
use smsgw_protocols::framing::FrameCodec;
use smsgw_protocols::FixedStr;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio_util::codec::{Encoder, FramedRead};

#[tokio::test]
async fn an_mo_in_the_login_answers_segment_is_delivered_and_answered() {
    let proto = Arc::new(CmppClient::default());
    let opts = proto.options();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let mo_id = MsgId(0x0123_4567_89ab_cdef);
    let carrier = tokio::spawn(async move {
        let (s, _) = listener.accept().await.expect("accept");
        let (rd, mut wr) = s.into_split();
        let mut read = FramedRead::new(rd, FrameCodec::<cmpp::Cmpp>::new().with_options(opts.clone()));
        let login = read
            .next()
            .await
            .expect("a login")
            .expect("framed")
            .expect("decoded");
        let mut codec = FrameCodec::<cmpp::Cmpp>::new().with_options(opts);
        let mut out = BytesMut::new();
        let resp = cmpp::ConnectResp {
            status: 0,
            authenticator_ismg: [0; 16],
            version: 0x30,
        };
        codec
            .encode(
                cmpp::Pdu::new(login.sequence_id, cmpp::Body::ConnectResp(resp)),
                &mut out,
            )
            .expect("encode CONNECT_RESP");
        let mo = cmpp::Deliver {
            msg_id: mo_id,
            dest_id: FixedStr::truncating("1069000110"),
            src_terminal_id: FixedStr::truncating("13800000095"),
            msg_fmt: 0,
            msg_content: bytes::Bytes::from_static(b"help"),
            ..cmpp::Deliver::default()
        };
        codec
            .encode(cmpp::Pdu::new(77, cmpp::Body::Deliver(Box::new(mo))), &mut out)
            .expect("encode DELIVER");
        // One write: the login answer and the MO arrive together.
        wr.write_all(&out).await.expect("write");
        // Quiet from here on; the gateway's answer to the MO is all we read.
        let answer = tokio::time::timeout(Duration::from_secs(10), read.next()).await;
        (answer, wr)
    });

    let creds = Credentials {
        login: "900001".into(),
        password: "secret".into(),
    };
    let conn = link::connect(&*proto, &addr, &creds, ConnectTimeouts::default())
        .await
        .expect("login accepted");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let sink: link::DeliverSink = Arc::new(move |d, ack| {
        let _ = tx.send((d, ack));
    });
    let io = link::spawn(conn, proto, "cm".into(), sink, Arc::new(|_| {}));

    let (d, ack) = tokio::time::timeout(Duration::from_secs(3), rx.recv())
        .await
        .expect("the MO is read at once, not at the next bytes on the link")
        .expect("the link is up");
    let Delivered::Mo(mo) = d else {
        panic!("not an MO: {d:?}")
    };
    assert_eq!(mo.source, "13800000095");
    assert_eq!(mo.content.as_ref(), b"help");
    assert_eq!(
        mo.carrier_id,
        Some(mo_id.to_string()),
        "its Msg_Id is its dedupe key"
    );
    ack.fire();
    let (answer, _wr) = carrier.await.expect("carrier task");
    let pdu = answer
        .expect("the DELIVER answered")
        .expect("a frame")
        .expect("framed")
        .expect("decoded");
    assert_eq!(pdu.sequence_id, 77);
    assert!(matches!(pdu.body, cmpp::Body::DeliverResp(_)), "{pdu:?}");
    drop(io);
}
