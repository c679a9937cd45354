#!/bin/sh
# jobs_determinism.sh ZKSIM BASE.json OUTDIR
set -u
zksim=$1
base=$2
out=$3
rm -rf "$out"
mkdir -p "$out"
for j in 1 2; do
  "$zksim" fuzz --scenario "$base" --property p1 --runs 120 --seed 7 --jobs $j --shrink 2 \
    --shrink-runs 60 --out "$out/j$j" > "$out/j$j.txt" 2>&1
  rc=$?
  [ "$rc" -eq 1 ] || { cat "$out/j$j.txt"; echo "FAIL: --jobs $j exit $rc, expected 1"; exit 1; }
done
# Wall-clock figures differ; everything else must not (paths differ by the out dir).
norm() { grep -v -e 'runs/s' -e 'shrinking took' -e 'on [0-9]* job' "$1" | sed "s#$out/j[12]#OUT#g"; }
norm "$out/j1.txt" > "$out/j1.norm"
norm "$out/j2.txt" > "$out/j2.norm"
diff "$out/j1.norm" "$out/j2.norm" || { echo "FAIL: --jobs 1 and --jobs 2 differ"; exit 1; }
diff -r "$out/j1" "$out/j2" || { echo "FAIL: written scenarios differ"; exit 1; }
n=0
for f in "$out"/j1/*.json; do
  "$zksim" run "$f" > "$out/replay.txt" 2>&1
  rc=$?
  [ "$rc" -eq 1 ] || { cat "$out/replay.txt"; echo "FAIL: replay of $f exit $rc, expected 1"; exit 1; }
  grep -q "dual meta leaders" "$out/replay.txt" || { echo "FAIL: $f does not replay the dual leader"; exit 1; }
  n=$((n + 1))
done
[ "$n" -ge 1 ] || { echo "FAIL: no failure written"; exit 1; }
cat "$out/j1.txt"
echo "OK: identical with --jobs 1 and 2; $n failure(s) replayed"
