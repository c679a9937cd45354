#!/usr/bin/python3
"""How long after the last fault heals is every ZooKeeper peer back in broadcast and every meta's
client connected (docs/zk-model.md, FLE: a peer cut off for about a minute rejoins only at its
next notification time-out)?

For each run, a random schedule of 1..--max-faults faults (ifdown, partition, one-way cut, loss,
latency, pause, crash with restart), each starting in [10 s, 50 s) and lasting up to --max-len,
is written over the base scenario (its own faults and checks dropped), run with
`zksim run --trace` for --duration, and read back:

  recovery   from the last heal to the moment from which every peer stays in broadcast
             (LEADING/FOLLOWING) and every meta's client stays CONNECTED to the end of the run;
  stuck      runs where that moment never comes (a peer or client still out at the end).

Prints, per scenario, the recovery percentiles, how many runs took longer than each --margins
value, and the slowest and any stuck runs with the command that replays each. This is stronger than P4 (a quorum
serving) and is what FuzzSlow.EveryPeerAndClientRecoversAfterTheLastHeal checks at 35 s on short
faults. The schedules depend only on --seed (not on --jobs).

  /usr/bin/python3 tools/studies/liveness_study.py --zksim build/tools/cli/zksim \\
      [--scenario scenarios/fuzz/zk5.json ...] [--runs 1500] [--seed 1] [--max-len 60s] \\
      [--duration 300s] [--margins 35,40,60,100] [--keep DIR] [--json FILE]

stdlib only; runs --jobs zksim processes at a time (default 2).
"""
import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
KINDS = ["ifdown", "partition", "cut", "loss", "pause", "crash", "latency"]


def seconds(text, flag):
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s)", text)
    if not m:
        sys.exit(f"liveness_study: {flag}: expected a duration like 60s or 500ms, got {text!r}")
    v = float(m.group(1))
    return v / 1000 if m.group(2) == "ms" else v


def layout(doc):
    zk = doc.get("zk", {})
    cnt = zk.get("count", 5)
    if "hosts" in doc:
        hosts = [h["name"] for h in doc["hosts"]]
    else:
        hosts = [f"node{i}" for i in range(1, cnt + 1)]
    ids = [p["id"] for p in zk["peers"]] if "peers" in zk else list(range(1, cnt + 1))
    targets = [f"zk:{x}" for x in ids] + ["zk:leader"] + (["meta:leader"] if "meta" in doc else [])
    return hosts, targets


def schedule(rng, hosts, targets, max_faults, max_len_ms):
    """A random fault list; returns (faults, last heal in seconds)."""
    faults = []
    heal = 0.0
    for _ in range(rng.randint(1, max_faults)):
        at = rng.randint(10_000, 50_000)
        ln = rng.randint(100, max_len_ms)
        k = rng.choice(KINDS)
        f = {"at": f"{at}ms", "kind": k}
        if k == "ifdown":
            f["host"] = rng.choice(hosts)
        elif k == "partition":
            g = rng.sample(hosts, rng.randint(1, len(hosts) - 1))
            f["groups"] = [g, [h for h in hosts if h not in g]]
        elif k == "cut":
            a, b = rng.sample(hosts, 2)
            f["from"], f["to"] = a, b
        elif k == "loss":
            f["host"] = rng.choice(hosts)
            f["loss"] = rng.choice([0.3, 0.6, 0.9])
        elif k == "latency":
            f["host"] = rng.choice(hosts)
            f["latency"] = f"{rng.randint(10, 3000)}ms"
        else:
            f["target"] = rng.choice(targets)
        if k == "crash":
            f["restartAfter"] = f"{ln}ms"
        else:
            f["for"] = f"{ln}ms"
        faults.append(f)
        heal = max(heal, (at + ln) / 1000)
    return faults, heal


def settled_at(trace_path):
    """The time (s) from which every peer is in broadcast and every client CONNECTED to the end,
    or None if one is not at the end. Also returns the nodes still out at the end."""
    out_since = {}  # node -> when it last went out, None while it is in
    last_in = {}  # node -> when it last came in
    for line in open(trace_path):
        r = json.loads(line)
        if r["type"] == "zk.state":
            inside = r["phase"] == "broadcast"
        elif r["type"] == "client.state":
            inside = r["to"] == "CONNECTED_STATE"
        else:
            continue
        t = r["t"] / 1e9
        node = r["node"]
        if inside:
            out_since[node] = None
            last_in[node] = t
        else:
            out_since[node] = t
    still_out = sorted(n for n, v in out_since.items() if v is not None)
    if still_out:
        return None, still_out
    return max(last_in.values(), default=0.0), []


def one(args, base_path, doc, i, rs, faults, heal, tmp):
    d = json.loads(json.dumps(doc))
    d["duration"] = f"{args.duration_s:g}s"
    base_dir = os.path.dirname(os.path.abspath(base_path))
    if "gc" in d:  # model paths are relative to the base scenario's folder
        d["gc"] = {k: (v if not isinstance(v, str) or os.path.isabs(v) else
                       os.path.join(base_dir, v)) for k, v in d["gc"].items()}
    d.pop("checks", None)
    d["faults"] = faults
    stem = f"{os.path.splitext(os.path.basename(base_path))[0]}-{i}"
    sc = os.path.join(tmp, stem + ".json")
    with open(sc, "w") as f:
        json.dump(d, f, indent=1)
    tr = os.path.join(tmp, stem + ".jsonl")
    p = subprocess.run([args.zksim, "run", sc, "--trace", tr, "--seed", str(rs)],
                       capture_output=True, text=True)
    if p.returncode not in (0, 1):
        sys.exit(f"liveness_study: zksim failed ({p.returncode}) on {sc}: {p.stderr.strip()}")
    at, out = settled_at(tr)
    os.remove(tr)
    rec = None if at is None else max(0.0, at - heal)
    return {"run": i, "seed": rs, "heal_s": heal, "recovery_s": rec, "still_out": out,
            "scenario": sc}


def pct(xs, q):
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--zksim", default=os.path.join(ROOT, "build/tools/cli/zksim"))
    ap.add_argument("--scenario", action="append",
                    help="base scenario (repeatable); default scenarios/fuzz/zk5.json")
    ap.add_argument("--runs", type=int, default=1500, help="runs per scenario")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-faults", type=int, default=8)
    ap.add_argument("--max-len", default="60s", help="longest fault")
    ap.add_argument("--duration", default="300s", help="length of each run")
    ap.add_argument("--margins", default="35,40,60,100",
                    help="count runs whose recovery is longer than each of these (s)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--show", type=int, default=3, help="print the N slowest runs per scenario")
    ap.add_argument("--keep", help="keep every run's scenario file in this folder")
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args()
    if args.runs < 1 or args.max_faults < 1 or args.jobs < 1:
        sys.exit("liveness_study: --runs, --max-faults and --jobs must be at least 1")
    max_len_ms = int(seconds(args.max_len, "--max-len") * 1000)
    if max_len_ms < 100:
        sys.exit("liveness_study: --max-len must be at least 100ms")
    args.duration_s = seconds(args.duration, "--duration")
    if args.duration_s <= 50 + max_len_ms / 1000:
        sys.exit(f"liveness_study: --duration {args.duration} ends before the last fault can heal "
                 f"(faults start before 50 s and last up to {args.max_len})")
    try:
        margins = [float(x) for x in args.margins.split(",") if x]
    except ValueError:
        sys.exit(f"liveness_study: --margins: expected numbers of seconds, got {args.margins!r}")
    if not os.access(args.zksim, os.X_OK):
        sys.exit(f"liveness_study: --zksim {args.zksim}: not an executable (build first)")
    scenarios = args.scenario or [os.path.join(ROOT, "scenarios/fuzz/zk5.json")]
    tmp = args.keep or tempfile.mkdtemp(prefix="liveness")
    os.makedirs(tmp, exist_ok=True)
    report = {"seed": args.seed, "runs": args.runs, "max_faults": args.max_faults,
              "max_len_s": max_len_ms / 1000, "duration_s": args.duration_s, "scenarios": {}}
    for base in scenarios:
        try:
            with open(base) as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            sys.exit(f"liveness_study: {base}: {e}")
        hosts, targets = layout(doc)
        rng = random.Random(f"{args.seed}:{os.path.basename(base)}")
        jobs = []
        for i in range(args.runs):
            faults, heal = schedule(rng, hosts, targets, args.max_faults, max_len_ms)
            jobs.append((i, rng.randint(1, 10**9), faults, heal))
        with ThreadPoolExecutor(args.jobs) as ex:
            res = list(ex.map(lambda j: one(args, base, doc, *j, tmp), jobs))
        recs = sorted(r["recovery_s"] for r in res if r["recovery_s"] is not None)
        stuck = [r for r in res if r["recovery_s"] is None]
        name = os.path.relpath(base, ROOT) if base.startswith(ROOT) else base
        print(f"{name}: {args.runs} runs (seed {args.seed}, 1..{args.max_faults} faults up to "
              f"{args.max_len}, runs of {args.duration})")
        fig = {"recovered": len(recs), "stuck": len(stuck), "over": {}}
        if recs:
            fig.update(p50_s=pct(recs, 0.5), p99_s=pct(recs, 0.99), max_s=recs[-1])
            print(f"  recovery after the last heal: p50 {fig['p50_s']:.1f} s, p99 "
                  f"{fig['p99_s']:.1f} s, max {fig['max_s']:.1f} s")
        for m in margins:
            n = sum(1 for x in recs if x > m) + len(stuck)
            fig["over"][f"{m:g}"] = n
            print(f"  not all back {m:g} s after the last heal: {n} of {args.runs}")
        slow = sorted((r for r in res if r["recovery_s"] is not None),
                      key=lambda r: -r["recovery_s"])[:args.show]
        for r in slow:
            print(f"  run {r['run']}: back {r['recovery_s']:.1f} s after the last heal "
                  f"(at {r['heal_s']:.1f} s)\n    {args.zksim} run {r['scenario']} --seed {r['seed']}")
        fig["slowest_runs"] = [{k: r[k] for k in ("run", "seed", "scenario", "recovery_s")}
                               for r in slow]
        for r in stuck:
            print(f"  run {r['run']}: still out at the end ({args.duration_s - r['heal_s']:.0f} s "
                  f"after the last heal): {', '.join(r['still_out'])}\n"
                  f"    {args.zksim} run {r['scenario']} --seed {r['seed']}")
        fig["stuck_runs"] = [{k: r[k] for k in ("run", "seed", "scenario", "still_out")}
                             for r in stuck]
        report["scenarios"][name] = fig
        if not args.keep:  # keep the files of the runs printed
            shown = {r["scenario"] for r in slow + stuck}
            for r in res:
                if r["scenario"] not in shown:
                    os.remove(r["scenario"])
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
