#!/usr/bin/env bash
# Stops the cluster started by scripts/ceph-rgw-start.sh, by the PIDs it saved (never by process name),
# in the order rgw, osd, mon (an OSD whose monitor is gone waits before exiting), then removes the
# folder. BERTH_CEPH_DIR as for the start script; KEEP_DATA=1 keeps the folder (logs, configuration).
set -uo pipefail
DIR=${BERTH_CEPH_DIR:-/tmp/berth-ceph-rgw}
if [ ! -f "$DIR/pids" ]; then
  echo "ceph-rgw-stop: no $DIR/pids, nothing to stop"
  [ "${KEEP_DATA:-0}" = 1 ] || case "$DIR" in /tmp/*|/var/tmp/*|/dev/shm/*|/run/*) rm -rf "$DIR";; esac
  exit 0
fi

stop_pid() { # NAME PID
  local name=$1 pid=$2 i
  if ! kill -0 "$pid" 2>/dev/null; then echo "$name ($pid) not running"; return; fi
  # Only signal it while it still is the Ceph daemon that was started.
  case "$(cat "/proc/$pid/comm" 2>/dev/null)" in ceph-*|radosgw|*rgw*) ;; *)
    echo "$name: pid $pid is no longer a Ceph daemon, leaving it"; return;; esac
  kill -TERM "$pid" 2>/dev/null
  for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || { echo "$name ($pid) stopped"; return; }; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null; echo "$name ($pid) killed"
}
while read -r name pid; do [ -n "$pid" ] && stop_pid "$name" "$pid"; done < "$DIR/pids"
rm -f "$DIR/pids"
if [ "${KEEP_DATA:-0}" != 1 ]; then
  case "$DIR" in /tmp/*|/var/tmp/*|/dev/shm/*|/run/*) rm -rf "$DIR";; esac
fi
