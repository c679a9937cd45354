#!/usr/bin/env bash
# How often replay rebuilds a short host isolation from the logs alone (docs/replay.md, "Not
# inferable"): for each seed, `zksim run` colocated-partition-meta-leader with the partition
# lasting LENGTH and --logs, then `zksim replay` of that folder with the scenario's configuration;
# counts the runs whose key events all match exactly (0.000 ms), all within 1 ms with none missing
# or extra, and, among the runs with two meta leaders, the exact ones.
#
#   tools/studies/replay_colocated_study.sh [LENGTH=5s] [SEEDS=40] [ZKSIM=build/tools/cli/zksim]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
len=${1:-5s}
seeds=${2:-40}
zksim=${3:-$here/build/tools/cli/zksim}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 - "$here/scenarios/fuzz/colocated-partition-meta-leader.json" "$len" "$tmp/s.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["faults"][0]["for"] = sys.argv[2]
json.dump(s, open(sys.argv[3], "w"))
PY
scen=$tmp/s.json  # (the scenario names no file: it runs from anywhere)
exact=0 within=0 dual=0 dual_exact=0
for s in $(seq 1 "$seeds"); do
  d=$tmp/$s
  "$zksim" run "$scen" --seed "$s" --logs "$d/logs" --json > "$d.run.json" 2>/dev/null || true
  "$zksim" replay "$d/logs" --config "$scen" > "$d.replay.txt" 2>&1
  line=$(grep -m1 'baseline simulation vs recorded' "$d.replay.txt")
  is_dual=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['metrics']['meta']['dual_leader']['count'] > 0)" "$d.run.json")
  if [[ $line == *"0 missing, 0 extra; max |delta| 0.000 ms (0.000"* ]]; then
    exact=$((exact + 1)); within=$((within + 1)); e=exact
  elif [[ $line =~ \ 0\ missing,\ 0\ extra\;\ max\ \|delta\|\ 0\. ]]; then
    within=$((within + 1)); e=within-1ms
  else
    e=no
  fi
  if [[ $is_dual == True ]]; then
    dual=$((dual + 1)); [[ $e == exact ]] && dual_exact=$((dual_exact + 1))
  fi
  tag=""
  [[ $is_dual == True ]] && tag=" (two meta leaders)"
  echo "seed $s: $e$tag  ${line#*recorded: }"
done
echo "partition $len, seeds 1..$seeds: exact $exact, within 1 ms $within, two-leader runs exact $dual_exact of $dual"
