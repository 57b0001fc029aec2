//! The log store's flusher queue: bounded, and what waited is flushed
//! and completed in order.

use super::*;

struct Probe(usize, std::sync::mpsc::Sender<(usize, bool)>);

impl Flushed for Probe {
    fn completed(self, result: Result<(), std::io::Error>) {
        let _ = self.1.send((self.0, result.is_ok()));
    }
}

#[tokio::test]
async fn a_full_flush_queue_makes_the_next_append_wait_and_loses_none() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = sled::open(dir.path()).expect("sled");
    let (tx, rx) = tokio::sync::mpsc::channel::<Probe>(4);
    let (done_tx, done) = std::sync::mpsc::channel();
    for i in 0..4 {
        tx.send(Probe(i, done_tx.clone())).await.expect("room");
    }
    // Full: the fifth append waits instead of growing the queue.
    let fifth = tokio::time::timeout(Duration::from_millis(200), tx.send(Probe(4, done_tx.clone())));
    assert!(fifth.await.is_err(), "a full queue took one more");
    let flusher = std::thread::spawn(move || {
        flusher(
            db,
            rx,
            Arc::new(AtomicU64::new(0)),
            Arc::new(std::sync::Mutex::new(None)),
        )
    });
    tx.send(Probe(4, done_tx.clone()))
        .await
        .expect("room again once flushed");
    for i in 5..300 {
        tx.send(Probe(i, done_tx.clone())).await.expect("send");
    }
    drop(tx);
    flusher.join().expect("flusher ends with its senders");
    let got: Vec<(usize, bool)> = done.try_iter().collect();
    assert_eq!(got.len(), 300, "every append completed once");
    assert!(
        got.iter().enumerate().all(|(i, (n, ok))| *n == i && *ok),
        "in order, flushed"
    );
}
