#!/usr/bin/env bash
# skopeo pushes alone, outside the harness: Distribution (Debian docker-registry) and Berth on fresh storage on
# the same disk, each warmed by 3 pushes, then PAIRS alternating pairs (D B, B D, ...) of fresh images of 4 x 64 MiB
# gzip layers (random payloads: nothing deduplicates). Prints each push's time, skopeo's CPU and the registry's
# CPU, then the median ratio of the pairs and the ratio of the totals (>1: Berth is faster).
#
#   bench/skopeo/run.sh        Env: PAIRS (8), BENCH_DIR (/var/tmp/berth-bench-skopeo, wiped first and removed
#                              at the end), DIST_PORT (5110), BERTH_PORT (5111), NO_BUILD=1 (use bench/.berth-publish)
# Both servers listen on 127.0.0.1 only and are stopped by PID when the script exits.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
PAIRS=${PAIRS:-8}
BENCH_DIR=${BENCH_DIR:-/var/tmp/berth-bench-skopeo}
DIST_PORT=${DIST_PORT:-5110}
BERTH_PORT=${BERTH_PORT:-5111}
case "$BENCH_DIR" in /tmp/*|/var/tmp/*) ;; *) echo "refusing to wipe BENCH_DIR=$BENCH_DIR" >&2; exit 1;; esac
for t in skopeo docker-registry python3 curl; do
  command -v $t >/dev/null || { echo "bench/skopeo/run.sh: $t is missing: apt-get install skopeo docker-registry python3 curl" >&2; exit 2; }
done
publish_dir="$repo/bench/.berth-publish"
[ "${NO_BUILD:-0}" = 1 ] || dotnet publish "$repo/src/Berth" -c Release -o "$publish_dir" -v quiet -nologo >/dev/null

rm -rf "$BENCH_DIR"; mkdir -p "$BENCH_DIR"
images=$((PAIRS + 3))
echo "== $images images of 4 x 64 MiB"
for i in $(seq 1 $images); do python3 "$here/gen_oci.py" "$BENCH_DIR/oci$i" 4 64; done
cat > "$BENCH_DIR/distribution.yml" <<YML
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
http:
  addr: 127.0.0.1:$DIST_PORT
YML
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$BENCH_DIR"
}
trap cleanup EXIT
docker-registry serve "$BENCH_DIR/distribution.yml" > "$BENCH_DIR/distribution.log" 2>&1 & dist_pid=$!; pids+=($dist_pid)
dotnet "$publish_dir/berth.dll" serve --listen 127.0.0.1:$BERTH_PORT --data "$BENCH_DIR/berth" --log-level warn > "$BENCH_DIR/berth.log" 2>&1 & berth_pid=$!; pids+=($berth_pid)
for port in $DIST_PORT $BERTH_PORT; do
  for _ in $(seq 200); do curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/v2/" && break; sleep 0.1; done
done

cpu() { awk '{print $14 + $15}' /proc/$1/stat; }
push() {  # push LABEL PORT PID IMAGE: prints "LABEL seconds skopeo_cpu registry_cpu"
  local c0 t0 t1 c1
  c0=$(cpu $3); t0=$(date +%s.%N)
  /usr/bin/time -f "%U %S" -o "$BENCH_DIR/time" skopeo copy -q --dest-tls-verify=false "oci:$BENCH_DIR/oci$4:latest" "docker://127.0.0.1:$2/bench/img$4:latest"
  t1=$(date +%s.%N); c1=$(cpu $3)
  python3 -c "import sys; u, s = open('$BENCH_DIR/time').read().split()[:2]; print('$1', round($t1 - $t0, 3), round(float(u) + float(s), 2), round(($c1 - $c0) / 100, 2))"
}
echo "== warm-up: 3 pushes each"
for i in 1 2 3; do push distribution $DIST_PORT $dist_pid $i >/dev/null; push berth $BERTH_PORT $berth_pid $i >/dev/null; done
echo "== $PAIRS pairs (registry, push s, skopeo CPU s, registry CPU s)"
: > "$BENCH_DIR/pairs.txt"
for i in $(seq 4 $images); do
  if [ $((i % 2)) = 0 ]; then order="d b"; else order="b d"; fi
  for r in $order; do
    if [ $r = d ]; then push distribution $DIST_PORT $dist_pid $i; else push berth $BERTH_PORT $berth_pid $i; fi
  done | tee -a "$BENCH_DIR/pairs.txt"
done
python3 - "$BENCH_DIR/pairs.txt" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
d = [float(r[1]) for r in rows if r[0] == "distribution"]; b = [float(r[1]) for r in rows if r[0] == "berth"]
ratios = [x / y for x, y in zip(d, b)]
print(f"distribution {min(d):.3f}-{max(d):.3f} s, berth {min(b):.3f}-{max(b):.3f} s; ratio per pair "
      f"{min(ratios):.2f}-{max(ratios):.2f}x, median {statistics.median(ratios):.2f}x, totals {sum(d) / sum(b):.2f}x (>1: Berth is faster)")
PY
