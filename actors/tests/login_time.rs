//! Logins carry Beijing time whatever zone the host runs in. The test runs
//! itself again as a child process with `TZ=UTC` (so the host's local
//! clock is UTC, 8 hours behind Beijing), logs in over TCP to a listener it
//! owns, and checks the MMDDHHMMSS the login carried against UTC+8.

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use chrono::{Duration as Span, NaiveDateTime, Utc};
use futures::{SinkExt, StreamExt};
use smsgw_actors::link::{self, ConnectTimeouts};
use smsgw_actors::proto::cmpp::CmppClient;
use smsgw_actors::proto::sgip::SgipClient;
use smsgw_actors::proto::smgp::SmgpClient;
use smsgw_actors::proto::{ClientProtocol, Credentials};
use smsgw_protocols::framing::FrameCodec;
use smsgw_protocols::{cmpp, sgip, smgp};
use tokio::net::TcpListener;
use tokio_util::codec::Framed;

const CHILD: &str = "SMSGW_LOGIN_TIME_CHILD";

/// MMDDHHMMSS of a time, as the protocols write it.
fn mmddhhmmss(t: &NaiveDateTime) -> u32 {
    cmpp::timestamp_of(t)
}

fn beijing_now() -> NaiveDateTime {
    Utc::now().naive_utc() + Span::hours(8)
}

fn creds() -> Credentials {
    Credentials {
        login: "900001".into(),
        password: "secret".into(),
    }
}

/// Logs in with `proto` to a one-shot server that hands the login PDU to
/// `stamp` (which returns its timestamp and the answer), and returns the
/// stamp with the Beijing times just before and after.
async fn login_stamp<P: ClientProtocol>(
    proto: P,
    answer: impl FnOnce(P::Pdu) -> (u32, P::Pdu) + Send + 'static,
) -> (u32, u32, u32)
where
    P::Pdu: Send,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let opts = proto.options();
    let server = tokio::spawn(async move {
        let (s, _) = listener.accept().await.unwrap();
        let mut io = Framed::new(s, FrameCodec::<P::Wire>::new().with_options(opts));
        let login = io.next().await.unwrap().unwrap().unwrap();
        let (stamp, resp) = answer(login);
        io.send(resp).await.unwrap();
        // Hold the connection until the client has read the answer.
        tokio::time::sleep(Duration::from_millis(200)).await;
        stamp
    });
    let before = mmddhhmmss(&beijing_now());
    let proto = Arc::new(proto);
    let conn = link::connect(&*proto, &addr, &creds(), ConnectTimeouts::default())
        .await
        .expect("login accepted");
    let after = mmddhhmmss(&beijing_now());
    drop(conn);
    (before, server.await.unwrap(), after)
}

async fn check_all() {
    let (b, stamp, a) = login_stamp(CmppClient::default(), |p: cmpp::Pdu| {
        let cmpp::Body::Connect(c) = &p.body else {
            panic!("not a CONNECT: {p:?}")
        };
        let resp = cmpp::ConnectResp {
            status: 0,
            authenticator_ismg: [0; 16],
            version: 0x30,
        };
        (
            c.timestamp,
            cmpp::Pdu::new(p.sequence_id, cmpp::Body::ConnectResp(resp)),
        )
    })
    .await;
    assert!(
        b <= stamp && stamp <= a,
        "CMPP CONNECT timestamp {stamp} not in Beijing time [{b}, {a}]"
    );

    let (b, stamp, a) = login_stamp(SmgpClient::default(), |p: smgp::Pdu| {
        let smgp::Body::Login(l) = &p.body else {
            panic!("not a Login: {p:?}")
        };
        let resp = smgp::LoginResp::new(0, l, "secret");
        (
            l.timestamp,
            smgp::Pdu::new(p.sequence_id, smgp::Body::LoginResp(resp)),
        )
    })
    .await;
    assert!(
        b <= stamp && stamp <= a,
        "SMGP Login timestamp {stamp} not in Beijing time [{b}, {a}]"
    );

    let (b, stamp, a) = login_stamp(SgipClient::default(), |p: sgip::Pdu| {
        assert!(matches!(p.body, sgip::Body::Bind(_)), "not a BIND: {p:?}");
        let resp = sgip::Pdu::new(p.sequence, sgip::Body::BindResp(sgip::Resp::new(0)));
        (p.sequence.time, resp)
    })
    .await;
    assert!(
        b <= stamp && stamp <= a,
        "SGIP BIND sequence time {stamp} not in Beijing time [{b}, {a}]"
    );
}

#[test]
fn logins_carry_beijing_time_on_a_host_whose_tz_is_utc() {
    if std::env::var_os(CHILD).is_none() {
        let out = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "logins_carry_beijing_time_on_a_host_whose_tz_is_utc",
                "--nocapture",
            ])
            .env("TZ", "UTC")
            .env(CHILD, "1")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "child with TZ=UTC failed:\n{text}");
        assert!(text.contains("1 passed"), "the child ran the check:\n{text}");
        return;
    }
    // The child: the host's local clock really is UTC here.
    assert_eq!(
        chrono::Local::now().offset().local_minus_utc(),
        0,
        "TZ=UTC took effect"
    );
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async { tokio::time::timeout(Duration::from_secs(20), check_all()).await })
        .expect("logins finished in time");
}
