#!/usr/bin/env bash
# berth logs vs the runbook's pipeline on a generated HAProxy log.
#
#   bench/logs/run.sh [SIZE_MIB] [ROTATED_MIB]      (defaults 1024 and 256)
#
# Writes $BENCH_DIR (default /tmp/berth-logs-bench): haproxy.log (SIZE_MIB, plain) and
# haproxy.log.1.gz (ROTATED_MIB before gzip -6, like logrotate), both reused on the next run.
# Then times, on the same files, the runbook's
#     grep ' 500 ' haproxy.log <(zcat haproxy.log.1.gz) | sed 's/.*} "GET \(.*\) HTTP.*$/\1/' | sort | uniq -c | sort -nr | head -5
# and
#     berth logs haproxy.log haproxy.log.1.gz --status 500 --top 5
# with hyperfine when installed (else bash's time, 3 runs each), and checks that both give the
# same five (count, path) pairs. Exit 1 when they differ.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
DIR=${BENCH_DIR:-/tmp/berth-logs-bench}
SIZE=${1:-1024}
ROT=${2:-256}
mkdir -p "$DIR"

if [ ! -f "$DIR/haproxy.log" ] || [ ! -f "$DIR/haproxy.log.1.gz" ] || [ "$(cat "$DIR/params" 2>/dev/null)" != "$SIZE $ROT" ]; then
  echo "generating $SIZE MiB haproxy.log and a $ROT MiB rotated haproxy.log.1.gz in $DIR ..."
  rm -f "$DIR/haproxy.log" "$DIR/haproxy.log.1" "$DIR/haproxy.log.1.gz" "$DIR/params"
  # The rotated part is the day before (2026-12-03 16:00 UTC), the current file 2026-12-04 16:00 UTC.
  python3 bench/logs/gen-haproxy-log.py "$DIR/haproxy.log.1" "$ROT" 1796313600 2 &
  python3 bench/logs/gen-haproxy-log.py "$DIR/haproxy.log" "$SIZE" 1796400000 1
  wait
  gzip -6 "$DIR/haproxy.log.1"
  echo "$SIZE $ROT" > "$DIR/params"
fi
ls -l "$DIR"/haproxy.log "$DIR"/haproxy.log.1.gz

echo "building berth (Release) ..."
dotnet build src/Berth/Berth.csproj -c Release -v quiet -nologo >/dev/null
BERTH="$ROOT/src/Berth/bin/Release/net10.0/berth"

RUNBOOK="grep ' 500 ' haproxy.log <(zcat haproxy.log.1.gz) | sed 's/.*} \"GET \(.*\) HTTP.*\$/\1/' | sort | uniq -c | sort -nr | head -5"
BERTHCMD="$BERTH logs haproxy.log haproxy.log.1.gz --status 500 --top 5"

cd "$DIR"
echo
echo "runbook: $RUNBOOK"
bash -c "$RUNBOOK" | awk '{print $1, $2}' > runbook.out
cat runbook.out
echo
echo "berth:   $BERTHCMD"
$BERTHCMD --format json > berth.json
python3 - berth.json > berth.out <<'PY'
import json, sys
for t in json.load(open(sys.argv[1]))["top"]:
    print(t["count"], t["path"])
PY
$BERTHCMD | sed -n '1,20p'
echo
if diff -u runbook.out berth.out; then
  echo "top-5 answers: EQUAL"
  same=0
else
  echo "top-5 answers: DIFFERENT"
  same=1
fi

echo
echo "machine: $(nproc) cores; load average before timing: $(cut -d' ' -f1-3 /proc/loadavg)"
if command -v hyperfine >/dev/null; then
  hyperfine --shell=bash --warmup 1 --runs "${RUNS:-5}" --export-markdown "$DIR/times.md" \
    -n runbook "$RUNBOOK" \
    -n "berth logs" "$BERTHCMD"
  cat "$DIR/times.md"
else
  for name in runbook berth; do
    cmd=$RUNBOOK; [ $name = berth ] && cmd=$BERTHCMD
    for i in 1 2 3; do
      echo "$name run $i:"
      ( TIMEFORMAT="  %R s wall, %U s user, %S s sys"; time bash -c "$cmd" >/dev/null )
    done
  done
fi
echo "load average after timing: $(cut -d' ' -f1-3 /proc/loadavg)"
exit $same
