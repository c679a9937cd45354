#!/usr/bin/python3
"""Who leads, who cycles and how long ZooKeeper is unavailable in the 2025-07-20 incident scenarios.

Usage: incident_2025_port_study.py --zksim build/tools/cli/zksim SCENARIO [SCENARIO ...]
                                   [--seeds 16] [--json OUT.json] [--tmp DIR]

Runs each scenario over seeds 1..N (`zksim run --seed N --json --trace`, two at a time) and
measures, in the fault window (from the first fault's start to the run's end):
  elected      how often each myid was elected leader (zk.election records with role LEADING)
  to5          peers' elections that ended with myid 5 as leader (zk.election leader 5, any role)
  served_s     seconds each myid led in broadcast
  exceptions   `Exception when following the leader` (zk.follower.exception) per myid, whole run
  cycles4      myid 4's looking -> following -> following-discovery -> looking cycles
  stable       the first leader (after the fault starts) that stays in broadcast >= 60 s or to the end
  zk_unavail   metrics.zk.unavailable (count, total_ms, max_ms) of --json
Stdlib only; deterministic (it only reads the simulator's outputs).
"""
import argparse
import concurrent.futures
import json
import os
import subprocess
import tempfile

STABLE_S = 60.0


def clock(t_s):
    """Simulated seconds as the seed's local time (t=0 is 00:00:00)."""
    m, s = divmod(t_s, 60)
    return f"00:{int(m):02d}:{s:06.3f}"


def analyse(res, recs, fault_at_s, end_s):
    states = {}  # node -> [(t, state, phase)]
    elected = {}
    to5 = 0
    exc = {}
    for r in recs:
        t = r["t"] / 1e9
        if r["type"] == "zk.state":
            states.setdefault(r["node"], []).append((t, r["state"], r["phase"]))
        elif r["type"] == "zk.election" and r["role"] == "LEADING" and t >= fault_at_s:
            elected[r["node"]] = elected.get(r["node"], 0) + 1
        if r["type"] == "zk.election" and r["leader"] == 5 and t >= fault_at_s:
            to5 += 1
        elif r["type"] == "zk.follower.exception":
            exc[r["node"]] = exc.get(r["node"], 0) + 1
    served = {}
    stable = None
    for node, seq in sorted(states.items()):
        for k, (t, st, ph) in enumerate(seq):
            if st != "LEADING" or ph != "broadcast":
                continue
            t_end = seq[k + 1][0] if k + 1 < len(seq) else end_s
            lo = max(t, fault_at_s)
            if t_end > lo:
                served[node] = served.get(node, 0) + (t_end - lo)
            if t >= fault_at_s and (t_end - t >= STABLE_S or t_end >= end_s):
                if stable is None or t < stable[0]:
                    stable = (t, node)
    cycles4 = 0
    seq = [(st, ph) for _, st, ph in states.get("zk:4", [])]
    for k in range(len(seq) - 3):
        if (seq[k][0] == "LOOKING" and seq[k + 1][0] == "FOLLOWING"
                and seq[k + 2] == ("FOLLOWING", "discovery") and seq[k + 3][0] == "LOOKING"):
            cycles4 += 1
    # myid 4's cycle period: looking -> looking, while it cycled
    looks = [t for t, st, _ in states.get("zk:4", []) if st == "LOOKING" and t >= fault_at_s]
    gaps = [b - a for a, b in zip(looks, looks[1:])]
    u = res["metrics"]["zk"]["unavailable"]
    return {
        "seed": res["seed"],
        "trace_hash": res["trace_hash"],
        "elected": dict(sorted(elected.items())),
        "to5": to5,
        "served_s": {k: round(v, 1) for k, v in sorted(served.items())},
        "exceptions": {f"zk:{i}": exc.get(f"zk:{i}", 0) for i in range(1, 6)},
        "cycles4": cycles4,
        "cycle4_median_s": round(sorted(gaps)[len(gaps) // 2], 3) if gaps else None,
        "stable_at_s": round(stable[0], 3) if stable else None,
        "stable_leader": stable[1] if stable else None,
        "zk_unavail": {"count": u["count"], "total_s": round(u["total_ms"] / 1e3, 1),
                       "max_s": round(u["max_ms"] / 1e3, 1)},
    }


def run_one(zksim, scenario, seed, tmp):
    trace = os.path.join(tmp, f"{os.path.basename(scenario)}-{seed}.jsonl")
    p = subprocess.run([zksim, "run", scenario, "--seed", str(seed), "--json", "--trace", trace],
                       capture_output=True, text=True)
    if p.returncode not in (0, 1):
        raise SystemExit(f"{scenario} seed {seed}: exit {p.returncode}: {p.stderr}")
    res = json.loads(p.stdout)
    recs = [json.loads(line) for line in open(trace)]
    os.remove(trace)
    return res, recs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zksim", required=True)
    ap.add_argument("--seeds", type=int, default=16)
    ap.add_argument("--json")
    ap.add_argument("--tmp")
    ap.add_argument("scenarios", nargs="+")
    a = ap.parse_args()
    out = {}
    with tempfile.TemporaryDirectory() as d:
        tmp = a.tmp or d
        for scen in a.scenarios:
            doc = json.load(open(scen))
            from_dur = lambda s: float(s[:-2]) / 1e3 if s.endswith("ms") else float(s[:-1])
            fault_at = min(from_dur(f["at"]) for f in doc["faults"])
            end = from_dur(doc["duration"])
            with concurrent.futures.ThreadPoolExecutor(2) as ex:
                runs = list(ex.map(lambda s: run_one(a.zksim, scen, s, tmp),
                                   range(1, a.seeds + 1)))
            rows = [analyse(res, recs, fault_at, end) for res, recs in runs]
            out[os.path.basename(scen)] = rows
            print(f"== {os.path.basename(scen)} (fault from {clock(fault_at)})")
            print(f"{'seed':>4} {'elected (in window)':<20} {'to5':>4} {'led in broadcast s':<20} "
                  f"{'exceptions 1..5':<22} {'c4':>3} {'per':>6} {'stable leader':<24} "
                  f"{'zk unavailable n/total/max s'}")
            for r in rows:
                el = " ".join(f"{k[3:]}:{v}" for k, v in r["elected"].items())
                sv = " ".join(f"{k[3:]}:{v:.0f}" for k, v in r["served_s"].items())
                ex_ = "/".join(str(v) for v in r["exceptions"].values())
                st = (f"{r['stable_leader']} {clock(r['stable_at_s'])}" if r["stable_leader"]
                      else "none")
                u = r["zk_unavail"]
                per = f"{r['cycle4_median_s']:.2f}" if r["cycle4_median_s"] else "-"
                print(f"{r['seed']:>4} {el:<20} {r['to5']:>4} {sv:<20} {ex_:<22} {r['cycles4']:>3} {per:>6} "
                      f"{st:<24} {u['count']}/{u['total_s']}/{u['max_s']}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
