#!/usr/bin/env bash
# scripts/plot-colocated end to end on a small sweep: 144 grid points (3 timers x 4 starts x 12
# lengths), a PNG, and the finding's shape in the CSV: no dual leader for partitions of 3 s or
# less, some from 4 s on with every timer.
set -euo pipefail
zksim=$1 root=$2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
/usr/bin/python3 "$root/scripts/plot-colocated" --zksim "$zksim" --runs 20 --jobs 2 \
  --out "$out/c.png" >"$out/log" 2>&1 || { cat "$out/log"; exit 1; }
test -s "$out/c.png" || { echo "no PNG"; exit 1; }
/usr/bin/python3 - "$out/c.csv" <<'PY'
import sys
import pandas as pd
d = pd.read_csv(sys.argv[1])
assert len(d) == 144, len(d)
ms = {"2s": 2e3, "2500ms": 2.5e3, "3s": 3e3}
short = d[d["faults.0.for"].isin(ms)]
assert short["dual_runs"].sum() == 0, short[["faults.0.for", "dual_runs"]]
for t in ("200ms", "1500ms", "3600ms"):
    long_ = d[(d["meta.localTimer"] == t) & d["faults.0.for"].isin(["4s", "5s", "6s", "8s"])]
    assert long_["dual_runs"].sum() > 0, t
print("ok: 144 points, no dual leader up to 3 s, dual leaders from 4 s with every timer")
PY
