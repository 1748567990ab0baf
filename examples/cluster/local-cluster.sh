#!/usr/bin/env bash
# An N-member quorum ensemble on this machine (127.0.0.1), for trying the seed's steps on one
# computer: each member gets its own data directory, myid and zoo.cfg, and its own ports.
#
#   local-cluster.sh start [N]   write the configs (first time) and start N members (default 3)
#   local-cluster.sh status [N]  each member's Mode (leader / follower)
#   local-cluster.sh stop [N]    stop them
#
# Member i listens for clients on CLIENT_BASE+i, for followers on QUORUM_BASE+i and for
# elections on ELECTION_BASE+i (defaults 12180, 12880, 13880: clear of a local ZooKeeper).
# Everything lives under QUORUM_CLUSTER_DIR (default /tmp/quorum-local-cluster).
# QUORUMD names the binary (default: the build tree's, else quorumd on the PATH).
set -euo pipefail

command=${1:-}
n=${2:-3}
root=${QUORUM_CLUSTER_DIR:-/tmp/quorum-local-cluster}
client_base=${CLIENT_BASE:-12180}
quorum_base=${QUORUM_BASE:-12880}
election_base=${ELECTION_BASE:-13880}
here=$(cd "$(dirname "$0")" && pwd)
quorumd=${QUORUMD:-$here/../../build/quorumd}
[ -x "$quorumd" ] || quorumd=$(command -v quorumd || true)
if [ -z "$quorumd" ]; then
  echo "local-cluster.sh: no quorumd binary (build it with ./dev test, or set QUORUMD)" >&2
  exit 1
fi
case $n in '' | *[!0-9]* | 0) echo "local-cluster.sh: N must be a positive number" >&2; exit 2 ;; esac

write_configs() {
  local i j
  for i in $(seq 1 "$n"); do
    mkdir -p "$root/member-$i/data"
    echo "$i" >"$root/member-$i/data/myid"
    {
      echo "tickTime=2000"
      echo "initLimit=10"
      echo "syncLimit=5"
      echo "dataDir=$root/member-$i/data"
      echo "clientPort=$((client_base + i))"
      echo "clientPortAddress=127.0.0.1"
      echo "4lw.commands.whitelist=srvr,ruok,isro"
      for j in $(seq 1 "$n"); do
        echo "server.$j=127.0.0.1:$((quorum_base + j)):$((election_base + j))"
      done
    } >"$root/member-$i/zoo.cfg"
  done
}

case $command in
  start)
    write_configs
    for i in $(seq 1 "$n"); do
      echo "--------- member $i start ---------"
      "$quorumd" start --config "$root/member-$i/zoo.cfg"
    done
    ;;
  stop | status)
    rc=0
    for i in $(seq 1 "$n"); do
      echo "--------- member $i $command ---------"
      "$quorumd" "$command" --config "$root/member-$i/zoo.cfg" || rc=1
    done
    exit $rc
    ;;
  *)
    echo "usage: $0 start|status|stop [N]" >&2
    exit 2
    ;;
esac
