#!/usr/bin/env bash
# The 110 alarm desk under a burst (`smsgw bench alarm`): a fresh release
# node, the simulator in its own process as a China Mobile carrier with a
# high TPS ceiling, the desk's 110 line, RATE alarm MOs a second for SECS
# seconds (default 1000 for 60). Prints MO → case and MO → forward at the
# carrier (p50/p99). Repeat it for a median. Needs
# `cargo build --release -p smsgw` first. Uses 127.0.0.1 ports 7202, 8282.
set -euo pipefail
RATE=${RATE:-1000}
SECS=${SECS:-60}
. "$(dirname "$0")/lib/node-with-sim.sh"
enter_work_dir
start_sim
{
  carrier_doc
  cat <<DOC
[[accounts]]
name = "desk"
api_keys = ["sk_desk_0123456789abcdef"]

[alarm]
account = "desk"
flood_per_minute = 10

[[alarm.lines]]
number = "110"
reply = "【110】您的短信报警已收到（编号 {case}），请保持手机畅通。"
DOC
} > doc.toml
start_node 7202 8282 doc.toml
sleep 2
"$B" bench alarm --api http://127.0.0.1:8282 --key sk_desk_0123456789abcdef \
  --sim "$CTRL" --rate "$RATE" --secs "$SECS"
