//! A blocking CMPP SP client built from our `protocols` crate.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use smsgw_protocols::cmpp::{
    timestamp_now, Body, Cmpp, CmppVersion, Connect, Deliver, DeliverResp, Options, Pdu, Submit,
};
use smsgw_protocols::framing::Wire;
use smsgw_protocols::text::{self, Encoding};
use smsgw_protocols::FixedStr;

pub struct CmppClient {
    s: TcpStream,
    seq: u32,
    pub version: CmppVersion,
    /// DELIVER received (and answered OK), in order.
    pub delivered: Vec<Deliver>,
    /// SUBMIT_RESP received: (sequence, result, Msg_Id).
    pub resps: Vec<(u32, u32, u64)>,
}

impl CmppClient {
    /// Connects and sends CONNECT; the client and the CONNECT_RESP status
    /// (0 is logged in; then the ISMG's authenticator was checked too).
    pub fn connect(addr: &str, version: CmppVersion, sp_id: &str, secret: &str) -> (CmppClient, u32) {
        let s = TcpStream::connect(addr).expect("connect to the CMPP server");
        s.set_nodelay(true).ok();
        let mut c = CmppClient {
            s,
            seq: 0,
            version,
            delivered: Vec::new(),
            resps: Vec::new(),
        };
        let connect = Connect::new(sp_id, secret, timestamp_now(), version).expect("connect body");
        let source = connect.authenticator_source;
        c.send(Body::Connect(connect));
        let r = c.read(Duration::from_secs(10)).expect("CONNECT_RESP");
        let Body::ConnectResp(resp) = r.body else {
            panic!("not a CONNECT_RESP: {:?}", r.body)
        };
        if resp.status == 0 {
            assert!(
                resp.verify(&source, secret, version),
                "the ISMG proves it knows the secret"
            );
        }
        (c, resp.status)
    }

    pub fn send(&mut self, body: Body) -> u32 {
        self.seq += 1;
        let pdu = Pdu::new(self.seq, body);
        self.send_pdu(&pdu);
        self.seq
    }

    fn send_pdu(&mut self, pdu: &Pdu) {
        let mut b = BytesMut::new();
        Cmpp::encode(pdu, &Options::new(self.version), &mut b).expect("encode");
        self.s.write_all(&b).expect("write");
    }

    pub fn read(&mut self, timeout: Duration) -> Option<Pdu> {
        self.s.set_read_timeout(Some(timeout)).ok();
        let mut len = [0u8; 4];
        self.s.read_exact(&mut len).ok()?;
        let n = u32::from_be_bytes(len) as usize;
        assert!((12..=65536).contains(&n), "frame length {n}");
        let mut frame = vec![0u8; n];
        frame[..4].copy_from_slice(&len);
        self.s.set_read_timeout(Some(Duration::from_secs(10))).ok();
        self.s.read_exact(&mut frame[4..]).ok()?;
        Some(Cmpp::decode(Bytes::from(frame), &Options::new(self.version)).expect("decodable PDU"))
    }

    /// A SUBMIT of `text` in UCS-2 to `to`, asking for a report.
    pub fn submit(&mut self, sp_id: &str, to: &str, text: &str) -> u32 {
        let content = text::encode(text, Encoding::Ucs2).expect("ucs2");
        let s = Submit {
            pk_total: 1,
            pk_number: 1,
            registered_delivery: 1,
            msg_fmt: 8,
            msg_src: FixedStr::for_field("msg_src", sp_id).expect("sp id"),
            src_id: FixedStr::for_field("src_id", "1069000").expect("src"),
            dest_terminal_ids: vec![FixedStr::for_field("dest", to).expect("dest")],
            msg_content: Bytes::from(content),
            ..Submit::default()
        };
        self.send(Body::Submit(Box::new(s)))
    }

    /// Reads until `done(self)` or `secs` pass, answering DELIVER and
    /// ACTIVE_TEST; whether `done` came true.
    pub fn pump(&mut self, secs: u64, mut done: impl FnMut(&CmppClient) -> bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if done(self) {
                return true;
            }
            let Some(p) = self.read(Duration::from_millis(200)) else {
                continue;
            };
            match p.body {
                Body::Deliver(d) => {
                    let resp = DeliverResp {
                        msg_id: d.msg_id,
                        result: 0,
                    };
                    self.send_pdu(&Pdu::new(p.sequence_id, Body::DeliverResp(resp)));
                    self.delivered.push(*d);
                }
                Body::SubmitResp(r) => self.resps.push((p.sequence_id, r.result, r.msg_id.0)),
                _ => {}
            }
        }
        done(self)
    }

    /// The Msg_Ids the reports received are about.
    pub fn report_ids(&self) -> Vec<u64> {
        self.delivered
            .iter()
            .filter_map(|d| d.report().ok().flatten())
            .map(|r| r.msg_id.0)
            .collect()
    }
}
