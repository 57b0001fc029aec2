//! Inbound messages (MO): the inbound actor puts segments back together
//! (bounded [`Reassembler`], partial messages flagged rather than lost),
//! decodes the text, proposes the MO to the store, then hands it to the
//! router actor, which picks a handler by service code and keyword (the
//! alarm desk, officer commands, unsubscribe, webhooks are later handlers).
//!
//! Each segment comes with its [`Ack`] (its answer to the carrier), fired
//! only once the MO it belongs to is recorded (`propose_batch` returned
//! Ok; MOs are recorded in batches, in arrival order, by one recorder task): a segment waiting for the rest of its message keeps its ack with
//! the reassembly, so a crash before the record loses nothing (the carrier
//! delivers every unanswered segment again). A record that still fails
//! after [`RECORD_TRIES`] attempts is routed anyway (the desk must see an
//! alarm) but not acknowledged: the carrier delivers it again. A copy of a
//! segment of a message recorded moments ago is acknowledged at once.
//!
//! Exactly once: every MO carries a dedupe key (its carrier and the
//! carrier's id of its first segment, [`Mo::key`]) and the ids of all its
//! segments ([`Mo::segments`]); the store records an MO once per segment
//! key and answers a repeat as "already recorded" ([`Store::record_mos`]).
//! A repeat is acknowledged like a first copy (only once the store
//! answered) and is not routed again. A segment of a long MO whose id the
//! store already holds ([`Store::mo_recorded`]: the carrier re-delivers a
//! segment whose answer was lost) is acknowledged and dropped on arrival,
//! so it starts no reassembly that would wait for segments that never
//! come and then record it again as an incomplete MO.
//! Neither actor ever answers the handset.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use smsgw_protocols::text::{self, Encoding};
use smsgw_protocols::udh::{self, PartKey, PushOutcome, Reassembler, ReassemblerLimits};

use crate::link::Ack;
use crate::model::{Mo, MoPart};
use crate::store::{Event, Store};

/// What a handler is given: the whole inbound message.
pub trait MoHandler: Send + Sync + 'static {
    fn handle(&self, mo: &Mo);
}

/// Which MOs a handler takes: service code prefix and, optionally, a
/// keyword the text starts with (case-insensitive).
#[derive(Debug, Clone)]
pub struct RouteRule {
    pub service_prefix: String,
    pub keyword: Option<String>,
}

impl RouteRule {
    fn matches(&self, mo: &Mo) -> bool {
        mo.destination.starts_with(&self.service_prefix)
            && self.keyword.as_ref().is_none_or(|k| {
                mo.text
                    .trim_start()
                    .get(..k.len())
                    .is_some_and(|t| t.eq_ignore_ascii_case(k))
            })
    }

    /// More specific rules win: keyword, then longer prefix.
    fn weight(&self) -> (bool, usize) {
        (self.keyword.is_some(), self.service_prefix.len())
    }
}

pub enum RouterMsg {
    Route(Mo),
    /// MOs no rule took, since start.
    Unrouted(RpcReplyPort<u64>),
}

pub struct Router;

pub struct RouterState {
    rules: Vec<(RouteRule, Arc<dyn MoHandler>)>,
    unrouted: u64,
}

impl Actor for Router {
    type Msg = RouterMsg;
    type State = RouterState;
    type Arguments = Vec<(RouteRule, Arc<dyn MoHandler>)>;

    async fn pre_start(
        &self,
        _m: ActorRef<RouterMsg>,
        mut rules: Self::Arguments,
    ) -> Result<RouterState, ActorProcessingErr> {
        rules.sort_by_key(|(r, _)| std::cmp::Reverse(r.weight()));
        Ok(RouterState { rules, unrouted: 0 })
    }

    async fn handle(
        &self,
        _m: ActorRef<RouterMsg>,
        msg: RouterMsg,
        s: &mut RouterState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            RouterMsg::Route(mo) => match s.rules.iter().find(|(r, _)| r.matches(&mo)) {
                Some((_, h)) => h.handle(&mo),
                None => {
                    s.unrouted += 1;
                    crate::warn_limited!(
                        "mo-unrouted",
                        from = mo.source,
                        to = mo.destination,
                        "MO matches no handler"
                    );
                }
            },
            RouterMsg::Unrouted(reply) => {
                let _ = reply.send(s.unrouted);
            }
        }
        Ok(())
    }
}

/// Attempts to record one MO before it is left to the carrier's re-delivery.
pub const RECORD_TRIES: u32 = 4;

pub enum InboundMsg {
    /// A segment, with its answer to fire once its MO is recorded.
    Part(MoPart, Ack),
    /// Gives up on messages missing parts for too long.
    Sweep,
}

pub struct Inbound;

pub struct InboundState {
    store: Arc<dyn Store>,
    /// Whole MOs to record, in arrival order (see [`record_in_batches`]).
    recorder: tokio::sync::mpsc::Sender<(Mo, Vec<Ack>)>,
    reasm: Reassembler,
    carriers: std::collections::HashMap<PartKey, (String, Option<Encoding>)>,
    /// The acks of the segments of messages being reassembled.
    acks: std::collections::HashMap<PartKey, Vec<Ack>>,
    /// The carrier id of each segment received so far of each message
    /// being reassembled, by segment number: the MO's dedupe keys.
    keys: std::collections::HashMap<PartKey, std::collections::BTreeMap<u8, String>>,
    ticker: Option<tokio::task::JoinHandle<()>>,
}

fn decode(payload: &[u8], enc: Option<Encoding>) -> String {
    let enc = enc.unwrap_or(Encoding::Binary);
    text::decode(payload, enc).unwrap_or_else(|_| String::from_utf8_lossy(payload).into_owned())
}

/// MOs waiting for the recorder; past it the inbound actor waits, and so do
/// the carrier sessions behind it (their MOs stay unanswered meanwhile).
pub const RECORD_QUEUE: usize = 4096;
/// Most MOs recorded in one proposal.
pub const RECORD_BATCH: usize = 512;

/// The recorder: takes every MO queued so far and records them in ONE
/// proposal, in arrival order, then answers their segments and routes them.
/// Why one task and batches: awaiting one commit per MO in the actor held
/// a burst of alarms to one raft entry (one fsync) each, about 100 MOs/s on
/// a busy 2-core machine; a batch per commit keeps the order and lets the
/// rate follow the disk.
async fn record_in_batches(
    store: Arc<dyn Store>,
    router: ActorRef<RouterMsg>,
    mut rx: tokio::sync::mpsc::Receiver<(Mo, Vec<Ack>)>,
) {
    let mut batch = Vec::with_capacity(RECORD_BATCH);
    while rx.recv_many(&mut batch, RECORD_BATCH).await > 0 {
        let events: Vec<Event> = batch
            .iter()
            .map(|(mo, _)| Event::MoReceived(mo.clone()))
            .collect();
        let mut backoff = Duration::from_millis(20);
        let mut recorded = false;
        let mut fresh = Vec::new();
        for attempt in 1..=RECORD_TRIES {
            match store.record_mos(events.clone()).await {
                Ok(new) => {
                    recorded = true;
                    fresh = new;
                    break;
                }
                Err(e) if attempt == RECORD_TRIES => {
                    // Routing still happens: the desk must see an alarm
                    // even when the record is late; unanswered, the carrier
                    // delivers the MOs again.
                    tracing::error!(mos = events.len(), "MOs not recorded, left unacknowledged: {e}");
                }
                Err(e) => {
                    tracing::warn!(mos = events.len(), "MOs not recorded yet: {e}; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                }
            }
        }
        for (i, (mo, acks)) in batch.drain(..).enumerate() {
            if recorded {
                crate::metrics::reports_acked(acks.len());
                acks.into_iter().for_each(Ack::fire);
            }
            // A repeat (the carrier delivered it again: our answer went
            // missing) is answered, and goes nowhere else: its first copy
            // was routed.
            if recorded && !fresh.get(i).copied().unwrap_or(true) {
                crate::metrics::mo_repeated(&mo.carrier);
                continue;
            }
            let _ = router.send_message(RouterMsg::Route(mo));
        }
    }
}

impl InboundState {
    /// Hands `mo` to the recorder, which records it, then answers its
    /// segments (`acks`) and routes it.
    async fn deliver(&mut self, mo: Mo, acks: Vec<Ack>) {
        crate::metrics::mo_received(&mo.carrier, mo.complete);
        if let Err(e) = self.recorder.send((mo, acks)).await {
            // Only while the actor stops: unanswered, the carrier delivers it again.
            tracing::warn!(from = e.0 .0.source, "MO not handed to the recorder: stopping");
        }
    }

    fn take_acks(&mut self, key: &PartKey) -> Vec<Ack> {
        self.acks.remove(key).unwrap_or_default()
    }

    /// Keeps `id` as the dedupe key of `key`'s segment `seq` (the first
    /// copy's, if the segment came twice).
    fn note_key(&mut self, key: &PartKey, seq: u8, id: Option<String>) {
        let Some(id) = id else { return };
        self.keys.entry(key.clone()).or_default().entry(seq).or_insert(id);
    }

    /// The MO's key (its lowest numbered segment's) and every segment's.
    fn take_key(&mut self, key: &PartKey) -> (Option<String>, Vec<String>) {
        let segments: Vec<String> = self
            .keys
            .remove(key)
            .map(|m| m.into_values().collect())
            .unwrap_or_default();
        (segments.first().cloned(), segments)
    }
}

/// Whether segment `id` of `carrier` belongs to an MO already recorded.
/// A failed look-up counts as no: the record still answers a repeat. (Not a
/// method: the state holds acks, which may not be shared across an await.)
async fn already_recorded(store: Arc<dyn Store>, carrier: &str, id: Option<&str>) -> bool {
    let Some(id) = id else { return false };
    match store.mo_recorded(carrier, id).await {
        Ok(known) => known,
        Err(e) => {
            crate::warn_limited!("mo-key-lookup", carrier, "MO segment key look-up failed: {e}");
            false
        }
    }
}

impl Actor for Inbound {
    type Msg = InboundMsg;
    type State = InboundState;
    type Arguments = (Arc<dyn Store>, ActorRef<RouterMsg>, Duration);

    async fn pre_start(
        &self,
        myself: ActorRef<InboundMsg>,
        (store, router, timeout): Self::Arguments,
    ) -> Result<InboundState, ActorProcessingErr> {
        let ticker = Some(myself.send_interval(Duration::from_secs(1).min(timeout), || InboundMsg::Sweep));
        let (recorder, rx) = tokio::sync::mpsc::channel(RECORD_QUEUE);
        tokio::spawn(record_in_batches(store.clone(), router, rx));
        Ok(InboundState {
            store,
            recorder,
            reasm: Reassembler::new(ReassemblerLimits {
                timeout,
                ..ReassemblerLimits::default()
            }),
            carriers: Default::default(),
            acks: Default::default(),
            keys: Default::default(),
            ticker,
        })
    }

    async fn post_stop(
        &self,
        _m: ActorRef<InboundMsg>,
        s: &mut InboundState,
    ) -> Result<(), ActorProcessingErr> {
        if let Some(t) = s.ticker.take() {
            t.abort();
        }
        Ok(())
    }

    async fn handle(
        &self,
        _m: ActorRef<InboundMsg>,
        msg: InboundMsg,
        s: &mut InboundState,
    ) -> Result<(), ActorProcessingErr> {
        let now = Instant::now();
        let mut done: Vec<(Mo, Vec<Ack>)> = Vec::new();
        match msg {
            InboundMsg::Part(p, ack) => {
                let parsed = if p.udhi {
                    udh::parse_udh(&p.content)
                        .ok()
                        .and_then(|(h, pl)| h.concat().map(|c| (c, pl)))
                } else {
                    // SMPP sar_* numbering: the whole content is payload.
                    p.sar.map(|c| (c, &p.content[..]))
                };
                let Some((h, payload)) = parsed else {
                    let payload = if p.udhi {
                        udh::parse_udh(&p.content).map(|(_, pl)| pl).unwrap_or(&p.content)
                    } else {
                        &p.content
                    };
                    let text = decode(payload, p.encoding);
                    s.deliver(
                        Mo {
                            carrier: p.carrier,
                            source: p.source,
                            destination: p.destination,
                            text,
                            complete: true,
                            segments: p.carrier_id.iter().cloned().collect(),
                            key: p.carrier_id,
                        },
                        vec![ack],
                    )
                    .await;
                    return Ok(());
                };
                if already_recorded(s.store.clone(), &p.carrier, p.carrier_id.as_deref()).await {
                    crate::metrics::mo_repeated(&p.carrier);
                    crate::metrics::reports_acked(1);
                    ack.fire();
                    return Ok(());
                }
                let key = PartKey {
                    sender: p.source.clone(),
                    receiver: p.destination.clone(),
                    reference: h.reference,
                    total: h.total,
                };
                s.carriers.insert(key.clone(), (p.carrier.clone(), p.encoding));
                let seq = h.seq;
                let pushed = s.reasm.push(
                    &p.source,
                    &p.destination,
                    h,
                    bytes::Bytes::copy_from_slice(payload),
                    now,
                );
                for inc in pushed.evicted {
                    let (carrier, enc) = s.carriers.remove(&inc.key).unwrap_or_default();
                    let acks = s.take_acks(&inc.key);
                    let (key, segments) = s.take_key(&inc.key);
                    done.push((
                        Mo {
                            carrier,
                            source: inc.key.sender.clone(),
                            destination: inc.key.receiver.clone(),
                            text: decode(&inc.payload(), enc),
                            complete: false,
                            key,
                            segments,
                        },
                        acks,
                    ));
                }
                match pushed.outcome {
                    PushOutcome::Complete(r) => {
                        let (carrier, enc) = s.carriers.remove(&r.key).unwrap_or((p.carrier, p.encoding));
                        let mut acks = s.take_acks(&r.key);
                        acks.push(ack);
                        s.note_key(&r.key, seq, p.carrier_id);
                        let (key, segments) = s.take_key(&r.key);
                        done.push((
                            Mo {
                                carrier,
                                source: r.key.sender.clone(),
                                destination: r.key.receiver.clone(),
                                text: decode(&r.payload(), enc),
                                complete: true,
                                key,
                                segments,
                            },
                            acks,
                        ));
                    }
                    PushOutcome::Rejected { payload, .. } => done.push((
                        Mo {
                            carrier: p.carrier,
                            source: p.source,
                            destination: p.destination,
                            text: decode(&payload, p.encoding),
                            complete: false,
                            segments: p.carrier_id.iter().cloned().collect(),
                            key: p.carrier_id,
                        },
                        vec![ack],
                    )),
                    // Answered with its message's record.
                    PushOutcome::Buffered => {
                        s.note_key(&key, seq, p.carrier_id);
                        s.acks.entry(key).or_default().push(ack)
                    }
                    PushOutcome::Duplicate => match s.acks.get_mut(&key) {
                        Some(v) => {
                            v.push(ack);
                            s.note_key(&key, seq, p.carrier_id);
                        }
                        // A copy of a message already recorded.
                        None => ack.fire(),
                    },
                }
            }
            InboundMsg::Sweep => {
                for inc in s.reasm.expire(now) {
                    let (carrier, enc) = s.carriers.remove(&inc.key).unwrap_or_default();
                    let acks = s.take_acks(&inc.key);
                    let (key, segments) = s.take_key(&inc.key);
                    done.push((
                        Mo {
                            carrier,
                            source: inc.key.sender.clone(),
                            destination: inc.key.receiver.clone(),
                            text: decode(&inc.payload(), enc),
                            complete: false,
                            key,
                            segments,
                        },
                        acks,
                    ));
                }
            }
        }
        for (mo, acks) in done {
            s.deliver(mo, acks).await;
        }
        Ok(())
    }
}
