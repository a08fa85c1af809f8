#!/usr/bin/env bash
# Side-by-side benchmark: Berth and CNCF Distribution (Debian docker-registry) on fresh storage on the
# same disk, same durability (both fsync), measured in one regbench run (A-B-B-A with --repeat 2).
#
#   bench/run.sh [regbench options]        e.g. bench/run.sh --quick   (CI smoke)
#
# Env: OUT (results folder, default ./bench/results/<time>), BENCH_DIR (storage parent, default
# /var/tmp/berth-bench, wiped first), DIST_PORT (5100), BERTH_PORT (5101).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
OUT="${OUT:-$repo/bench/results/$(date +%Y%m%dT%H%M%S)}"
BENCH_DIR="${BENCH_DIR:-/var/tmp/berth-bench}"
DIST_PORT="${DIST_PORT:-5100}"
BERTH_PORT="${BERTH_PORT:-5101}"
case "$BENCH_DIR" in /tmp/*|/var/tmp/*|/dev/shm/*) ;; *) echo "refusing to wipe BENCH_DIR=$BENCH_DIR" >&2; exit 1;; esac

need=()
command -v docker-registry >/dev/null || need+=(docker-registry)
command -v wrk >/dev/null || need+=(wrk)
command -v ab >/dev/null || need+=(apache2-utils)
command -v skopeo >/dev/null || need+=(skopeo)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

mkdir -p "$OUT"
rm -rf "$BENCH_DIR"; mkdir -p "$BENCH_DIR/distribution" "$BENCH_DIR/berth"
dotnet build "$repo/src/Berth" -c Release -v quiet -nologo >/dev/null
berth_dll="$repo/src/Berth/bin/Release/net10.0/berth.dll"

cat > "$OUT/distribution.yml" <<YML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $BENCH_DIR/distribution
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$DIST_PORT
YML
sed -e "s#$BENCH_DIR/distribution#$BENCH_DIR/berth#" -e "s#127.0.0.1:$DIST_PORT#127.0.0.1:$BERTH_PORT#" \
    -e '/cache:/d' -e '/blobdescriptor/d' "$OUT/distribution.yml" > "$OUT/berth.yml"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
wait_up() {
  for _ in $(seq 200); do
    curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$1/v2/" && return 0
    sleep 0.1
  done
  echo "registry on port $1 did not come up" >&2; return 1
}
/usr/bin/docker-registry serve "$OUT/distribution.yml" >"$OUT/distribution.log" 2>&1 &
dist_pid=$!; pids+=("$dist_pid")
dotnet "$berth_dll" serve "$OUT/berth.yml" >"$OUT/berth.log" 2>&1 &
berth_pid=$!; pids+=("$berth_pid")
wait_up "$DIST_PORT"; wait_up "$BERTH_PORT"

"$here/regbench/regbench" run \
  "label=distribution,url=http://127.0.0.1:$DIST_PORT,pid=$dist_pid,storage=$BENCH_DIR/distribution,scan=/usr/bin/docker-registry garbage-collect --dry-run $OUT/distribution.yml" \
  "label=berth,url=http://127.0.0.1:$BERTH_PORT,pid=$berth_pid,storage=$BENCH_DIR/berth,scan=dotnet $berth_dll doctor --data $BENCH_DIR/berth --format json" \
  --json-out "$OUT/regbench.json" "$@" | tee "$OUT/regbench.txt"
echo "results in $OUT"
