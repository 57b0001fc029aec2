//! The reconciler's flush queue: bounded, order kept, nothing lost while
//! the store is failing, proposals never over [`MAX_MERGED_EVENTS`].

use std::sync::Mutex;

use futures::future::BoxFuture;

use super::*;
use crate::model::OutboundMessage;

/// A store that fails until opened, then records every batch.
struct Gated {
    open: std::sync::atomic::AtomicBool,
    batches: Mutex<Vec<Vec<Event>>>,
}

impl Store for Gated {
    fn propose_batch(&self, events: Vec<Event>) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            if !self.open.load(Ordering::Acquire) {
                return Err(StoreError::Unavailable("closed".into()));
            }
            self.batches
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(events);
            Ok(())
        })
    }

    fn pending_messages(&self) -> BoxFuture<'_, Result<Vec<OutboundMessage>, StoreError>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    fn find_part<'a>(
        &'a self,
        _c: &'a str,
        _id: &'a str,
    ) -> BoxFuture<'a, Result<Option<PartId>, StoreError>> {
        Box::pin(async { Ok(None) })
    }
}

fn event(i: usize) -> Event {
    Event::UnmatchedReport {
        carrier: "c".into(),
        carrier_msg_id: i.to_string(),
        state: smsgw_protocols::report::ReportState::Delivered,
    }
}

#[tokio::test]
async fn a_failing_store_fills_the_queue_the_sender_waits_and_nothing_is_lost() {
    let store = Arc::new(Gated {
        open: std::sync::atomic::AtomicBool::new(false),
        batches: Mutex::new(Vec::new()),
    });
    let (tx, rx) = mpsc::channel(FLUSH_QUEUE);
    let unflushed = Arc::new(AtomicUsize::new(0));
    let task = tokio::spawn(flush_loop(
        store.clone(),
        rx,
        Arc::new(AtomicUsize::new(0)),
        unflushed.clone(),
    ));
    // Batches of 100 events while the store fails: the loop holds one
    // proposal (retrying; up to MAX_MERGED_EVENTS merged), the queue the
    // next FLUSH_QUEUE batches, then senders wait.
    let held = MAX_MERGED_EVENTS / 100 + 1;
    let mut sent = 0;
    let mut next = 0;
    loop {
        let batch: Vec<Event> = (next..next + 100).map(event).collect();
        match tokio::time::timeout(
            Duration::from_millis(300),
            tx.send(Flush {
                events: batch,
                acks: Vec::new(),
                slots: Vec::new(),
            }),
        )
        .await
        {
            Ok(r) => {
                r.expect("queue open");
                sent += 1;
                next += 100;
                unflushed.fetch_add(100, Ordering::Relaxed);
            }
            Err(_) => break,
        }
        assert!(sent <= FLUSH_QUEUE + held, "the queue took more than its bound");
    }
    assert!(sent >= FLUSH_QUEUE, "the queue held {sent} batches");
    store.open.store(true, Ordering::Release);
    drop(tx);
    tokio::time::timeout(Duration::from_secs(20), task)
        .await
        .expect("the loop drains once the store answers")
        .expect("no panic");
    let batches = store.batches.lock().unwrap_or_else(|p| p.into_inner());
    let ids: Vec<String> = batches
        .iter()
        .flatten()
        .map(|e| match e {
            Event::UnmatchedReport { carrier_msg_id, .. } => carrier_msg_id.clone(),
            _ => String::new(),
        })
        .collect();
    let expected: Vec<String> = (0..next).map(|i| i.to_string()).collect();
    assert_eq!(ids, expected, "every event, once, in order");
    assert!(batches.iter().all(|b| b.len() <= MAX_MERGED_EVENTS + 100));
    assert!(batches.len() > 1, "merged proposals are bounded");
    assert_eq!(unflushed.load(Ordering::Relaxed), 0);
}
