#!/bin/sh
# zksim sweep / merge on bad input: exit 2 (or non-zero for merge) with a message that names the
# problem; plus a happy path through --shard and merge.
# usage: cli_test.sh ZKSIM SOURCE_DIR
set -u
ZKSIM=$1
SRC=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
SC="$SRC/tests/sweep/data/ifdown-small.json"
fail=0

expect() {  # expect CODE PATTERN -- command...
  code=$1
  pattern=$2
  shift 3
  "$@" >"$T/out" 2>"$T/err"
  rc=$?
  if [ "$rc" -ne "$code" ] || ! grep -q -- "$pattern" "$T/err"; then
    echo "FAIL: $* => exit $rc (want $code), stderr:"
    cat "$T/err"
    echo "(wanted a message matching: $pattern)"
    fail=1
  else
    echo "ok: exit $rc: $(head -n 3 "$T/err" | tr '\n' ' ')"
  fi
}

expect 2 "meta.localTimr: unknown key" -- "$ZKSIM" sweep "$SC" --grid meta.localTimr=1s,2s
expect 2 "bad range \"1s:2s\"" -- "$ZKSIM" sweep "$SC" --grid meta.localTimer=1s:2s
expect 2 "\"fast\" is neither an integer nor a duration" -- "$ZKSIM" sweep "$SC" --grid meta.localTimer=1s:2s:fast
expect 2 "step must be positive" -- "$ZKSIM" sweep "$SC" --grid zk.syncLimit=1:5:0
expect 2 "meta.sessionTimeout: must be positive" -- "$ZKSIM" sweep "$SC" --grid meta.sessionTimeout=0s,1s
expect 2 "expected K/N" -- "$ZKSIM" sweep "$SC" --grid zk.syncLimit=2,5 --shard 4/4
expect 2 "expected K/N" -- "$ZKSIM" sweep "$SC" --grid zk.syncLimit=2,5 --shard two
expect 2 "$T/nope.json: cannot open spec file" -- "$ZKSIM" sweep --spec "$T/nope.json"
printf '{"scenario": "x.json",\n "grid": [\n' >"$T/broken.json"
expect 2 "broken.json:3: invalid JSON" -- "$ZKSIM" sweep --spec "$T/broken.json"
expect 2 "cannot open scenario file" -- "$ZKSIM" sweep "$T/absent.json" --grid zk.syncLimit=2,5
expect 2 "at least one axis" -- "$ZKSIM" sweep "$SC"
expect 2 "SLURM_ARRAY_TASK_COUNT: not set" -- env SLURM_ARRAY_TASK_ID=1 "$ZKSIM" sweep "$SC" --grid zk.syncLimit=2,5
expect 2 "ZKSIM_SHARD_COUNT: not set" -- env JOB_COMPLETION_INDEX=1 "$ZKSIM" sweep "$SC" --grid zk.syncLimit=2,5

# --faults fuzz: bad values name their flag (or spec key).
expect 2 "--faults: expected \"scenario\" or \"fuzz\", got \"fuz\"" -- "$ZKSIM" sweep "$SC" --grid zk.syncLimit=2,5 --faults fuz
expect 2 "--max-faults: a fuzz generator setting needs --faults fuzz" -- "$ZKSIM" sweep "$SC" --grid zk.syncLimit=2,5 --max-faults 2
expect 2 "--max-faults: faults per schedule must be in 1..100, got 0" -- "$ZKSIM" sweep "$SC" --grid zk.syncLimit=2,5 --faults fuzz --max-faults 0
expect 2 "max-faults" -- "$ZKSIM" sweep "$SC" --grid zk.syncLimit=2,5 --faults fuzz --max-faults many
expect 2 "--kinds: unknown fault kind \"ifdonw\"" -- "$ZKSIM" sweep "$SC" --grid zk.syncLimit=2,5 --faults fuzz --kinds ifdown,ifdonw
expect 2 "--hosts: no host \"node9\"" -- "$ZKSIM" sweep "$SC" --grid zk.syncLimit=2,5 --faults fuzz --hosts node9
expect 2 "--window: expected FROM..TO" -- "$ZKSIM" sweep "$SC" --grid zk.syncLimit=2,5 --faults fuzz --window 12s
expect 2 "--heal-by: 31s is after the end of the run" -- "$ZKSIM" sweep "$SC" --grid zk.syncLimit=2,5 --faults fuzz --heal-by 31s
expect 2 "--max-duration: expected a duration" -- "$ZKSIM" sweep "$SC" --grid zk.syncLimit=2,5 --faults fuzz --max-duration long
expect 2 "changes what fault schedules name" -- "$ZKSIM" sweep "$SC" --grid zk.peers.2.host=node3,node1 --faults fuzz
printf '{"scenario": "%s", "grid": ["zk.syncLimit=2,5"], "faults": "fuzz", "fuzz": {"maxFaults": 0}}\n' "$SC" >"$T/fz.json"
expect 2 "fz.json: fuzz.maxFaults: faults per schedule must be in 1..100" -- "$ZKSIM" sweep --spec "$T/fz.json"
# ... and good ones give the same bytes for any --jobs.
F="--grid meta.localTimer=200ms,3600ms --grid meta.sessionTimeout=4s,6s --runs 6 --faults fuzz --max-faults 2"
# shellcheck disable=SC2086
"$ZKSIM" sweep "$SC" $F -q -j 1 -o "$T/fz1.csv" || fail=1
# shellcheck disable=SC2086
"$ZKSIM" sweep "$SC" $F -q -j 2 -o "$T/fz2.csv" || fail=1
cmp "$T/fz1.csv" "$T/fz2.csv" && [ "$(wc -l <"$T/fz1.csv")" -eq 5 ] && echo "ok: --faults fuzz, -j 1 = -j 2" || fail=1
"$ZKSIM" sweep --help | grep -q -- "--max-faults" && echo "ok: --help lists --max-faults" || fail=1

# Shards, picked from the environment (Slurm and Kubernetes style), merged = the whole sweep.
G="--grid zk.syncLimit=2,5,8 --grid meta.localTimer=200ms,3600ms --runs 2"
# shellcheck disable=SC2086
"$ZKSIM" sweep "$SC" $G -q -o "$T/whole.csv" || fail=1
# shellcheck disable=SC2086
env SLURM_ARRAY_TASK_ID=0 SLURM_ARRAY_TASK_COUNT=2 SLURM_ARRAY_TASK_MIN=0 "$ZKSIM" sweep "$SC" $G -q -o "$T/s{shard}.csv" || fail=1
# shellcheck disable=SC2086
env JOB_COMPLETION_INDEX=1 ZKSIM_SHARD_COUNT=2 "$ZKSIM" sweep "$SC" $G -q -o "$T/s{shard}.csv" || fail=1
"$ZKSIM" merge "$T/s1.csv" "$T/s0.csv" >"$T/merged.csv" || fail=1
cmp "$T/whole.csv" "$T/merged.csv" && echo "ok: env-picked shards merge to the single-machine bytes" || fail=1
"$ZKSIM" merge -o "$T/merged2.csv" "$T/s0.csv" "$T/s1.csv" && cmp "$T/whole.csv" "$T/merged2.csv" || fail=1

expect 1 "point 1 (zk.syncLimit=2;meta.localTimer=<value 2 of 2>)" -- "$ZKSIM" merge "$T/s0.csv"
expect 1 "appears twice" -- "$ZKSIM" merge "$T/s0.csv" "$T/s1.csv" "$T/s1.csv"
# shellcheck disable=SC2086
"$ZKSIM" sweep "$SC" --grid zk.syncLimit=2,5,8 --grid meta.localTimer=200ms,3600ms --runs 3 -q --shard 1/2 \
  -o "$T/other.csv" || fail=1
expect 2 "spec hash" -- "$ZKSIM" merge "$T/s0.csv" "$T/other.csv"
# Resuming into another sweep's file is refused, and the file is left alone.
cp "$T/other.csv" "$T/keep.csv"
# shellcheck disable=SC2086
expect 2 "refusing to resume" -- "$ZKSIM" sweep "$SC" $G -o "$T/other.csv"
cmp "$T/other.csv" "$T/keep.csv" || fail=1
# A file that is not a sweep output is refused and left byte for byte alone: one with newlines
# (a binary) and one without any (was truncated to nothing: "a torn last line").
head -c 20000 "$ZKSIM" >"$T/bin.csv"
cp "$T/bin.csv" "$T/bin.keep"
# shellcheck disable=SC2086
expect 2 "refusing to resume" -- "$ZKSIM" sweep "$SC" $G -q -o "$T/bin.csv"
cmp "$T/bin.csv" "$T/bin.keep" && echo "ok: binary --out left alone" || fail=1
head -c 300000 /dev/zero | tr '\0' 'a' >"$T/nonl.csv"
cp "$T/nonl.csv" "$T/nonl.keep"
# shellcheck disable=SC2086
expect 2 "not a torn sweep row" -- "$ZKSIM" sweep "$SC" $G -q -o "$T/nonl.csv"
cmp "$T/nonl.csv" "$T/nonl.keep" && echo "ok: newline-less --out left alone" || fail=1
# A good output plus a refused one: neither is modified (the good one's torn line stays).
cp "$T/s0.csv" "$T/torn.csv" && printf '2,6,' >>"$T/torn.csv" && cp "$T/torn.csv" "$T/torn.keep"
# shellcheck disable=SC2086
expect 2 "refusing to resume" -- "$ZKSIM" sweep "$SC" $G -q --shard 0/2 -o "$T/torn.csv" -o "$T/bin.csv"
cmp "$T/torn.csv" "$T/torn.keep" && echo "ok: nothing modified when one --out is refused" || fail=1
# ... and alone, the torn row is dropped and the sweep completes it.
# shellcheck disable=SC2086
"$ZKSIM" sweep "$SC" $G -q --shard 0/2 -o "$T/torn.csv" 2>/dev/null && cmp "$T/torn.csv" "$T/s0.csv" \
  && echo "ok: torn row resumed" || fail=1

# Rows with damaged content: merge and resume refuse them naming file and line.
sed '2s/^\(\([^,]*,\)\{7\}\)[0-9]*,/\1X,/' "$T/s0.csv" >"$T/bad-runs.csv"
expect 2 "bad-runs.csv:2: runs: expected a count, got \"X\"" -- "$ZKSIM" merge "$T/bad-runs.csv" "$T/s1.csv"
# shellcheck disable=SC2086
expect 2 "bad-runs.csv:2: runs: expected a count" -- "$ZKSIM" sweep "$SC" $G -q --shard 0/2 -o "$T/bad-runs.csv"
sed '2s/^\(\([^,]*,\)\{9\}\)[0-9.]*,/\1nan,/' "$T/s0.csv" >"$T/bad-nan.csv"
expect 2 "bad-nan.csv:2: p_dual: expected a finite non-negative number, got \"nan\"" -- "$ZKSIM" merge "$T/bad-nan.csv" "$T/s1.csv"
sed '2s/meta.localTimer=200ms,2,200ms,/meta.localTimer=99s,2,banana,/' "$T/s0.csv" >"$T/bad-key.csv"
expect 2 "bad-key.csv:2: key \"zk.syncLimit=2;meta.localTimer=99s\" does not match" -- "$ZKSIM" merge "$T/bad-key.csv" "$T/s1.csv"
sed '2s/meta.localTimer=200ms,2,200ms,/meta.localTimer=99s,2,99s,/' "$T/s0.csv" >"$T/bad-val.csv"
expect 2 "at the same grid coordinate" -- "$ZKSIM" merge "$T/bad-val.csv" "$T/s1.csv"
# shellcheck disable=SC2086
expect 2 "bad-val.csv:2: point 0 is zk.syncLimit=2;meta.localTimer=200ms in this sweep" -- "$ZKSIM" sweep "$SC" $G -q --shard 0/2 -o "$T/bad-val.csv"

# Spec axes with a value twice (as --grid refuses them), and --jobs out of range.
printf '{"scenario": "%s", "grid": [{"field": "zk.syncLimit", "values": ["2", "2"]}]}\n' "$SC" >"$T/dup.json"
expect 2 "dup.json: grid\[0\] zk.syncLimit: value \"2\" appears twice" -- "$ZKSIM" sweep --spec "$T/dup.json"
printf '{"scenario": "%s", "grid": [{"field": "zk.syncLimit", "values": ["2"], "range": "1:3:1"}]}\n' "$SC" >"$T/dup2.json"
expect 2 "in \"values\" and in \"range\"" -- "$ZKSIM" sweep --spec "$T/dup2.json"
for j in 0 -1 100000; do
  expect 2 "jobs" -- "$ZKSIM" sweep "$SC" --grid zk.syncLimit=2,5 --jobs "$j"
done
# A seed CLI11 would wrap (-1 -> 2^64-1) or clamp.
for s in -1 18446744073709551616; do
  expect 2 "seed is a whole number" -- "$ZKSIM" sweep "$SC" --grid zk.syncLimit=2,5 --seed "$s"
done

# Without --out, CSV streams to stdout.
# shellcheck disable=SC2086
"$ZKSIM" sweep "$SC" $G -q >"$T/stdout.csv" && cmp "$T/whole.csv" "$T/stdout.csv" && echo "ok: stdout" || fail=1
[ $fail -eq 0 ] && echo "OK" || echo "FAILED"
exit $fail
