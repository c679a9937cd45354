#!/usr/bin/python3
"""N-seed studies of the meta dual-leader scenarios (docs/scenarios.md).

Runs `zksim run SCENARIO --seed S --json --trace T` for seeds 1..N (2 runs at a time by default),
reads the `--json` metrics and a few trace records of each run, and prints the distributions:

  ifdown    scenarios/ifdown-2022-08-04.json: P(dual leader), overlap and gap lengths, the
            seed's event order, split by whether the ZooKeeper leader shared the ifdown'd host.
  timer200  scenarios/ifdown-2022-08-04-timer200ms.json: dual leaders (expected none), gaps.
  blip      the 200 ms-timer cluster, the meta leader's host loses its network for 1 s (and a
            sweep of longer blips): how many meta failovers.
  pause     the 200 ms-timer cluster, the ZooKeeper server the meta leader's client is connected
            to pauses for 500 ms (and a sweep of longer pauses): how many meta failovers.

`--json FILE` writes every number printed (the ctest tests in tests/cli/meta_scenarios_* assert
on it). Only the standard library is needed; runs are independent processes, so the results do
not depend on --jobs.
"""

import argparse
import bisect
import json
import math
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
SCEN_IFDOWN = os.path.join(ROOT, "scenarios", "ifdown-2022-08-04.json")
SCEN_T200 = os.path.join(ROOT, "scenarios", "ifdown-2022-08-04-timer200ms.json")

KEEP = {"fault.start", "fault.end", "zk.state", "meta.leader", "client.state", "meta.timer",
        "meta.stop"}


def run_one(zksim, scenario, seed, sets, tmpdir):
    """One run: (metrics json, list of kept trace records)."""
    trace = os.path.join(tmpdir, f"t{seed}-{os.getpid()}-{abs(hash(tuple(sets))) % 10**8}.jsonl")
    cmd = [zksim, "run", scenario, "--seed", str(seed), "--json", "--trace", trace]
    for s in sets:
        cmd += ["--set", s]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.strip()}")
    res = json.loads(p.stdout)
    recs = []
    with open(trace) as f:
        for line in f:
            r = json.loads(line)
            if r["type"] in KEEP:
                recs.append(r)
    os.unlink(trace)
    return res, recs


def analyse(res, recs, zk_hosts):
    """What happened around the first fault: the seed's event order, overlap or gap."""
    ms = 1e-6  # trace times are ns
    out = {"seed": res["seed"]}
    fs = [r for r in recs if r["type"] == "fault.start"]
    if not fs:
        out["outcome"] = "no-fault"
        return out
    f = fs[0]
    tf = f["t"]
    old = None
    if f["kind"] == "ifdown":
        old = "meta:" + f["node"]
    # The meta leader and the ZooKeeper leader at the fault.
    leading = {}
    zk_leader = None
    server = {}
    for r in recs:
        if r["t"] > tf:
            break
        if r["type"] == "meta.leader":
            leading[r["node"]] = r["leading"]
        if r["type"] == "client.state" and r["to"] == "CONNECTED_STATE":
            server[r["node"]] = r["server"]
        if r["type"] == "zk.state" and r["state"] == "LEADING" and r["phase"] == "broadcast":
            zk_leader = r["node"]
    if old is None:
        old = next((n for n, on in sorted(leading.items()) if on), None)
    out["old_leader"] = old
    out["old_server"] = server.get(old)
    out["zk_leader"] = zk_leader
    out["zk_leader_colocated"] = (zk_leader is not None and old is not None
                                  and zk_hosts.get(zk_leader) == old.split(":", 1)[1])
    after = [r for r in recs if r["t"] >= tf]
    timeout = next((r["t"] for r in after if r["type"] == "client.state" and r["node"] == old
                    and r["from"] == "CONNECTED_STATE" and r["to"] == "CONNECTING_STATE"), None)
    timer = next((r["t"] for r in after if r["type"] == "meta.timer" and r["node"] == old
                  and r["action"] == "start"), None)
    stop = next((r for r in after if r["type"] == "meta.stop" and r["node"] == old), None)
    new = next((r for r in after if r["type"] == "meta.leader" and r["leading"]), None)
    out["failovers"] = sum(1 for r in after if r["type"] == "meta.stop")
    dual = res["metrics"]["meta"]["dual_leader"]["windows"]
    gaps = [w for w in res["metrics"]["meta"]["unavailable"]["windows"]
            if w["start_ms"] >= tf * ms]
    out["dual_ms"] = [w["length_ms"] for w in dual]
    out["gap_ms"] = [w["length_ms"] for w in gaps]
    if stop is None:
        out["outcome"] = "no-failover"
        return out
    out["stop_cause"] = stop["cause"]
    if new is None:
        out["outcome"] = "no-new-leader"
        return out
    out["new_leader"] = new["node"]
    t_stop = stop["t"]
    out["t_timeout_s"] = timeout / 1e9 if timeout is not None else None
    out["t_timer_s"] = timer / 1e9 if timer is not None else None
    out["t_new_s"] = new["t"] / 1e9
    out["t_stop_s"] = t_stop / 1e9
    if new["node"] != old and new["t"] < t_stop:
        out["outcome"] = "overlap"
        out["overlap_ms"] = (t_stop - new["t"]) * ms
    else:
        out["outcome"] = "gap"
        out["gap_after_stop_ms"] = (new["t"] - t_stop) * ms
    # The seed's order: client timeout -> timer start -> new leader elsewhere -> old leader stops
    # when its local timer fires.
    out["seed_order"] = (timeout is not None and timer is not None and new["node"] != old
                         and timeout <= timer <= new["t"] < t_stop
                         and stop["cause"] == "local_timer")
    return out


def run_many(zksim, scenario, seeds, sets, jobs):
    with open(scenario) as f:
        doc = json.load(f)
    zk_hosts = {f"zk:{p['id']}": p["host"] for p in doc["zk"]["peers"]}
    with tempfile.TemporaryDirectory(prefix="zksim-study-") as tmp:
        def one(seed):
            res, recs = run_one(zksim, scenario, seed, sets, tmp)
            return analyse(res, recs, zk_hosts)
        with ThreadPoolExecutor(max_workers=jobs) as ex:
            return list(ex.map(one, seeds))


def pct(xs, q):
    if not xs:
        return None
    xs = sorted(xs)
    i = min(len(xs) - 1, max(0, int(math.ceil(q / 100 * len(xs))) - 1))
    return xs[i]


def wilson(k, n, z=1.96):
    if n == 0:
        return (0.0, 0.0)
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (max(0.0, c - h), min(1.0, c + h))


def dist(xs):
    if not xs:
        return {"n": 0}
    return {"n": len(xs), "min": min(xs), "p10": pct(xs, 10), "p50": pct(xs, 50),
            "p90": pct(xs, 90), "max": max(xs), "mean": sum(xs) / len(xs)}


def hist(xs, width):
    h = {}
    for x in xs:
        b = int(x // width) * width
        h[b] = h.get(b, 0) + 1
    return {f"{b}-{b + width}": h[b] for b in sorted(h)}


def fmt_dist(d):
    if d["n"] == 0:
        return "n=0"
    return (f"n={d['n']} min={d['min']:.0f} p10={d['p10']:.0f} p50={d['p50']:.0f} "
            f"p90={d['p90']:.0f} max={d['max']:.0f} mean={d['mean']:.0f} ms")


def summarise(outs):
    n = len(outs)
    s = {"runs": n}
    by = {}
    for o in outs:
        by[o["outcome"]] = by.get(o["outcome"], 0) + 1
    s["outcomes"] = by
    k = sum(1 for o in outs if o["dual_ms"])
    s["dual_leader_runs"] = k
    s["p_dual"] = k / n if n else 0
    s["p_dual_ci95"] = wilson(k, n)
    ov = [o["overlap_ms"] for o in outs if o["outcome"] == "overlap"]
    gp = [o["gap_after_stop_ms"] for o in outs if o["outcome"] == "gap"]
    s["overlap_ms"] = dist(ov)
    s["gap_ms"] = dist(gp)
    s["overlap_hist_100ms"] = hist(ov, 100)
    s["gap_hist_100ms"] = hist(gp, 100)
    s["gaps_220_270ms"] = sorted(o["seed"] for o in outs
                                 if o["outcome"] == "gap" and 220 <= o["gap_after_stop_ms"] <= 270)
    s["seeds_416_pm_50_in_order"] = sorted(
        o["seed"] for o in outs
        if o["outcome"] == "overlap" and abs(o["overlap_ms"] - 416) <= 50 and o.get("seed_order"))
    s["failovers_total"] = sum(o.get("failovers", 0) for o in outs)
    s["runs_with_failover"] = sum(1 for o in outs if o.get("failovers", 0) > 0)
    return s


def print_summary(title, s, out=sys.stdout):
    print(f"== {title}", file=out)
    lo, hi = s["p_dual_ci95"]
    print(f"  runs {s['runs']}, outcomes {s['outcomes']}", file=out)
    print(f"  P(dual leader) = {s['p_dual']:.3f} ({s['dual_leader_runs']}/{s['runs']}, "
          f"95% CI {lo:.3f}-{hi:.3f})", file=out)
    print(f"  overlap: {fmt_dist(s['overlap_ms'])}", file=out)
    if s["overlap_hist_100ms"]:
        print(f"           {s['overlap_hist_100ms']}", file=out)
    print(f"  gap:     {fmt_dist(s['gap_ms'])}", file=out)
    if s["gap_hist_100ms"]:
        print(f"           {s['gap_hist_100ms']}", file=out)
    g = s["gaps_220_270ms"]
    print(f"  gaps of 220-270 ms: {len(g)} (seeds {g[:10]}{' ...' if len(g) > 10 else ''})",
          file=out)
    o = s["seeds_416_pm_50_in_order"]
    print(f"  overlap 416+-50 ms in the seed's order: {len(o)} (seeds {o[:10]}"
          f"{' ...' if len(o) > 10 else ''})", file=out)
    print(f"  meta failovers (stops): {s['failovers_total']} in {s['runs_with_failover']} runs",
          file=out)


def study_ifdown(a, scenario, title, sets=()):
    outs = run_many(a.zksim, scenario, range(1, a.seeds + 1), list(sets), a.jobs)
    res = {"all": summarise(outs)}
    print_summary(f"{title}: all seeds", res["all"])
    for key, name in ((False, "ZooKeeper leader on another host (the seed's case)"),
                      (True, "ZooKeeper leader on the ifdown'd host")):
        part = [o for o in outs if o.get("zk_leader_colocated") == key]
        res["zk_leader_colocated" if key else "zk_leader_elsewhere"] = summarise(part)
        print_summary(f"{title}: {name}", summarise(part))
    return res


def study_failovers(a, kind, durations):
    """Failovers caused by short faults on the 200 ms-timer cluster."""
    res = {}
    for d in durations:
        if kind == "blip":
            sets = ["faults.0.for=" + d]
            outs = run_many(a.zksim, SCEN_T200, range(1, a.seeds + 1), sets, a.jobs)
        else:
            # The server the meta leader's client is connected to is known only per seed; a run
            # without faults is identical up to the fault's instant, so find it there first.
            outs = []
            with open(SCEN_T200) as f:
                doc = json.load(f)
            addr = {h["address"]: h["name"] for h in doc["hosts"]}
            zk_of_host = {p["host"]: p["id"] for p in doc["zk"]["peers"]}
            at = doc["faults"][0]["at"]
            at_ns = float(at[:-1]) * 1e9 if at.endswith("s") and not at.endswith("ms") else None
            if at_ns is None:
                sys.exit(f"meta_studies: {SCEN_T200}: faults[0].at must be in seconds")
            with tempfile.TemporaryDirectory(prefix="zksim-study-") as tmp:
                def one(seed):
                    res0, recs0 = run_one(a.zksim, SCEN_T200, seed, ["faults=[]"], tmp)
                    leading = set()
                    conn = {}
                    for r in recs0:
                        if r["t"] > at_ns:
                            break
                        if r["type"] == "meta.leader":
                            (leading.add if r["leading"] else leading.discard)(r["node"])
                        if r["type"] == "client.state" and r["to"] == "CONNECTED_STATE":
                            conn[r["node"]] = r["server"]
                    lead = min(leading)
                    server = conn.get(lead)
                    zid = zk_of_host[addr[server.split(":")[0]]]
                    fault = json.dumps([{"at": at, "kind": "pause", "target": f"zk:{zid}",
                                         "for": d}])
                    res1, recs1 = run_one(a.zksim, SCEN_T200, seed, ["faults=" + fault], tmp)
                    o = analyse(res1, recs1, {})
                    o["paused"] = f"zk:{zid}"
                    return o
                with ThreadPoolExecutor(max_workers=a.jobs) as ex:
                    outs = list(ex.map(one, range(1, a.seeds + 1)))
        s = summarise(outs)
        res[d] = s
        print(f"== timer 200 ms, {kind} {d}: {s['runs_with_failover']}/{s['runs']} runs fail over "
              f"({s['failovers_total']} meta stops), dual leaders in {s['dual_leader_runs']}, "
              f"gap {fmt_dist(s['gap_ms'])}")
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("studies", nargs="*", default=["ifdown", "timer200", "blip", "pause"],
                    help="ifdown timer200 blip pause (default: all)")
    ap.add_argument("--zksim", default=os.path.join(ROOT, "build", "tools", "cli", "zksim"),
                    help="the zksim binary")
    ap.add_argument("--seeds", type=int, default=1000, help="seeds 1..N per study")
    ap.add_argument("--jobs", type=int, default=2, help="runs at a time")
    ap.add_argument("--sweep", action="store_true",
                    help="blip/pause: also longer faults (2-5 s blips, 1-6 s pauses)")
    ap.add_argument("--json", help="write all results to this file")
    a = ap.parse_args()
    if not os.access(a.zksim, os.X_OK):
        sys.exit(f"meta_studies: no zksim binary at {a.zksim} (use --zksim)")
    results = {"seeds": a.seeds}
    for st in a.studies:
        if st == "ifdown":
            results["ifdown"] = study_ifdown(a, SCEN_IFDOWN, "ifdown, local timer 3600 ms")
        elif st == "timer200":
            results["timer200"] = study_ifdown(a, SCEN_T200, "ifdown, local timer 200 ms")
        elif st == "blip":
            ds = ["1s"] + (["2s", "2500ms", "3s", "3500ms", "4s", "5s"] if a.sweep else [])
            results["blip"] = study_failovers(a, "blip", ds)
        elif st == "pause":
            ds = ["500ms"] + (["1s", "2s", "4s", "6s"] if a.sweep else [])
            results["pause"] = study_failovers(a, "pause", ds)
        else:
            sys.exit(f"meta_studies: unknown study {st} (ifdown timer200 blip pause)")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
