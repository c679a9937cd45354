#!/bin/sh
# Runs the seed incident's summary pipeline for real on every shared GC log that has `GC pause`
# lines and compares its output, line by line, with `zksim gcfit`'s "seed pipeline" section.
# (ripgrep is not installed here; `grep 'GC pause'` selects the same lines for a single file.)
# When Python fails (a `GC pause` line whose second-to-last field is not a number, as in the JDK 6
# log), gcfit must report the same exception text instead of numbers.
# usage: seed_pipeline_check.sh ZKSIM_GCFIT_BINARY GC_LOG_DIR
set -u
cli=$1
dir=$2
[ -d "$dir" ] || { echo "$dir: shared data absent"; exit 77; }
export LC_ALL=C
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
checked=0
failed=0
for f in "$dir"/*/*; do
  grep -q 'GC pause' "$f" || continue
  grep 'GC pause' "$f" | awk '{print $(NF-1)}' | sort -n | /usr/bin/python3 -c 'import sys; a = [float(x) for x in sys.stdin]; print("sum:", sum(a)); print("avg:", sum(a)/len(a)); print("min:", min(a)); print("max:", max(a)); print("count:",len(a));' >"$tmp/want" 2>"$tmp/err"
  status=$?
  "$cli" gcfit "$f" >"$tmp/out" 2>/dev/null || { echo "FAIL: gcfit failed on $f"; failed=1; continue; }
  sed -n '/^seed pipeline/,/^$/p' "$tmp/out" | sed '1d;/^$/d' >"$tmp/got"
  if [ $status -ne 0 ]; then
    want="python would fail: $(tail -1 "$tmp/err")"
    got=$(cat "$tmp/got")
    if [ "$want" != "$got" ]; then
      echo "FAIL: $f: want '$want', got '$got'"
      failed=1
    else
      printf "ok: %s: both fail with: %s\n" "$f" "$(tail -1 "$tmp/err")"
    fi
  elif ! diff -u "$tmp/want" "$tmp/got"; then
    echo "FAIL: $f"
    failed=1
  else
    echo "ok: $f: $(tr '\n' ' ' <"$tmp/got")"
  fi
  checked=$((checked + 1))
done
[ $checked -ge 3 ] || { echo "FAIL: only $checked logs with GC pause lines"; exit 1; }
exit $failed
