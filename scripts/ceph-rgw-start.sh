#!/usr/bin/env bash
# Starts a throwaway Ceph cluster for tests and benchmarks: one monitor and one memstore OSD on
# 127.0.0.1 with a RADOS Gateway answering S3 (path-style, region us-east-1). Ceph 16 (Debian 12
# packages radosgw, ceph-mon, ceph-osd, ceph-common), installed with apt-get when missing. Runs as root
# without systemd; every file lives under $BERTH_CEPH_DIR; starts in about 4 s.
#
#   scripts/ceph-rgw-start.sh            # prints the variables below, also written to $BERTH_CEPH_DIR/env
#   . "$BERTH_CEPH_DIR/env"              # BERTH_TEST_S3_ENDPOINT, ..._ACCESS_KEY, ..._SECRET_KEY, ..._REGION
#   scripts/ceph-rgw-stop.sh             # stops the daemons by their saved PIDs, removes $BERTH_CEPH_DIR
#
# Environment (all optional):
#   BERTH_CEPH_DIR        state folder (default /tmp/berth-ceph-rgw; wiped on start)
#   BERTH_CEPH_RGW_PORT   S3 port            (default: a free port)
#   BERTH_CEPH_MON_PORT   monitor v2 port    (default: a free port; v1 uses another free port)
#   BERTH_CEPH_ACCESS_KEY / BERTH_CEPH_SECRET_KEY   the S3 user's keys (fixed test defaults)
#   BERTH_CEPH_OSD_STORE  memstore (default: data in RAM) or bluestore (sparse file in the folder)
#   BERTH_CEPH_OSD_SIZE_GB  capacity the OSD reports (default 8)
#   BERTH_CEPH_TIMEOUT    seconds to wait for each step (default 120)
# Pitfalls this script handles (found by running it): radosgw with auth none hangs 300 s unless
# 'ms mon client mode = crc secure'; every pool change takes 1 s unless 'paxos propose interval' is short;
# the monitor stops itself on a disk with < 5 % free unless 'mon data avail crit = 0'.
set -euo pipefail

DIR=${BERTH_CEPH_DIR:-/tmp/berth-ceph-rgw}
AK=${BERTH_CEPH_ACCESS_KEY:-BERTHTESTACCESSKEY01}
SK=${BERTH_CEPH_SECRET_KEY:-berthtestsecretkey000000000000000000000001}
STORE=${BERTH_CEPH_OSD_STORE:-memstore}
SIZE_GB=${BERTH_CEPH_OSD_SIZE_GB:-8}
TMO=${BERTH_CEPH_TIMEOUT:-120}
here="$(cd "$(dirname "$0")" && pwd)"

T0=$(( $(date +%s%N) / 1000000 ))
log() { local ms=$(( $(date +%s%N) / 1000000 - T0 )); printf '[ceph-rgw-start %d.%01ds] %s\n' $((ms/1000)) $((ms%1000/100)) "$*" >&2; }
die() {
  log "ERROR: $*"
  for f in "$DIR"/log/*.log; do [ -f "$f" ] && { echo "--- tail $f" >&2; tail -n 15 "$f" >&2; }; done
  "$here/ceph-rgw-stop.sh" >/dev/null 2>&1 || true
  exit 1
}
case "$DIR" in /tmp/*|/var/tmp/*|/dev/shm/*|/run/*) ;; *) echo "ceph-rgw-start: refusing to use BERTH_CEPH_DIR=$DIR (must be under /tmp, /var/tmp, /dev/shm or /run)" >&2; exit 2;; esac

# ---- packages ----------------------------------------------------------------
need=()
for b in ceph-mon:ceph-mon ceph-osd:ceph-osd radosgw:radosgw ceph:ceph-common radosgw-admin:radosgw monmaptool:ceph-base curl:curl; do
  command -v "${b%%:*}" >/dev/null 2>&1 || need+=("${b##*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "ceph-rgw-start: missing ${need[*]}; install them as root: apt-get install --no-install-recommends radosgw ceph-mon ceph-osd ceph-common curl" >&2
    exit 2
  fi
  log "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# ---- already running? ---------------------------------------------------------
if [ -f "$DIR/pids" ] && [ -f "$DIR/env" ]; then
  alive=1
  while read -r _ pid; do kill -0 "$pid" 2>/dev/null || alive=0; done < "$DIR/pids"
  endpoint=$(sed -n 's/^BERTH_TEST_S3_ENDPOINT=//p' "$DIR/env")
  if [ $alive = 1 ] && curl -s -o /dev/null --max-time 2 "$endpoint/"; then
    log "already running (pids in $DIR/pids)"; cat "$DIR/env"; exit 0
  fi
  log "stale state in $DIR: stopping leftovers"
  "$here/ceph-rgw-stop.sh" >/dev/null 2>&1 || true
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT=${BERTH_CEPH_RGW_PORT:-$(free_port)}
MON_V2=${BERTH_CEPH_MON_PORT:-$(free_port)}
MON_V1=$(free_port)
while [ "$MON_V1" = "$MON_V2" ] || [ "$MON_V1" = "$PORT" ]; do MON_V1=$(free_port); done
for p in "$PORT" "$MON_V2" "$MON_V1"; do
  if ss -Hltn "sport = :$p" | grep -q .; then echo "ceph-rgw-start: port $p is already in use" >&2; exit 1; fi
done

# ---- configuration -------------------------------------------------------------
rm -rf "$DIR"; mkdir -p "$DIR"/{mon,osd/osd.0,rgw,run,log}
FSID=$(cat /proc/sys/kernel/random/uuid)
BYTES=$(( SIZE_GB * 1024 * 1024 * 1024 ))
cat > "$DIR/ceph.conf" <<CONF
[global]
fsid = $FSID
mon host = [v2:127.0.0.1:$MON_V2,v1:127.0.0.1:$MON_V1]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
auth supported = none
ms mon client mode = crc secure
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
mon warn on insecure global id reclaim = false
mon warn on insecure global id reclaim allowed = false
mon data avail warn = 1
mon data avail crit = 0
paxos propose interval = 0.05
paxos min wait = 0.01
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
log file = $DIR/log/\$name.log
pid file = $DIR/run/\$name.pid
[mon]
mon data = $DIR/mon/\$name
[osd]
osd data = $DIR/osd/\$name
osd objectstore = $STORE
memstore device bytes = $BYTES
bluestore block size = $BYTES
bluestore block create = true
bluestore fsck on mkfs = false
osd memory target = 1073741824
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$PORT
rgw data = $DIR/rgw
rgw thread pool size = 128
rgw gc obj min wait = 60
rgw gc processor period = 60
CONF
C="--conf=$DIR/ceph.conf"
: > "$DIR/pids.starting"

wait_for() { # DESCRIPTION CMD...
  local what=$1; shift; local end=$(( $(date +%s) + TMO ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$end" ] || die "timed out waiting for $what"
    sleep 0.1
  done
}
# The stop script reads the PIDs from here even when start fails half way.
record() { echo "$1 $(cat "$DIR/run/$1.pid")" >> "$DIR/pids.starting"; }
write_pids() { # stop order: rgw, osd, mon
  tac "$DIR/pids.starting" > "$DIR/pids"
}
trap 'write_pids 2>/dev/null || true' EXIT

# ---- monitor -------------------------------------------------------------------
monmaptool --create --clobber --addv a "[v2:127.0.0.1:$MON_V2,v1:127.0.0.1:$MON_V1]" --fsid "$FSID" "$DIR/monmap" >/dev/null
ceph-mon $C --mkfs -i a --monmap "$DIR/monmap" 2>>"$DIR/log/mkfs.log" || die "mon mkfs failed"
ceph-mon $C -i a || die "ceph-mon failed to start"
wait_for "mon pid file" test -s "$DIR/run/mon.a.pid"; record mon.a; write_pids
wait_for "mon quorum" ceph $C --connect-timeout 5 quorum_status
log "mon up on 127.0.0.1:$MON_V2"

# ---- OSD (memstore: no block device) ---------------------------------------------
OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
OSD_ID=$(ceph $C osd new "$OSD_UUID")
[ "$OSD_ID" = 0 ] || die "unexpected osd id $OSD_ID"
ceph-osd $C -i 0 --mkfs --osd-uuid "$OSD_UUID" >>"$DIR/log/mkfs.log" 2>&1 || die "osd mkfs failed"
ceph-osd $C -i 0 2>>"$DIR/log/osd-stderr.log" || die "ceph-osd failed to start"
wait_for "osd pid file" test -s "$DIR/run/osd.0.pid"; record osd.0; write_pids
osd_up() { ceph $C osd dump --format json | grep -q '"up":1'; }
wait_for "osd.0 up" osd_up
log "osd.0 up ($STORE)"

# RGW would create its 7 pools one by one (4 at start, 3 at the first bucket). Create them up front, all
# commands through one ceph process (each ceph invocation costs ~0.5 s of CPU).
for pool in .rgw.root default.rgw.log default.rgw.control default.rgw.meta \
            default.rgw.buckets.index default.rgw.buckets.non-ec default.rgw.buckets.data; do
  echo "osd pool create $pool 8 8 replicated"
  echo "osd pool application enable $pool rgw"
done | ceph $C >"$DIR/log/pools.log" 2>&1 || die "pool creation failed"
[ "$(ceph $C osd pool ls | wc -l)" -ge 7 ] || die "pools missing: $(ceph $C osd pool ls | tr '\n' ' ')"
log "pools created"

# ---- RADOS Gateway ---------------------------------------------------------------
radosgw $C -n client.rgw.a 2>>"$DIR/log/rgw-stderr.log" || die "radosgw failed to start"
wait_for "rgw pid file" test -s "$DIR/run/client.rgw.a.pid"; record client.rgw.a; write_pids
wait_for "S3 on 127.0.0.1:$PORT" curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/"
radosgw-admin $C user create --uid=berth-test --display-name="Berth tests" \
  --access-key="$AK" --secret-key="$SK" >"$DIR/user.json" 2>>"$DIR/log/admin.log" || die "user create failed"
# An authenticated call (ListBuckets, signature v2: curl has no v4) proves the key works.
sig_ok() {
  local d; d=$(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S GMT')
  local s; s=$(printf 'GET\n\n\n%s\n/' "$d" | openssl dgst -sha1 -hmac "$SK" -binary | base64)
  curl -sf --max-time 3 -H "Date: $d" -H "Authorization: AWS $AK:$s" "http://127.0.0.1:$PORT/" | grep -q ListAllMyBucketsResult
}
if command -v openssl >/dev/null 2>&1; then wait_for "an authenticated S3 answer" sig_ok; fi

cat > "$DIR/env" <<ENV
BERTH_TEST_S3_ENDPOINT=http://127.0.0.1:$PORT
BERTH_TEST_S3_ACCESS_KEY=$AK
BERTH_TEST_S3_SECRET_KEY=$SK
BERTH_TEST_S3_REGION=us-east-1
BERTH_CEPH_DIR=$DIR
ENV
log "ready: S3 at http://127.0.0.1:$PORT"
cat "$DIR/env"
