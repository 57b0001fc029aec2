#!/usr/bin/env bash
# A follower far behind catches up (issue 9): three fresh release nodes on
# loopback, the simulator in its own process as the carrier (receipts on).
# Node 3 is stopped; `smsgw bench api` posts for SECS seconds (CLIENTS
# clients) through node 1; both others snapshot and purge their logs, so
# only a streamed snapshot can bring node 3 back. Node 3 restarts; prints
# the entries it was behind, the state and snapshot sizes, the seconds
# until it has applied the leader's log, and its peak RSS (VmHWM). Repeat
# it for a median. Needs `cargo build --release -p smsgw` first. Uses
# 127.0.0.1 ports 7301-7303 and 8381-8383.
set -euo pipefail
SECS=${SECS:-60}
CLIENTS=${CLIENTS:-64}
. "$(dirname "$0")/lib/node-with-sim.sh"
enter_work_dir
start_sim
umask 077
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > secret
echo >> secret
KEY=sk_catchup_0123456789abcdef

# start N: node N from its node file, waited for until it prints ready.
start() {
  : > "n$1.out"
  ("$B" node start --config "$W/n$1.toml" > "n$1.out" 2> "n$1.err" &)
  for _ in $(seq 1 300); do
    grep -q ' ready raft=' "n$1.out" 2> /dev/null && return
    sleep 0.1
  done
  echo "node $1 did not start: $(tail -3 "n$1.err")" >&2
  exit 1
}
for i in 1 2 3; do
  printf 'node_id = %s\ndata_dir = "%s/d%s"\nraft_addr = "127.0.0.1:730%s"\nhttp_addr = "127.0.0.1:838%s"\ncluster_secret_file = "%s/secret"\napps_smpp_addr = "127.0.0.1:0"\napps_cmpp_addr = "127.0.0.1:0"\n' \
    "$i" "$W" "$i" "$i" "$i" "$W" > "n$i.toml"
  start "$i"
done
S=(--secret-file "$W/secret")
"$B" cluster init --addr 127.0.0.1:7301 --node 1=127.0.0.1:7301 --node 2=127.0.0.1:7302 --node 3=127.0.0.1:7303 "${S[@]}" > /dev/null
{
  carrier_doc
  cat <<DOC
[[accounts]]
name = "bench"
api_keys = ["$KEY"]
DOC
} > doc.toml
"$B" config apply doc.toml --addr 127.0.0.1:7301 "${S[@]}" > /dev/null
for _ in $(seq 1 100); do
  curl -s http://127.0.0.1:8381/readyz | grep -q '"ready":true' && break
  sleep 0.2
done
# Node 1 leads, so that the load goes to the leader.
"$B" cluster transfer-leader --addr 127.0.0.1:7301 --to 1 "${S[@]}" > /dev/null 2>&1 || true

# column N of node ID's row in `cluster status` (5 last_log, 6 applied).
col() {
  "$B" cluster status --addr 127.0.0.1:7301 "${S[@]}" | awk -v id="$1" -v c="$2" '$1 == id {print $c}'
}

pkill -f "$W/n3.toml"
before=$(col 1 5)
echo "node 3 stopped at entry $before; posting for ${SECS}s with $CLIENTS clients"
"$B" bench api --api http://127.0.0.1:8381 --key "$KEY" --clients "$CLIENTS" --seconds "$SECS" | tail -2
sleep 5
hwm() { awk '/^VmHWM:/{print int($2/1024)}' "/proc/$(pgrep -f "$W/n$1.toml" | head -1)/status"; }
echo "peak RSS of nodes 1 and 2 under the load: $(hwm 1) and $(hwm 2) MiB"
for i in 1 2; do "$B" cluster compact --addr "127.0.0.1:730$i" "${S[@]}" > /dev/null; done
sleep 2
last=$(col 1 5)
echo "entries node 3 is behind: $((last - before)); state: $(du -sm d1 | cut -f1) MiB; snapshot file: $(du -sm d1/raft-snapshots | cut -f1) MiB"

ms() { echo $(($(date +%s%N) / 1000000)); }
t0=$(ms)
start 3
pid=$(pgrep -f "$W/n3.toml" | head -1)
while :; do
  awk -v t=$(($(ms) - t0)) '/^VmRSS:/{print t, int($2/1024)}' "/proc/$pid/status" >> n3.rss
  applied=$(col 3 6)
  if [ -n "$applied" ] && [ "$applied" != "-" ] && [ "$applied" -ge "$last" ]; then break; fi
  if [ $(($(ms) - t0)) -gt 600000 ]; then
    echo "node 3 did not catch up within 600 s (applied $applied of $last)" >&2
    exit 1
  fi
  sleep 0.2
done
t1=$(ms)
hwm=$(hwm 3)
echo "node 3 caught up in $(((t1 - t0) / 1000)).$(((t1 - t0) % 1000 / 100)) s (applied $(col 3 6), snapshot $(col 3 8)); its peak RSS ${hwm} MiB; its state $(du -sm d3 | cut -f1) MiB"
echo "peak RSS of nodes 1 and 2 after their snapshots: $(hwm 1) and $(hwm 2) MiB"
[ -z "${RSS_TRACE:-}" ] || cp n3.rss "$RSS_TRACE"
