#!/usr/bin/env bash
# How replay reads a folder whose only faults are logged GC pauses (docs/replay.md, GC pause row):
# the 2022 ifdown scenario without its fault, 10 minutes, a constant GC pause of each LENGTH every
# 60..140 s on each ZooKeeper JVM, seeds 1..SEEDS; each folder replayed without its configuration
# or run record. Prints, per length, the runs where a fault other than a logged GC pause was
# inferred (and which), and the key events matched / missing / extra (the replay draws its own
# seed, so ping phases and races differ from the recording's).
#
#   tools/studies/replay_gc_study.sh [LENGTHS=3s,7s,12s,15s,20s] [SEEDS=20] [ZKSIM=build/tools/cli/zksim]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 - "${3:-$here/build/tools/cli/zksim}" "$here/scenarios/ifdown-2022-08-04.json" \
  "${1:-3s,7s,12s,15s,20s}" "${2:-20}" "$tmp" <<'PY'
import collections, json, os, shutil, subprocess, sys
zksim, base, lens, seeds, tmp = sys.argv[1], sys.argv[2], sys.argv[3].split(","), int(sys.argv[4]), sys.argv[5]
for length in lens:
    runs, matched, missing, extra, kinds = 0, 0, 0, 0, collections.Counter()
    for seed in range(1, seeds + 1):
        d = json.load(open(base))
        d["duration"], d["seed"], d["faults"] = "600s", seed, []
        d["gc"] = {"zk": {"pause": {"dist": "constant", "value": length},
                          "interval": {"dist": "uniform", "min": "60s", "max": "140s"}}}
        w = os.path.join(tmp, "w")
        shutil.rmtree(w, ignore_errors=True)
        os.makedirs(w)
        json.dump(d, open(f"{w}/s.json", "w"))
        subprocess.run([zksim, "run", f"{w}/s.json", "--logs", f"{w}/logs"], capture_output=True)
        os.remove(f"{w}/logs/zksim-run.json")  # the folder as a real cluster leaves it
        p = subprocess.run([zksim, "replay", f"{w}/logs", "--out", f"{w}/out"], capture_output=True, text=True)
        if p.returncode != 0:
            print(f"  {length} seed {seed}: replay failed: {p.stderr.strip()[-300:]}")
            runs += 1
            continue
        sc = json.load(open(f"{w}/out/scenario.json"))
        other = [f for f in sc["faults"] if "GC pause" not in f.get("comment", "")]
        for f in other:
            kinds[f["kind"]] += 1
        if other:
            runs += 1
            for f in other:
                print(f"  {length} seed {seed}: {f['kind']} {f.get('target', f.get('host', ''))} at {f['at']}: {f.get('comment', '')[:100]}")
        b = json.load(open(f"{w}/out/report.json"))["baseline"]
        matched, missing, extra = matched + b["matched"], missing + b["missing"], extra + b["extra"]
    print(f"GC {length}: {runs}/{seeds} runs with another fault {dict(kinds)}; key events matched {matched}, missing {missing}, extra {extra}")
PY
