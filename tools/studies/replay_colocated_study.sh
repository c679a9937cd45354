#!/usr/bin/env bash
# How often replay rebuilds a short host isolation from the logs alone (docs/replay.md, "Not
# inferable"): colocated-partition-meta-leader with the partition lasting LENGTH, run over seeds
# 1..SEEDS by replay_seeds_study.sh (exact, within 1 ms, two-leader runs exact).
#
#   tools/studies/replay_colocated_study.sh [LENGTH=5s] [SEEDS=40] [ZKSIM=build/tools/cli/zksim]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
len=${1:-5s}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 - "$here/scenarios/fuzz/colocated-partition-meta-leader.json" "$len" "$tmp/s.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["faults"][0]["for"] = sys.argv[2]
json.dump(s, open(sys.argv[3], "w"))
PY
# (the scenario names no file: it runs from anywhere)
ZKSIM_STUDY_NAME="partition $len" "$here/tools/studies/replay_seeds_study.sh" "$tmp/s.json" \
  "${2:-40}" "${3:-$here/build/tools/cli/zksim}"
