#!/usr/bin/env bash
# How often replay rebuilds a scenario's run from its logs alone, over seeds (docs/replay.md,
# "Measured"): for each seed, `zksim run SCENARIO --seed N --logs`, then `zksim replay` of that
# folder with the scenario's configuration (its faults ignored: inferred); counts the runs whose
# key events all match exactly (0.000 ms), all within 1 ms with none missing or extra, and, among
# the runs with two meta leaders, the exact ones.
#
#   tools/studies/replay_seeds_study.sh SCENARIO [SEEDS=16] [ZKSIM=build/tools/cli/zksim]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
scen=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
seeds=${2:-16}
zksim=${3:-$here/build/tools/cli/zksim}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
exact=0 within=0 dual=0 dual_exact=0
for s in $(seq 1 "$seeds"); do
  d=$tmp/$s
  "$zksim" run "$scen" --seed "$s" --logs "$d/logs" --json > "$d.run.json" 2>/dev/null || true
  "$zksim" replay "$d/logs" --config "$scen" > "$d.replay.txt" 2>&1 || true
  line=$(grep -m1 'baseline simulation vs recorded' "$d.replay.txt" ||
         echo "replay failed: $(tail -1 "$d.replay.txt")")
  is_dual=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['metrics']['meta']['dual_leader']['count'] > 0)" "$d.run.json")
  if [[ $line == *"0 missing, 0 extra; max |delta| 0.000 ms (0.000"* ]]; then
    exact=$((exact + 1)); within=$((within + 1)); e=exact
  elif [[ $line =~ \ 0\ missing,\ 0\ extra\;\ max\ \|delta\|\ 0\. ]]; then
    within=$((within + 1)); e=within-1ms
  else
    e=no
  fi
  tag=""
  if [[ $is_dual == True ]]; then
    dual=$((dual + 1)); [[ $e == exact ]] && dual_exact=$((dual_exact + 1))
    tag=" (two meta leaders)"
  fi
  echo "seed $s: $e$tag  ${line#*recorded: }"
done
echo "${ZKSIM_STUDY_NAME:-$(basename "$scen" .json)}, seeds 1..$seeds: exact $exact, within 1 ms $within, two-leader runs exact $dual_exact of $dual"
