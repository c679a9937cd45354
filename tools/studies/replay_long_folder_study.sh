#!/usr/bin/env bash
# How long replay takes on a long log folder (docs/replay.md, "cost"): the 2022 ifdown scenario
# run for HOURS with a fault every 10 minutes, in turn an isolation of the meta leader's host, a
# 7 s pause of the ZooKeeper leader and a kill of the meta leader (restart after 20 s); then
# `zksim replay` of the folder without a configuration, timed. Give ZKSIM another build's binary
# to compare versions.
#
#   tools/studies/replay_long_folder_study.sh [HOURS=6] [ZKSIM=build/tools/cli/zksim]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
hours=${1:-6}
zksim=${2:-$here/build/tools/cli/zksim}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 - "$here/scenarios/ifdown-2022-08-04.json" "$hours" "$tmp/s.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
hours = int(sys.argv[2])
s["duration"] = f"{hours * 3600}s"
isolation = s["faults"][0]
faults = []
for i in range(hours * 6):
    at = f"{300 + i * 600}s"
    if i % 3 == 0:
        f = dict(isolation, at=at)
    elif i % 3 == 1:
        f = {"at": at, "kind": "pause", "target": "zk:leader", "for": "7s"}
    else:
        f = {"at": at, "kind": "crash", "target": "meta:leader", "restartAfter": "20s"}
    faults.append(f)
s["faults"] = faults
json.dump(s, open(sys.argv[3], "w"))
PY
# (the run exits 1 when the scenario's checks see a violation: the folder is written either way)
"$zksim" run "$tmp/s.json" --logs "$tmp/logs" > /dev/null || true
start=$(date +%s.%N)
"$zksim" replay "$tmp/logs" --out "$tmp/out" > /dev/null
end=$(date +%s.%N)
grep -E "fitted in|baseline simulation" "$tmp/out/report.txt"
/usr/bin/python3 -c "import sys; print(f'{int(sys.argv[1])} h, {int(sys.argv[1]) * 6} faults: replay took {float(sys.argv[3]) - float(sys.argv[2]):.1f} s')" "$hours" "$start" "$end"
