#!/usr/bin/env bash
# The seed's zk.sh for quorumd: start, stop or ask the status of every server over ssh.
#
#   qm.sh start|stop|status|restart
#
# Hosts come from QM_HOSTS (default "node1 node2 node3", names from /etc/hosts, password-less
# ssh as in the seed); on each host quorumd is QM_QUORUMD (default quorumd on its PATH) and
# its config QM_CONFIG (default /etc/quorum/zoo.cfg, with myid in its dataDir).
set -u

hosts=${QM_HOSTS:-"node1 node2 node3"}
quorumd=${QM_QUORUMD:-quorumd}
config=${QM_CONFIG:-/etc/quorum/zoo.cfg}

case ${1:-} in
  start | stop | status | restart)
    rc=0
    for host in $hosts; do
      echo "--------- quorum $host $1 ---------"
      ssh "$host" "$quorumd $1 --config $config" || rc=1
    done
    exit $rc
    ;;
  *)
    echo "usage: $0 start|stop|status|restart" >&2
    exit 2
    ;;
esac
