#!/usr/bin/env bash
# Instructions per fuzz run, counted by valgrind (callgrind): a figure that a busy or throttled
# machine does not move, for judging a hot-path change when wall-clock A/B runs are within noise.
# It counts work, not time: cache misses and libm latency are not in it, so report runs/s too.
#
#   bench/fuzz/instructions.sh BUILD/tools/cli/zksim [RUNS] [SCENARIO]
#
# Two binaries side by side: run it once per binary (same RUNS and SCENARIO) and compare.
set -euo pipefail
if [ $# -lt 1 ]; then
  echo "usage: instructions.sh ZKSIM [RUNS] [SCENARIO]" >&2
  exit 2
fi
zksim=$1
runs=${2:-200}
here=$(cd "$(dirname "$0")/../.." && pwd)
scenario=${3:-$here/scenarios/fuzz/perf-5x5-gc-120s.json}
if ! command -v valgrind >/dev/null; then
  echo "instructions.sh: valgrind is not installed (apt-get install valgrind)" >&2
  exit 2
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# zksim fuzz exits 1 when a run fails a property (the benchmark scenario has failing runs): the
# count is read from valgrind's own summary line, which is there whenever the program ran.
valgrind --tool=callgrind --callgrind-out-file=/dev/null "$zksim" fuzz --scenario "$scenario" \
  --runs "$runs" --jobs 1 --bench >/dev/null 2>"$log" || true
total=$(sed -n 's/^==[0-9]*== Collected : \([0-9]*\)$/\1/p' "$log")
if [ -z "$total" ]; then
  cat "$log" >&2
  exit 1
fi
awk -v t="$total" -v n="$runs" -v s="$scenario" \
  'BEGIN { printf "%s: %.3f M instructions per run (%d runs, whole process)\n", s, t / n / 1e6, n }'
