//! Honest clients: each sends `POST /v1/messages` at a steady pace with a
//! fresh `client_ref` and a destination unique to the operation; a request
//! that fails or times out is retried with the same `client_ref` on the next
//! node until it is accepted, refused for good, or the operation's deadline
//! passes. Every attempt goes into the history. A client must never change
//! the `client_ref` of a retry, or the gateway could not deduplicate it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::task::JoinHandle;

use crate::cluster::KEY;
use crate::history::{Attempt, Op, Outcome};
use crate::http::{request, Answer};

/// How the clients behave.
#[derive(Debug, Clone)]
pub struct LoadSpec {
    pub clients: usize,
    /// Operations started per second, all clients together.
    pub rate: f64,
    /// One attempt's deadline.
    pub attempt_timeout: Duration,
    /// An operation gives up after this long (its fate stays indeterminate).
    pub op_deadline: Duration,
    /// Every this many operations of a client asks for alarm priority (0:
    /// none); their latency to the carrier is measured on its own.
    pub alarm_every: u64,
    /// MOs per second the carrier sends to the drill account (0: none).
    pub mo_rate: f64,
}

impl Default for LoadSpec {
    fn default() -> Self {
        LoadSpec {
            clients: 4,
            rate: 40.0,
            attempt_timeout: Duration::from_secs(3),
            op_deadline: Duration::from_secs(30),
            alarm_every: 5,
            mo_rate: 2.0,
        }
    }
}

/// The running clients and what they recorded.
pub struct Load {
    pub ops: Arc<Mutex<Vec<Op>>>,
    /// Answer times of every 202, in ms since start (for availability).
    pub accepted_at: Arc<Mutex<Vec<u64>>>,
    stop: Arc<AtomicBool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Load {
    /// Starts `spec.clients` clients against `nodes` (HTTP addresses).
    pub fn start(spec: &LoadSpec, nodes: Vec<String>, t0: Instant) -> Load {
        let ops: Arc<Mutex<Vec<Op>>> = Arc::default();
        let accepted_at: Arc<Mutex<Vec<u64>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let period = Duration::from_secs_f64(spec.clients as f64 / spec.rate.max(0.1));
        let tasks = (0..spec.clients)
            .map(|c| {
                let ctx = ClientCtx {
                    id: c,
                    nodes: nodes.clone(),
                    spec: spec.clone(),
                    t0,
                    ops: ops.clone(),
                    accepted_at: accepted_at.clone(),
                };
                let stop = stop.clone();
                tokio::spawn(async move {
                    let mut tick = tokio::time::interval(period);
                    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    let mut seq = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        tick.tick().await;
                        ctx.run_op(seq).await;
                        seq += 1;
                    }
                })
            })
            .collect();
        Load {
            ops,
            accepted_at,
            stop,
            tasks,
        }
    }

    /// Number of 202 answers so far.
    pub fn accepted(&self) -> usize {
        self.accepted_at.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Stops starting operations and waits for the ones under way (each is
    /// bounded by its deadline); returns the operations.
    pub async fn stop(mut self) -> Vec<Op> {
        self.stop.store(true, Ordering::Relaxed);
        for t in std::mem::take(&mut self.tasks) {
            let _ = t.await;
        }
        let ops = self.ops.lock().unwrap_or_else(|p| p.into_inner());
        ops.clone()
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

struct ClientCtx {
    id: usize,
    nodes: Vec<String>,
    spec: LoadSpec,
    t0: Instant,
    ops: Arc<Mutex<Vec<Op>>>,
    accepted_at: Arc<Mutex<Vec<u64>>>,
}

impl ClientCtx {
    fn now(&self) -> u64 {
        self.t0.elapsed().as_millis() as u64
    }

    async fn run_op(&self, seq: u64) {
        let client_ref = format!("drill-{}-{seq}", self.id);
        // 139 + client (2 digits) + sequence (6 digits): unique per operation.
        let to = format!("139{:02}{:06}", self.id % 100, seq % 1_000_000);
        let alarm = self.spec.alarm_every > 0 && seq.is_multiple_of(self.spec.alarm_every);
        let priority = alarm.then(|| "alarm".to_string());
        let mut body = json!({"to": [to], "text": "drill", "client_ref": client_ref});
        if let Some(p) = &priority {
            body["priority"] = json!(p);
        }
        let body = body.to_string();
        let mut op = Op {
            client_ref,
            to,
            priority,
            attempts: Vec::new(),
        };
        let started = Instant::now();
        let mut node = (self.id + seq as usize) % self.nodes.len();
        loop {
            let start_ms = self.now();
            let answer = request(
                &self.nodes[node],
                "POST",
                "/v1/messages",
                Some(KEY),
                Some(body.as_bytes()),
                self.spec.attempt_timeout,
            )
            .await;
            let outcome = classify(&answer);
            let end_ms = self.now();
            let done = matches!(outcome, Outcome::Accepted { .. } | Outcome::Rejected { .. });
            if matches!(outcome, Outcome::Accepted { .. }) {
                self.accepted_at
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(end_ms);
            }
            op.attempts.push(Attempt {
                node,
                start_ms,
                end_ms,
                outcome,
            });
            if done || started.elapsed() >= self.spec.op_deadline {
                break;
            }
            node = (node + 1) % self.nodes.len();
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.ops.lock().unwrap_or_else(|p| p.into_inner()).push(op);
    }
}

fn classify(a: &Answer) -> Outcome {
    match a {
        Answer::Response { status: 202, body } => match body["messages"][0]["id"].as_str() {
            Some(id) => Outcome::Accepted { id: id.to_string() },
            None => Outcome::Indeterminate {
                reason: format!("202 without a message id: {body}"),
            },
        },
        Answer::Response { status, body } => {
            let code = body["error"]["code"].as_str().unwrap_or("").to_string();
            if *status == 429 || *status >= 500 {
                Outcome::Unavailable {
                    status: *status,
                    code,
                }
            } else {
                Outcome::Rejected {
                    status: *status,
                    code,
                }
            }
        }
        Answer::Refused(e) => Outcome::Indeterminate {
            reason: format!("connect: {e}"),
        },
        Answer::Timeout => Outcome::Indeterminate {
            reason: "timeout".into(),
        },
        Answer::Broken(e) => Outcome::Indeterminate {
            reason: format!("broken: {e}"),
        },
    }
}
