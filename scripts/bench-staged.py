#!/usr/bin/env python3
# A staged accept against a single-entry one on one fresh node (the no-config
# node, in-process simulators): 5 ABAB rounds of a 300-recipient POST
# (one entry of about 815 KB) and a 1,000-recipient one (staged), texts of
# 1,000 characters; prints each latency, the medians, µs per message, and
# the staged and largest-entry metrics. Usage:
#   cargo build --release -p smsgw && scripts/bench-staged.py "$PWD/target/release/smsgw"
import json, subprocess, sys, tempfile, time, urllib.request, statistics, os, re
BIN = sys.argv[1]
d = tempfile.mkdtemp(prefix="entries9-bench-")
p = subprocess.Popen([BIN, "node", "start", "--raft-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"],
                     cwd=d, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
http = None
try:
    deadline = time.time() + 60
    while http is None and time.time() < deadline:
        line = p.stdout.readline()
        m = re.search(r"http=(\S+)", line) if " ready " in line else None
        if m: http = m.group(1)
    key = open(os.path.join(d, "smsgw-data", "demo-api-key")).read().strip()
    text = ("Evacuate block 7 now; assemble at the east gate. " * 21)[:1000]
    def post(n, base):
        body = json.dumps({"to": [f"138{base:04d}{i:04d}" for i in range(n)], "text": text}).encode()
        req = urllib.request.Request(f"http://{http}/v1/messages", data=body, method="POST",
              headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
        t = time.perf_counter()
        with urllib.request.urlopen(req, timeout=60) as r:
            assert r.status == 202, r.status
            assert len(json.load(r)["messages"]) == n
        return time.perf_counter() - t
    res = {300: [], 1000: []}
    base = 0
    for rnd in range(5):
        for n in (300, 1000):
            base += 1
            res[n].append(post(n, base))
            time.sleep(1)
    metrics = urllib.request.urlopen(f"http://{http}/metrics").read().decode()
    pick = lambda name: [l for l in metrics.splitlines() if l.startswith(name)]
    for n, ts in res.items():
        ms = [round(t * 1000) for t in ts]
        med = statistics.median(ts)
        print(f"{n} recipients: ms {ms}, median {med*1000:.0f} ms = {med*1e6/n:.0f} us per message")
    print(pick("smsgw_staged_accepts_total"), pick("smsgw_raft_entry_bytes_max"))
finally:
    p.terminate(); p.wait(timeout=30)
    subprocess.run(["rm", "-rf", d])
