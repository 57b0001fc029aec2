# Shared setup of the benchmark scripts: a work directory, the carrier
# simulator in its own process and fresh release nodes on fixed loopback
# ports. Source it from a script that has `set -euo pipefail`, then call
# `enter_work_dir`. It never touches a node it did not start: every node a
# script starts has its node file under the work directory, and
# `stop_nodes` matches on that path.

B=${SMSGW:-$(pwd)/target/release/smsgw}

# Makes a fresh work directory $W and moves into it; on exit, stops the
# simulator and every node started from it, and removes it.
enter_work_dir() {
  W=$(mktemp -d)
  cd "$W"
  trap 'stop_all; rm -rf "$W"' EXIT
}

# Starts `smsgw sim --ephemeral` here; sets CMPP (its CMPP listener) and
# CTRL (its control API URL).
start_sim() {
  ("$B" sim --ephemeral > sim.out 2>&1 &)
  for _ in $(seq 1 50); do
    grep -q 'control http' sim.out 2> /dev/null && break
    sleep 0.1
  done
  CMPP=$(awk '/^  cmpp/{print $2}' sim.out)
  CTRL=$(grep -o 'control http://[0-9.:]*' sim.out | cut -d' ' -f2)
}

# Prints the cluster document's carrier part: the simulator's CMPP
# listener as China Mobile with a TPS ceiling out of the way, every number
# routed to it. Scripts append their accounts.
carrier_doc() {
  cat <<DOC
[[carriers]]
name = "cm"
protocol = "cmpp3"
address = "$CMPP"
login = "900001"
password = "secret"
connections = 2
window = 64
tps = 100000
sp_number = "1069000"

[[routes]]
prefixes = ["*"]
carrier = "cm"

DOC
}

# start_node RAFT_PORT HTTP_PORT DOC: a fresh one-node cluster in ./data
# with DOC applied, waited for until /readyz says ready.
start_node() {
  printf 'node_id = 1\ndata_dir = "data"\nbootstrap = true\nraft_addr = "127.0.0.1:%s"\nhttp_addr = "127.0.0.1:%s"\napps_smpp_addr = "127.0.0.1:0"\napps_cmpp_addr = "127.0.0.1:0"\n' "$1" "$2" > node.toml
  ("$B" node start --config "$(pwd)/node.toml" > node.out 2> node.err &)
  for _ in $(seq 1 100); do
    [ -s data/cluster-secret ] && grep -q ' ready raft=' node.out 2> /dev/null && break
    sleep 0.1
  done
  "$B" config apply "$3" --addr "127.0.0.1:$1" --secret-file data/cluster-secret > /dev/null
  for _ in $(seq 1 100); do
    curl -s "http://127.0.0.1:$2/readyz" | grep -q '"ready":true' && break
    sleep 0.2
  done
}

# Stops every node whose node file is under the work directory.
stop_nodes() {
  pkill -f "$W/[^ ]*[.]toml" || true
}

# Stops the simulator and every node started from the work directory.
stop_all() {
  pkill -f "$B sim --ephemeral" || true
  stop_nodes
}
