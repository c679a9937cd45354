#!/usr/bin/env python3
"""How likely is a dual meta leader when the meta leader's host is partitioned off, with
ZooKeeper co-located (docs/fuzz.md, findings: the leader expires the sessions held at the cut-off
follower while their clients, on that follower's host, stay connected)?

For each seed, a faultless run finds the meta leader at 60 s; then, for each partition length L,
that leader's host is partitioned from the other hosts at 60 s + a phase drawn uniformly in
[0, 2 s) (the ping period, from the seed: the same phase for every L) and healed L later. Prints,
per L, the share of runs with two meta leaders (Wilson 95% interval) and the longest overlap.

  /usr/bin/python3 tools/studies/colocated_partition_study.py --zksim build/tools/cli/zksim \
      [--scenario scenarios/fuzz/ifdown-2022-timer1500.json] [--seeds 200] [--lengths 1,2,3,...]

stdlib only; runs two zksim processes at a time.
"""
import argparse
import concurrent.futures as cf
import json
import math
import os
import random
import subprocess
import sys
import tempfile

FAULT_AT_S = 60.0


def run(zksim, doc, seed, tmp, name, trace=False):
    path = os.path.join(tmp, name + ".json")
    with open(path, "w") as f:
        json.dump(doc, f)
    cmd = [zksim, "run", path, "--seed", str(seed), "--json"]
    tpath = os.path.join(tmp, name + ".jsonl")
    if trace:
        cmd += ["--trace", tpath]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode not in (0, 1):
        sys.exit(f"zksim failed ({p.returncode}) on {path}: {p.stderr.strip()}")
    res = json.loads(p.stdout)
    recs = None
    if trace:
        with open(tpath) as f:
            recs = [json.loads(l) for l in f]
    return res, recs


def leader_at(recs, t_ns):
    lead = None
    for r in recs:
        if r["t"] > t_ns:
            break
        if r["type"] == "meta.leader":
            if r["leading"]:
                lead = r["node"]
            elif lead == r["node"]:
                lead = None
    return lead


def client_class(recs, t_ns, meta, host_addr, zk_node):
    """Where the meta's ZooKeeper client is connected at t: 'local follower', 'local leader'
    (the ZooKeeper peer on its own host) or 'remote'."""
    server = None
    for r in recs:
        if r["t"] > t_ns:
            break
        if r["type"] == "client.state" and r["node"] == meta:
            server = r["server"] if r["to"] == "CONNECTED_STATE" else None
    if server is None:
        return "not connected"
    if server.split(":")[0] != host_addr:
        return "remote"
    state = None
    for r in recs:
        if r["t"] > t_ns:
            break
        if r["type"] == "zk.state" and r["node"] == zk_node:
            state = r["state"]
    return "local " + ("leader" if state == "LEADING" else "follower")


def wilson(k, n, z=1.96):
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    d = 1 + z * z / n
    c = p + z * z / (2 * n)
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (max(0.0, (c - h) / d), min(1.0, (c + h) / d))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--zksim", required=True)
    ap.add_argument("--scenario", default="scenarios/fuzz/ifdown-2022-timer1500.json")
    ap.add_argument("--seeds", type=int, default=200)
    ap.add_argument("--lengths", default="1,2,2.5,2.75,3,3.25,3.5,4,5,6,8,10,12,15,20")
    ap.add_argument("--local-timer", default=None, help="override meta.localTimer, e.g. 200ms")
    ap.add_argument("--json", default=None, help="write the table here too")
    a = ap.parse_args()
    with open(a.scenario) as f:
        base = json.load(f)
    base["duration"] = "100s"
    base.pop("checks", None)
    if a.local_timer:
        base["meta"]["localTimer"] = a.local_timer
    hosts = [h["name"] for h in base["hosts"]]
    lengths = [float(x) for x in a.lengths.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        def one_seed(seed):
            doc = dict(base, faults=[])
            _, recs = run(a.zksim, doc, seed, tmp, f"s{seed}-none", trace=True)
            lead = leader_at(recs, int(FAULT_AT_S * 1e9))
            if lead is None:
                return seed, None, []
            h = lead.split(":", 1)[1]
            addr = next(x["address"] for x in base["hosts"] if x["name"] == h)
            zk = next(f"zk:{p['id']}" for p in base["zk"]["peers"] if p["host"] == h)
            where = client_class(recs, int(FAULT_AT_S * 1e9), lead, addr, zk)
            phase = random.Random(seed).random() * 2.0
            out = []
            for L in lengths:
                fault = {"at": f"{int((FAULT_AT_S + phase) * 1e6)}us", "kind": "partition",
                         "for": f"{int(L * 1e6)}us",
                         "groups": [[h], [x for x in hosts if x != h]]}
                res, _ = run(a.zksim, dict(base, faults=[fault]), seed, tmp, f"s{seed}-{L}")
                d = res["metrics"]["meta"]["dual_leader"]
                out.append((L, d["count"] > 0, d["max_ms"]))
            return seed, (h, where), out

        rows = {L: [0, 0, 0.0] for L in lengths}
        by_class = {}
        skipped = 0
        with cf.ThreadPoolExecutor(max_workers=2) as ex:
            for seed, h, out in ex.map(one_seed, range(1, a.seeds + 1)):
                if h is None:
                    skipped += 1
                    continue
                for L, dual, mx in out:
                    c = by_class.setdefault(h[1], {}).setdefault(L, [0, 0])
                    c[0] += 1
                    c[1] += dual
                    r = rows[L]
                    r[0] += 1
                    r[1] += dual
                    r[2] = max(r[2], mx)
    print(f"{a.scenario}, seeds 1..{a.seeds} ({skipped} without a meta leader at {FAULT_AT_S:.0f} s)"
          + (f", localTimer {a.local_timer}" if a.local_timer else ""))
    print(f"{'partition s':>11} {'runs':>5} {'dual':>5} {'share':>7} {'95% CI':>17} {'max overlap ms':>15}")
    table = []
    for L in lengths:
        n, k, mx = rows[L]
        lo, hi = wilson(k, n)
        print(f"{L:>11.2f} {n:>5} {k:>5} {k / max(n, 1):>7.1%} {f'[{lo:.1%}, {hi:.1%}]':>17} {mx:>15.1f}")
        table.append({"partition_s": L, "runs": n, "dual": k, "max_overlap_ms": mx,
                      "ci95": [lo, hi]})
    print("share with two leaders by where the meta leader's client was connected:")
    for cls in sorted(by_class):
        cells = " ".join(f"{L:g}s:{k}/{n}" for L, (n, k) in sorted(by_class[cls].items()))
        print(f"  {cls:>14}: {cells}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"scenario": a.scenario, "seeds": a.seeds, "rows": table}, f, indent=1)


if __name__ == "__main__":
    main()
