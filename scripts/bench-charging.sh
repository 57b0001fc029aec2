#!/usr/bin/env bash
# Accept rate of POST /v1/messages with charging on (a prepaid account) and
# off, on the same machine: a fresh release node per round (no backlog
# carried over from the previous round), the simulator in its own process,
# rounds in ABBA order, 64 clients for 10 s each (`smsgw bench api`).
# Prints accepted/s per round; compare the medians. Needs
# `cargo build --release -p smsgw` first. Uses 127.0.0.1 ports 7201, 8281.
set -euo pipefail
. "$(dirname "$0")/lib/node-with-sim.sh"
enter_work_dir
start_sim
n=0
for k in free paid paid free free paid paid free; do
  n=$((n + 1)); mkdir "r$n"; cd "r$n"
  {
    carrier_doc
    cat <<DOC
[[accounts]]
name = "free"
api_keys = ["sk_free_0123456789abcdef"]

[[accounts]]
name = "paid"
api_keys = ["sk_paid_0123456789abcdef"]
balance = 100000000
[accounts.billing]
price_fen = 5
DOC
  } > doc.toml
  start_node 7201 8281 doc.toml
  for _ in $(seq 1 50); do
    curl -s -H "Authorization: Bearer sk_paid_0123456789abcdef" http://127.0.0.1:8281/v1/account \
      | grep -q '"balance":100000000' && break
    sleep 0.2
  done
  echo -n "$k: "
  "$B" bench api --api http://127.0.0.1:8281 --key "sk_${k}_0123456789abcdef" --clients 64 --seconds 10 2>&1 \
    | grep -o "([0-9]*/s)"
  stop_nodes
  sleep 1
  cd ..
done
