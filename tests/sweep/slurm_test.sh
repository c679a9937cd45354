#!/bin/bash
# A real Slurm on this machine: munge + slurmctld + slurmd (one node, localhost), all under a
# temporary directory with their own socket, ports and pid files; submits examples/slurm/sweep.sbatch
# as a 4-task array, merges the shards with `zksim merge` and compares the result byte for byte
# with a single-machine sweep.
#
# Opt-in: runs when ZKSIM_SLURM_TEST=1 or CI=true, else exits 77 (ctest: skipped). Needs root (to
# install slurm-wlm and munge with apt-get when missing, and to run the daemons). The daemons it
# started are stopped by pid at exit; the whole test is bounded by a deadline.
# usage: slurm_test.sh ZKSIM SOURCE_DIR
set -euo pipefail
ZKSIM=$(readlink -f "$1")
SRC=$(readlink -f "$2")
if [ "${ZKSIM_SLURM_TEST:-}" != 1 ] && [ "${CI:-}" != true ]; then
  echo "skipped: set ZKSIM_SLURM_TEST=1 (or CI=true) to run a real one-node Slurm"
  exit 77
fi
if [ "$(id -u)" != 0 ]; then
  echo "skipped: needs root (apt-get, munged, slurmd)"
  exit 77
fi
DEADLINE=$(($(date +%s) + ${ZKSIM_SLURM_TIMEOUT:-420}))
left() { echo $((DEADLINE - $(date +%s))); }

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null || ! command -v sbatch >/dev/null; then
  echo "installing slurm-wlm and munge"
  export DEBIAN_FRONTEND=noninteractive
  timeout "$(left)" apt-get install -y -q --no-install-recommends slurm-wlm munge >/tmp/zksim-slurm-apt.log 2>&1 ||
    { timeout "$(left)" apt-get update -q >>/tmp/zksim-slurm-apt.log 2>&1 &&
      timeout "$(left)" apt-get install -y -q --no-install-recommends slurm-wlm munge >>/tmp/zksim-slurm-apt.log 2>&1; } ||
    { tail -20 /tmp/zksim-slurm-apt.log; echo "FAIL: cannot install slurm-wlm munge"; exit 1; }
fi
PATH=$PATH:/usr/sbin:/sbin

T=$(mktemp -d /tmp/zksim-slurm-XXXXXX)
chmod 755 "$T"
stop_daemons() {
  for d in slurmd slurmctld munged; do
    if [ -s "$T/$d.pid" ]; then
      pid=$(cat "$T/$d.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
}
cleanup() {
  rc=$?
  stop_daemons
  if [ $rc -ne 0 ]; then
    for f in "$T"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 25 "$f"; }; done
  fi
  rm -rf "$T"
  exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# munge with a private key, socket and pid file (never touches a munged already running).
mkdir -p "$T/munge"
dd if=/dev/urandom of="$T/munge/munge.key" bs=1024 count=1 status=none
chmod 700 "$T/munge"
chmod 400 "$T/munge/munge.key"
munged --force --key-file="$T/munge/munge.key" --socket="$T/munge/munge.socket" \
  --pid-file="$T/munged.pid" --log-file="$T/munged.log" --seed-file="$T/munge/munge.seed"
for _ in $(seq 50); do [ -S "$T/munge/munge.socket" ] && break; sleep 0.1; done
chmod 755 "$T/munge"
[ -S "$T/munge/munge.socket" ] || { echo "FAIL: munged did not start"; exit 1; }

HOST=$(hostname -s)
PORT=$((16000 + RANDOM % 2000))
mkdir -p "$T/state" "$T/spool" "$T/out"
cat >"$T/slurm.conf" <<CONF
ClusterName=zksimtest
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$T/munge/munge.socket
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=zksim Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$T/slurm.conf
slurmctld -c -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
ok=0
for _ in $(seq 300); do
  if sinfo -h -o %t 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then ok=1; break; fi
  sleep 0.2
done
[ $ok = 1 ] || { sinfo || true; echo "FAIL: the Slurm node did not come up"; exit 1; }
echo "slurm up: $(sinfo -h -o '%P %t %c cpus')"

SPEC=$SRC/tests/sweep/data/spec.json
"$ZKSIM" sweep --spec "$SPEC" -j 2 -q -o "$T/single.csv"

# The real example job script, 4 array tasks, one CPU each.
cd "$T"
timeout "$(left)" sbatch --wait --array=0-3 --cpus-per-task=1 --output="$T/task-%a.log" \
  --export="ALL,ZKSIM=$ZKSIM,SWEEP_SPEC=$SPEC,SWEEP_OUT_DIR=$T/out" \
  "$SRC/examples/slurm/sweep.sbatch"
for k in 0 1 2 3; do
  [ -s "$T/out/shard-$k.csv" ] || { cat "$T/task-$k.log" || true; echo "FAIL: shard $k missing"; exit 1; }
  grep -q "shard $k/4 from the environment (Slurm array task $k of 4)" "$T/task-$k.log" ||
    { cat "$T/task-$k.log"; echo "FAIL: task $k did not pick its shard from Slurm"; exit 1; }
done
"$ZKSIM" merge "$T"/out/shard-*.csv >"$T/all.csv"
"$ZKSIM" merge "$T"/out/shard-*.jsonl >"$T/all.jsonl"
cmp "$T/single.csv" "$T/all.csv" || { echo "FAIL: the merged Slurm sweep differs from the single-machine one"; exit 1; }
echo "OK: 4-task Slurm array, merged: $(($(wc -l <"$T/all.csv") - 1)) points, byte-identical to the single-machine sweep"
