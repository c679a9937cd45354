#!/bin/sh
# zksim sweep survives kill -9: a sweep is killed (SIGKILL, twice, at arbitrary moments while
# rows are being written), the same command is rerun each time, and the final CSV and JSONL are
# byte-identical to an uninterrupted run's (which also uses another --jobs).
# usage: kill_resume_test.sh ZKSIM SOURCE_DIR [SWEEP FLAGS...]  (e.g. --faults fuzz)
set -eu
ZKSIM=$1
SRC=$2
shift 2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
SPEC="$SRC/tests/sweep/data/ifdown-small.json"
GRID="--grid meta.localTimer=200ms:3600ms:200ms --grid meta.sessionTimeout=4s,6s --runs 12 --seed 3 $*"

# shellcheck disable=SC2086
"$ZKSIM" sweep "$SPEC" $GRID -j 2 -q -o "$T/ref.csv" -o "$T/ref.jsonl"
total=$(($(wc -l <"$T/ref.csv") - 1))
echo "reference: $total points"
[ "$total" -eq 36 ] || { echo "FAIL: expected 36 points, got $total"; exit 1; }

lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }
kills=0
for round in 1 2; do
  # shellcheck disable=SC2086
  "$ZKSIM" sweep "$SPEC" $GRID -j 1 -q -o "$T/out.csv" -o "$T/out.jsonl" &
  pid=$!
  want=$((round * 6 + 1))  # header + some rows beyond what the previous round left
  i=0
  while [ "$(lines "$T/out.csv")" -lt "$want" ]; do
    i=$((i + 1))
    [ $i -lt 3000 ] || { kill -9 $pid; echo "FAIL: no progress"; exit 1; }
    if ! kill -0 $pid 2>/dev/null; then echo "FAIL: the sweep finished before it could be killed"; exit 1; fi
    sleep 0.01
  done
  kill -9 $pid
  rc=0
  wait $pid || rc=$?
  [ $rc -eq 137 ] || { echo "FAIL: expected the sweep to die of SIGKILL (137), got $rc"; exit 1; }
  kills=$((kills + 1))
  rows=$(($(wc -l <"$T/out.csv") - 1))
  torn=""
  [ "$(tail -c 1 "$T/out.jsonl" | od -An -c | tr -d ' ')" = '\n' ] || torn=" (JSONL ends with a torn line)"
  echo "round $round: killed with $rows of $total rows written ($(wc -c <"$T/out.csv") bytes)$torn"
  [ "$rows" -lt "$total" ] || { echo "FAIL: killed too late"; exit 1; }
done

# shellcheck disable=SC2086
"$ZKSIM" sweep "$SPEC" $GRID -j 2 -o "$T/out.csv" -o "$T/out.jsonl" 2>"$T/resume.err"
cat "$T/resume.err"
grep -q "resuming: .* points already done" "$T/resume.err" || { echo "FAIL: the rerun did not resume"; exit 1; }
cmp "$T/ref.csv" "$T/out.csv" || { echo "FAIL: CSV differs from the uninterrupted run"; exit 1; }
cmp "$T/ref.jsonl" "$T/out.jsonl" || { echo "FAIL: JSONL differs from the uninterrupted run"; exit 1; }

# A rerun of a finished sweep computes nothing and changes nothing.
# shellcheck disable=SC2086
"$ZKSIM" sweep "$SPEC" $GRID -j 2 -o "$T/out.csv" -o "$T/out.jsonl" 2>"$T/again.err"
grep -q "0 points (36 already done)" "$T/again.err" || { cat "$T/again.err"; echo "FAIL: rerun recomputed"; exit 1; }
cmp "$T/ref.csv" "$T/out.csv"
echo "OK: $kills kill -9s, resumed, byte-identical to the uninterrupted run"
