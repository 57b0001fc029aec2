//! One client connection to the simulated carrier, for any protocol.
//!
//! Login first (anything else before it is answered with the protocol's
//! error and the link closed), then submits are checked against the window
//! and the account's TPS ceiling, recorded in the ledger, answered with a
//! carrier message id, and reported on later. Heartbeats are answered and
//! sent; an idle link is closed. Faults switched on in [`crate::faults`] are
//! applied on every PDU.
//!
//! A session never panics on input: an undecodable frame is counted, logged
//! and answered (or the link closed when the framing itself is broken).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use rand::RngCore;
use smsgw_protocols::framing::FrameCodec;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_util::codec::{FramedRead, FramedWrite};

use crate::config::Account;
use crate::dialect::{Deliverable, Dialect, ReportOrder, Request, SubmitOutcome};
use crate::ledger::SubmitRecord;
use crate::shared::Shared;

/// What the writer half sends.
enum Out<P> {
    Pdu(P),
    /// Raw bytes written as they are: garbage faults and quirky frames
    /// (a PDU with bytes after its body).
    Garbage(Bytes),
    /// Flush and close.
    Close,
}

/// Serves one accepted connection until it closes.
pub async fn serve<D: Dialect>(shared: Arc<Shared>, dialect: Arc<D>, stream: TcpStream) {
    let peer = stream.peer_addr().ok();
    let _ = stream.set_nodelay(true);
    shared.ledger.bump(|c| &c.connections);
    let conn = shared.conn_id();
    let (rd, wr) = stream.into_split();
    let opts = D::Options::default();
    let mut reader = FramedRead::new(rd, FrameCodec::<D::Wire>::new().with_options(opts.clone()));
    let (out_tx, out_rx) = mpsc::unbounded_channel::<Out<D::Pdu>>();
    let (opts_tx, opts_rx) = tokio::sync::watch::channel(opts);
    let writer = tokio::spawn(write_loop::<D>(wr, out_rx, opts_rx));

    let (dl_tx, mut dl_rx) = mpsc::unbounded_channel::<Deliverable>();
    let mut drop_signal = shared.faults.drop_signal();
    let mut hard_drop_signal = shared.faults.hard_drop_signal();
    // Set when the link must close with what is in flight unanswered.
    let mut hard_close = false;
    let idle = Duration::from_secs(shared.config().idle_timeout_secs.max(1));
    let keepalive = Duration::from_secs(D::KEEPALIVE_SECS.min(idle.as_secs()).max(1));
    let mut last_rx = Instant::now();
    let mut ticker = tokio::time::interval(keepalive);
    ticker.tick().await;
    let inflight = Arc::new(AtomicUsize::new(0));
    let mut account: Option<Account> = None;
    let mut receives = false;
    // Reports and MOs sent on this link and not yet answered, by sequence.
    let mut unacked: std::collections::HashMap<u32, Deliverable> = std::collections::HashMap::new();
    let mut submits_here = 0u64;
    let mut seq = 0x1000_0000u32;

    loop {
        tokio::select! {
            frame = reader.next() => {
                let Some(frame) = frame else { break };
                last_rx = Instant::now();
                let pdu = match frame {
                    Err(e) => {
                        shared.ledger.bump(|c| &c.bad_pdus);
                        tracing::warn!(protocol = %D::PROTOCOL, ?peer, "closing: {e}");
                        break;
                    }
                    Ok(Err(bad)) => {
                        shared.ledger.bump(|c| &c.bad_pdus);
                        tracing::warn!(protocol = %D::PROTOCOL, ?peer, "undecodable PDU: {}", bad.error);
                        if let Some(resp) = dialect.bad_pdu_resp(&bad) {
                            let _ = out_tx.send(Out::Pdu(resp));
                        }
                        continue;
                    }
                    Ok(Ok(pdu)) => pdu,
                };
                let faults = shared.faults.get();
                match dialect.classify(&pdu) {
                    Request::Login { login } => {
                        let found = shared.account(D::PROTOCOL, &login);
                        let ok = account.is_none()
                            && !faults.refuse_logins
                            && found.as_ref().is_some_and(|a| {
                                dialect.verify_login(&pdu, a)
                                    && crate::profile::version_ok(a, dialect.login_version(&pdu))
                            });
                        shared.ledger.record_login(D::PROTOCOL, &login, ok);
                        let mut opts = reader.decoder().options().clone();
                        let granted = if ok { found.as_ref() } else { None };
                        let resp = dialect.login_resp(&pdu, granted, &mut opts);
                        *reader.decoder_mut().options_mut() = opts.clone();
                        let _ = opts_tx.send(opts.clone());
                        let trailing = granted.map_or(0, |a| a.quirks.trailing_bytes);
                        match crate::quirks::padded::<D::Wire>(&resp, &opts, trailing) {
                            Some(raw) => {
                                let _ = out_tx.send(Out::Garbage(raw));
                            }
                            None => {
                                let _ = out_tx.send(Out::Pdu(resp));
                            }
                        }
                        if !ok {
                            tracing::info!(protocol = %D::PROTOCOL, ?peer, login, "login refused");
                            let _ = out_tx.send(Out::Close);
                            break;
                        }
                        receives = dialect.login_receives(&pdu);
                        if receives {
                            shared.add_receiver(D::PROTOCOL, &login, conn, dl_tx.clone());
                        }
                        account = found;
                    }
                    _ if account.is_none() => {
                        shared.ledger.bump(|c| &c.bad_pdus);
                        tracing::warn!(protocol = %D::PROTOCOL, ?peer, "request before login; closing");
                        if let Some(resp) = dialect.error_resp(&pdu, true) {
                            let _ = out_tx.send(Out::Pdu(resp));
                        }
                        let _ = out_tx.send(Out::Close);
                        break;
                    }
                    Request::Submit(info) => {
                        if faults.stall {
                            continue;
                        }
                        // Looked up per submit so a changed window or TPS applies at once.
                        let Some(acct) = account.as_ref().and_then(|a| shared.account(D::PROTOCOL, &a.login)) else {
                            break;
                        };
                        let acct = &acct;
                        submits_here += 1;
                        let outcome = if inflight.load(Ordering::Relaxed) >= acct.window {
                            shared.ledger.bump(|c| &c.window_rejected);
                            SubmitOutcome::WindowFull
                        } else if !shared.throttle.admit(&acct.login, acct.tps, Instant::now()) {
                            shared.ledger.bump(|c| &c.throttled);
                            SubmitOutcome::Throttled
                        } else {
                            SubmitOutcome::Accepted(dialect.new_msg_id(&pdu))
                        };
                        let mut early = Vec::new();
                        if let SubmitOutcome::Accepted(id) = &outcome {
                            let link = Link { conn, peer, protocol: D::PROTOCOL };
                            early = accept(&shared, acct, &info, id, &link, &faults);
                        }
                        for order in early {
                            // Straight onto the wire ahead of the response
                            // when this link receives; else the account's
                            // receiving link gets it.
                            let d = Deliverable::Report(order);
                            if receives {
                                seq = seq.wrapping_add(1);
                                let report = dialect.deliverable(&d, seq, reader.decoder().options());
                                unacked.insert(seq, d);
                                let _ = out_tx.send(Out::Pdu(report));
                            } else {
                                shared.deliver(D::PROTOCOL, &acct.login, d);
                            }
                        }
                        if faults.hard_drop_after_submits.is_some_and(|n| submits_here >= n) {
                            // Accepted and recorded, never answered.
                            shared.ledger.bump(|c| &c.faults_dropped);
                            tracing::info!(protocol = %D::PROTOCOL, ?peer, "fault: hard drop after a submit");
                            hard_close = true;
                            break;
                        }
                        let resp = dialect.submit_resp(&pdu, &outcome);
                        respond(&out_tx, &inflight, resp, &faults);
                        if faults.drop_after_submits.is_some_and(|n| submits_here >= n) {
                            shared.ledger.bump(|c| &c.faults_dropped);
                            let _ = out_tx.send(Out::Close);
                            break;
                        }
                    }
                    Request::KeepAlive => {
                        if !faults.stall {
                            let resp = dialect.keepalive_resp(&pdu);
                            let trailing = account.as_ref().map_or(0, |a| a.quirks.trailing_bytes);
                            match crate::quirks::padded::<D::Wire>(&resp, reader.decoder().options(), trailing) {
                                Some(raw) => {
                                    let _ = out_tx.send(Out::Garbage(raw));
                                }
                                None => respond(&out_tx, &inflight, resp, &faults),
                            }
                        }
                    }
                    Request::Logout => {
                        let _ = out_tx.send(Out::Pdu(dialect.logout_resp(&pdu)));
                        let _ = out_tx.send(Out::Close);
                        break;
                    }
                    Request::Response => {
                        if let Some(acked) = dialect.ack_of(&pdu) {
                            unacked.remove(&acked);
                        }
                    }
                    Request::Unsupported => {
                        if let Some(resp) = dialect.error_resp(&pdu, false) {
                            let _ = out_tx.send(Out::Pdu(resp));
                        }
                    }
                }
            }
            Some(d) = dl_rx.recv() => {
                seq = seq.wrapping_add(1);
                if matches!(d, Deliverable::Mo(_)) {
                    shared.ledger.bump(|c| &c.mo_sent);
                }
                let pdu = dialect.deliverable(&d, seq, reader.decoder().options());
                unacked.insert(seq, d);
                let _ = out_tx.send(Out::Pdu(pdu));
            }
            _ = ticker.tick() => {
                if last_rx.elapsed() >= idle {
                    shared.ledger.bump(|c| &c.idle_closed);
                    tracing::info!(protocol = %D::PROTOCOL, ?peer, "idle for {idle:?}; closing");
                    break;
                }
                if account.is_some() && last_rx.elapsed() >= keepalive {
                    seq = seq.wrapping_add(1);
                    if let Some(ping) = dialect.keepalive(seq) {
                        let _ = out_tx.send(Out::Pdu(ping));
                    }
                }
            }
            _ = drop_signal.changed() => {
                shared.ledger.bump(|c| &c.faults_dropped);
                tracing::info!(protocol = %D::PROTOCOL, ?peer, "fault: dropping connection");
                break;
            }
            _ = hard_drop_signal.changed() => {
                shared.ledger.bump(|c| &c.faults_dropped);
                tracing::info!(protocol = %D::PROTOCOL, ?peer, "fault: hard drop, in-flight responses unanswered");
                hard_close = true;
                break;
            }
        }
    }
    if let Some(a) = &account {
        shared.remove_receiver(D::PROTOCOL, &a.login, conn);
    }
    // Reports and MOs sent but never acknowledged go back to the account, as
    // a real carrier re-delivers them: the client may have died before
    // recording them. Then those routed here but not yet sent.
    if let Some(a) = &account {
        if !unacked.is_empty() {
            tracing::info!(protocol = %D::PROTOCOL, ?peer, n = unacked.len(), "re-delivering unacknowledged reports/MOs");
        }
        let mut pending: Vec<_> = unacked.into_iter().collect();
        pending.sort_by_key(|(s, _)| *s);
        for (_, d) in pending {
            shared.ledger.bump(|c| &c.redelivered);
            shared.deliver(D::PROTOCOL, &a.login, d);
        }
    }
    dl_rx.close();
    while let Ok(d) = dl_rx.try_recv() {
        if let Some(a) = &account {
            shared.deliver(D::PROTOCOL, &a.login, d);
        }
    }
    if hard_close {
        // The writer dies with whatever it has not written yet; dropping its
        // half closes the socket.
        writer.abort();
    } else {
        let _ = out_tx.send(Out::Close);
    }
    drop(out_tx);
    let _ = writer.await;
}

/// The connection a submit came on, as the ledger records it.
struct Link {
    conn: u64,
    peer: Option<std::net::SocketAddr>,
    protocol: crate::config::Protocol,
}

/// Records an accepted submit and schedules its reports; returns the reports
/// that must go out before the submit response (early-report mode).
fn accept(
    shared: &Arc<Shared>,
    acct: &Account,
    info: &crate::dialect::SubmitInfo,
    id: &str,
    link: &Link,
    faults: &crate::faults::FaultSettings,
) -> Vec<ReportOrder> {
    let protocol = link.protocol;
    let now = chrono::Local::now().naive_local();
    let mut early = Vec::new();
    for dest in &info.destinations {
        shared.ledger.record_submit(SubmitRecord {
            n: 0,
            protocol,
            account: acct.login.clone(),
            source: info.source.clone(),
            destination: dest.clone(),
            carrier_msg_id: id.to_string(),
            text: crate::mo::payload_text(
                &info.payload,
                crate::profile::encoding_of(acct, protocol, info.coding),
            ),
            concat: info.concat,
            coding: info.coding,
            numbering: info.numbering,
            client_ref: info.client_ref.clone(),
            report_requested: info.report_requested,
            fee: info.fee.clone(),
            at_ms: now.and_utc().timestamp_millis(),
            conn: link.conn,
            peer: link.peer.map(|p| p.to_string()),
        });
        if !info.report_requested || faults.stop_reports {
            continue;
        }
        let (state, delay, is_early) = shared.draw_report();
        let order = ReportOrder {
            carrier_msg_id: crate::profile::quirks(acct).receipt_id(protocol, id),
            quirks: crate::profile::quirks(acct),
            source: info.source.clone(),
            destination: dest.clone(),
            state,
            submit_time: now,
            done_time: now + chrono::Duration::from_std(delay).unwrap_or_default(),
        };
        if is_early {
            shared.ledger.record_report(protocol, state);
            early.push(order);
        } else {
            shared.schedule_report(protocol, acct.login.clone(), order, delay);
        }
    }
    early
}

/// Sends a response now, later (delay fault) or as garbage (garbage fault),
/// keeping the in-flight count the window check reads.
fn respond<P: Send + 'static>(
    out: &mpsc::UnboundedSender<Out<P>>,
    inflight: &Arc<AtomicUsize>,
    resp: P,
    faults: &crate::faults::FaultSettings,
) {
    let item = if faults.garbage {
        let mut junk = vec![0u8; 24];
        rand::thread_rng().fill_bytes(&mut junk);
        Out::Garbage(Bytes::from(junk))
    } else {
        Out::Pdu(resp)
    };
    if faults.delay_ms == 0 {
        let _ = out.send(item);
        return;
    }
    inflight.fetch_add(1, Ordering::Relaxed);
    let out = out.clone();
    let inflight = inflight.clone();
    let delay = Duration::from_millis(faults.delay_ms);
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        inflight.fetch_sub(1, Ordering::Relaxed);
        let _ = out.send(item);
    });
}

async fn write_loop<D: Dialect>(
    wr: tokio::net::tcp::OwnedWriteHalf,
    mut rx: mpsc::UnboundedReceiver<Out<D::Pdu>>,
    mut opts: tokio::sync::watch::Receiver<D::Options>,
) {
    let mut sink = FramedWrite::new(wr, FrameCodec::<D::Wire>::new());
    while let Some(first) = rx.recv().await {
        if opts.has_changed().unwrap_or(false) {
            *sink.encoder_mut().options_mut() = opts.borrow_and_update().clone();
        }
        // Batch whatever is queued into one write: at load, one syscall per
        // many responses.
        let mut next = Some(first);
        while let Some(item) = next.take() {
            match item {
                Out::Pdu(p) => {
                    if let Err(e) = sink.feed(p).await {
                        tracing::warn!(protocol = %D::PROTOCOL, "write failed: {e}");
                        return;
                    }
                }
                Out::Garbage(b) => {
                    let _ = sink.flush().await;
                    let _ = sink.get_mut().write_all(&b).await;
                }
                Out::Close => {
                    let _ = sink.flush().await;
                    let _ = sink.get_mut().shutdown().await;
                    return;
                }
            }
            next = rx.try_recv().ok();
        }
        if sink.flush().await.is_err() {
            return;
        }
    }
}
