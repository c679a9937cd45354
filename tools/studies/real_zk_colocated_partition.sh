#!/usr/bin/env bash
# Real-ZooKeeper check of the co-located partition finding (docs/fuzz.md, findings, 1).
#
# Three ZooKeeper servers (Debian's `zookeeper` package) in network namespaces zk1..zk3 joined by a
# bridge; a client with a 6 s session in zk1, connected to zk1's server only (co-located, as a meta
# and its local follower). The script makes sure zk1 is a follower, then partitions zk1's host
# (its bridge port down: zk1 loses the others both ways, while its client keeps talking to it over
# the namespace's own stack) for each length given, and reports whether the leader expired the
# session, when, and when the client learned it.
#
# usage (root; needs `ip netns`, java, the zookeeper package):
#   tools/studies/real_zk_colocated_partition.sh [SECONDS...]     (default: 3.13 4.0)
# Leaves nothing behind: namespaces, bridge and processes are removed on exit.
set -euo pipefail
lengths=("$@")
[ ${#lengths[@]} -eq 0 ] && lengths=(3.13 4.0)
E=$(mktemp -d /tmp/zk-colocated.XXXXXX)
CP=/etc/zookeeper/conf:/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar
[ -f /usr/share/java/zookeeper.jar ] || { echo "needs the zookeeper package (apt-get install zookeeper)" >&2; exit 2; }

pids=()  # servers, clients and fifo holders: killed on exit, however the script ends
cleanup() {
  [ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null || true
  for i in 1 2 3; do
    ip netns del zkc$i 2>/dev/null || true
    ip link del zv$i-br 2>/dev/null || true
  done
  ip link del brzkc 2>/dev/null || true
}
trap cleanup EXIT
cleanup

ip link add brzkc type bridge
ip link set brzkc up
for i in 1 2 3; do
  ip netns add zkc$i
  ip link add zv$i type veth peer name zv$i-br
  ip link set zv$i netns zkc$i
  ip link set zv$i-br master brzkc
  ip link set zv$i-br up
  ip netns exec zkc$i ip addr add 10.78.0.$i/24 dev zv$i
  ip netns exec zkc$i ip link set zv$i up
  ip netns exec zkc$i ip link set lo up
  mkdir -p "$E/zk$i/data" "$E/zk$i/log"
  echo $i >"$E/zk$i/data/myid"
  cat >"$E/zk$i/zoo.cfg" <<EOF
tickTime=2000
initLimit=10
syncLimit=5
dataDir=$E/zk$i/data
clientPort=2181
clientPortAddress=10.78.0.$i
4lw.commands.whitelist=*
admin.enableServer=false
server.1=10.78.0.1:2888:3888
server.2=10.78.0.2:2888:3888
server.3=10.78.0.3:2888:3888
EOF
done

start_server() {  # $1 = myid; started last so that it is not the leader (highest zxid/id wins)
  ip netns exec zkc$1 java -Xmx256m -Dzookeeper.log.dir="$E/zk$1/log" \
    -Dzookeeper.root.logger=INFO,ROLLINGFILE -cp "$CP" \
    org.apache.zookeeper.server.quorum.QuorumPeerMain "$E/zk$1/zoo.cfg" >"$E/zk$1/out" 2>&1 &
  pids+=($!)
}
start_server 2
start_server 3
sleep 3
start_server 1
for _ in $(seq 60); do
  grep -q "FOLLOWING - LEADER ELECTION TOOK" "$E/zk1/log/zookeeper.log" 2>/dev/null && break
  sleep 0.5
done
grep -q "FOLLOWING - LEADER ELECTION TOOK" "$E/zk1/log/zookeeper.log" || { echo "zk1 did not follow" >&2; exit 1; }
leader=$(grep -l "LEADING - LEADER ELECTION TOOK" "$E"/zk[23]/log/zookeeper.log | sed 's#.*/zk\([0-9]\)/.*#\1#')
echo "ensemble up: zk$leader leads, zk1 follows"

n=0
for len in "${lengths[@]}"; do
  n=$((n + 1))
  fifo="$E/client$n.in"
  mkfifo "$fifo"
  sleep 100000 >"$fifo" &
  holder=$!
  pids+=($holder)
  ip netns exec zkc1 java -Xmx128m -Dzookeeper.root.logger=INFO,CONSOLE -cp "$CP" \
    org.apache.zookeeper.ZooKeeperMain -server 10.78.0.1:2181 -timeout 6000 \
    <"$fifo" >"$E/client$n.out" 2>&1 &
  client=$!
  pids+=($client)
  sleep 4
  echo "create -e /meta$n x" >"$fifo"
  sleep 6  # several ping rounds: the session is touched and steady
  session=$(grep -o "session id = 0x[0-9a-f]*" "$E/client$n.out" | head -1 | awk '{print $4}' || true)
  t0=$(date +%H:%M:%S.%3N)
  ip link set zv1-br down
  sleep "$len"
  ip link set zv1-br up
  t1=$(date +%H:%M:%S.%3N)
  sleep 14
  expired=$(grep -h "Expiring session $session" "$E"/zk*/log/zookeeper.log | awk '{print $2}' | head -1 || true)
  disc=$(grep -m1 "Closing socket connection" "$E/client$n.out" | awk '{print $2}' || true)
  exp=$(grep -m1 "has expired" "$E/client$n.out" | awk '{print $2}' || true)
  echo "partition of zk1's host ${len}s: $t0 -> $t1; session $session:" \
    "leader expired it at ${expired:-never}; client disconnected at ${disc:-never}," \
    "learned expiry at ${exp:-never}"
  kill "$client" "$holder" 2>/dev/null || true
  sleep 8  # let the ensemble settle
done
