//! What anyone who reaches the raft port sends first: arbitrary bytes as
//! the client's answer to the server's challenge. The handshake must refuse
//! them (a guessed HMAC would be a finding), never panic, and never write
//! more than the challenge.
#![no_main]

use smsgw_raft::network::auth;
use smsgw_raft::ClusterSecret;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime");
    rt.block_on(async {
        let secret = ClusterSecret::from_bytes(vec![7; 32]).expect("secret");
        let (mut server_end, mut client_end) = tokio::io::duplex(1 << 16);
        let input = data.to_vec();
        let client = async move {
            let _ = client_end.write_all(&input).await;
            let _ = client_end.shutdown().await;
            let mut got = Vec::new();
            let _ = client_end.read_to_end(&mut got).await;
            got
        };
        let server = async move {
            let r = auth::server(&mut server_end, std::slice::from_ref(&secret)).await;
            drop(server_end);
            r
        };
        let (got, r) = tokio::join!(client, server);
        assert!(r.is_err(), "arbitrary bytes passed the handshake");
        assert_eq!(got.len(), auth::MAGIC.len() + auth::NONCE, "answered more than the challenge");
    });
});
