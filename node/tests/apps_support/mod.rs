//! A blocking SMPP application client built from our `protocols` crate,
//! over a plain `TcpStream` on 127.0.0.1, for the application-server tests.
#![allow(dead_code)]

pub mod cmpp;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use smsgw_protocols::framing::Wire;
use smsgw_protocols::smpp::{status, Bind, Body, DeliverSm, Options, Pdu, SmResp, Smpp, SubmitSm};

/// The bind kinds.
#[derive(Clone, Copy)]
pub enum Kind {
    Transmitter,
    Receiver,
    Transceiver,
}

pub struct SmppClient {
    s: TcpStream,
    seq: u32,
    /// deliver_sm received (answered OK when `answer_delivers`), in order.
    pub delivered: Vec<DeliverSm>,
    /// submit_sm_resp received: (sequence, status, message id).
    pub resps: Vec<(u32, u32, String)>,
    /// Whether to answer deliver_sm (false: leave them unanswered).
    pub answer_delivers: bool,
}

impl SmppClient {
    pub fn connect(addr: &str) -> SmppClient {
        let s = TcpStream::connect(addr).expect("connect to the SMPP server");
        s.set_nodelay(true).ok();
        SmppClient {
            s,
            seq: 0,
            delivered: Vec::new(),
            resps: Vec::new(),
            answer_delivers: true,
        }
    }

    /// Connects and binds; the bind's status (0 is bound).
    pub fn bind(addr: &str, kind: Kind, system_id: &str, password: &str) -> (SmppClient, u32) {
        let mut c = SmppClient::connect(addr);
        let b = Bind::new(system_id, password).expect("bind body");
        let body = match kind {
            Kind::Transmitter => Body::BindTransmitter(b),
            Kind::Receiver => Body::BindReceiver(b),
            Kind::Transceiver => Body::BindTransceiver(b),
        };
        let seq = c.send(body);
        let r = c.read(Duration::from_secs(10)).expect("bind answer");
        assert_eq!(r.sequence_number, seq);
        (c, r.command_status)
    }

    pub fn send(&mut self, body: Body) -> u32 {
        self.seq += 1;
        let pdu = Pdu::new(self.seq, body);
        self.send_pdu(&pdu);
        self.seq
    }

    pub fn send_pdu(&mut self, pdu: &Pdu) {
        let mut b = BytesMut::new();
        pdu.encode(&Options, &mut b).expect("encode");
        self.s.write_all(&b).expect("write");
    }

    pub fn send_raw(&mut self, raw: &[u8]) {
        self.s.write_all(raw).expect("write");
    }

    /// One PDU, or `None` at the timeout or when the server closed.
    pub fn read(&mut self, timeout: Duration) -> Option<Pdu> {
        self.s.set_read_timeout(Some(timeout)).ok();
        let mut len = [0u8; 4];
        self.s.read_exact(&mut len).ok()?;
        let n = u32::from_be_bytes(len) as usize;
        assert!((16..=65536).contains(&n), "frame length {n}");
        let mut frame = vec![0u8; n];
        frame[..4].copy_from_slice(&len);
        self.s.set_read_timeout(Some(Duration::from_secs(10))).ok();
        self.s.read_exact(&mut frame[4..]).ok()?;
        Some(Smpp::decode(Bytes::from(frame), &Options).expect("decodable PDU"))
    }

    /// A submit_sm of `text` (ASCII, data_coding 1) to `to` asking for a receipt.
    pub fn submit(&mut self, to: &str, text: &str) -> u32 {
        let mut sm = SubmitSm::new("", to, 1, Bytes::from(text.to_string())).expect("sm");
        sm.registered_delivery = 1;
        self.send(Body::SubmitSm(sm))
    }

    /// Reads until `done(self)` or `secs` pass, answering deliver_sm and
    /// enquire_link, recording submit answers; whether `done` came true.
    pub fn pump(&mut self, secs: u64, mut done: impl FnMut(&SmppClient) -> bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if done(self) {
                return true;
            }
            let Some(p) = self.read(Duration::from_millis(200)) else {
                continue;
            };
            match p.body {
                Body::DeliverSm(d) => {
                    if self.answer_delivers {
                        self.send_pdu(&Pdu {
                            command_status: status::ESME_ROK,
                            sequence_number: p.sequence_number,
                            body: Body::DeliverSmResp(SmResp::default()),
                        });
                    }
                    self.delivered.push(d);
                }
                Body::SubmitSmResp(r) => {
                    self.resps.push((
                        p.sequence_number,
                        p.command_status,
                        r.message_id.as_str().to_string(),
                    ));
                }
                Body::EnquireLink => {
                    if let Some(r) = Pdu::new(p.sequence_number, Body::EnquireLink).response(0) {
                        self.send_pdu(&r);
                    }
                }
                _ => {}
            }
        }
        done(self)
    }

    /// The receipted message ids of the receipts received.
    pub fn receipt_ids(&self) -> Vec<String> {
        self.delivered
            .iter()
            .filter(|d| d.is_receipt())
            .filter_map(|d| d.tlvs.receipted_message_id().map(str::to_string))
            .collect()
    }
}

/// The address after `key=` on the node's ready line.
pub fn ready_addr(node: &super::common::Node, key: &str) -> String {
    node.stdout
        .iter()
        .flat_map(|l| l.split_whitespace())
        .find_map(|w| w.strip_prefix(key))
        .expect("address on the ready line")
        .to_string()
}

/// The demo account's application password.
pub fn demo_password(node: &super::common::Node) -> String {
    std::fs::read_to_string(node.data().join("demo-password"))
        .expect("demo password file")
        .trim()
        .to_string()
}

/// The demo node's document (carriers from its demo line), made a real
/// document, changed by `change`, applied with `config apply`.
pub fn apply_demo_doc(node: &super::common::Node, change: impl FnOnce(&mut smsgw_config::ClusterDoc)) {
    use smsgw_config::{ClusterDoc, DemoCarrier, DemoCarriers};
    use smsgw_simulator::config::Protocol as P;
    let line = node
        .stdout
        .iter()
        .find(|l| l.starts_with("demo: carriers"))
        .expect("demo line");
    let words: Vec<&str> = line.split_whitespace().collect();
    let addr_after = |p: &str| {
        let i = words
            .iter()
            .position(|w| w.trim_start_matches('(') == p)
            .expect("protocol in demo line");
        words[i + 1].trim_end_matches(',').to_string()
    };
    let accounts = smsgw_simulator::config::default_accounts();
    let carrier = |p: P, name: &str| {
        let a = accounts.iter().find(|a| a.protocol == p).expect("sim account");
        DemoCarrier {
            address: addr_after(name),
            login: a.login.clone(),
            password: a.password.clone(),
        }
    };
    let carriers = DemoCarriers {
        china_mobile: carrier(P::Cmpp, "CMPP"),
        china_unicom: carrier(P::Sgip, "SGIP"),
        china_telecom: carrier(P::Smgp, "SMGP"),
        international: carrier(P::Smpp, "SMPP"),
    };
    let mut doc = ClusterDoc::demo(&carriers, &node.demo_key());
    doc.demo = false;
    let pw = demo_password(node);
    doc.accounts[0].apps = Some(smsgw_config::AppLogins {
        system_id: Some("demo".into()),
        password: Some(pw.clone()),
        sp_id: Some("900100".into()),
        secret: Some(pw),
        tps: None,
    });
    change(&mut doc);
    let file = node.dir.path().join("apps.toml");
    std::fs::write(&file, doc.to_toml()).expect("write doc");
    let (ok, out, err) = super::common::cli(
        node.dir.path(),
        &["config", "apply", "apps.toml", "--addr", &node.raft],
    );
    assert!(ok, "config apply: {out}{err}");
}

/// Binds, retrying while the document that has the login is not yet in force.
pub fn bind_eventually(addr: &str, kind: Kind, system_id: &str, password: &str) -> SmppClient {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (c, st) = SmppClient::bind(addr, kind, system_id, password);
        if st == 0 {
            return c;
        }
        assert!(Instant::now() < deadline, "bind of {system_id} refused: {st:#x}");
        std::thread::sleep(Duration::from_millis(200));
    }
}
