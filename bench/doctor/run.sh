#!/usr/bin/env bash
# Times `berth doctor` against `docker-registry garbage-collect --dry-run` on the same generated storage
# (at least 2,000 repositories and 5,000 tags in Distribution's layout), warm cache.
# Uses hyperfine when installed, else bash's `time`. Prints both times and the ratio.
#
#   bench/doctor/run.sh [--repositories N] [--tags N]     (BENCH_DIR=/tmp/berth-bench-doctor, RUNS=10, REUSE=1 keeps the storage)
set -euo pipefail
cd "$(dirname "$0")/../.."

BENCH_DIR=${BENCH_DIR:-/tmp/berth-bench-doctor}
RUNS=${RUNS:-10}
REGISTRY=${REGISTRY:-$(command -v docker-registry || echo /usr/bin/docker-registry)}
[ -x "$REGISTRY" ] || { echo "run.sh: docker-registry is missing: apt-get install docker-registry" >&2; exit 2; }

echo "== build (Release)"
dotnet build src/Berth/Berth.csproj -c Release -v quiet -nologo >/dev/null
BERTH=$(pwd)/src/Berth/bin/Release/net10.0/berth

echo "== storage"
if [ "${REUSE:-0}" = 1 ] && [ -f "$BENCH_DIR/generated.txt" ]; then
  cat "$BENCH_DIR/generated.txt"   # REUSE=1: keep the storage of the last run
else
  rm -rf "$BENCH_DIR"
  mkdir -p "$BENCH_DIR"
  /usr/bin/env python3 bench/doctor/generate.py "$BENCH_DIR/data" "$@" | tee "$BENCH_DIR/generated.txt"
fi
cat > "$BENCH_DIR/config.yml" <<YAML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $BENCH_DIR/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:0
YAML

DOCTOR="$BERTH doctor --data $BENCH_DIR/data"
GC="$REGISTRY garbage-collect --dry-run $BENCH_DIR/config.yml"

echo "== sanity (and cache warm-up)"
$DOCTOR --format json > "$BENCH_DIR/doctor.json" || { echo "berth doctor found errors on generated storage" >&2; exit 1; }
python3 - "$BENCH_DIR/doctor.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
print(f"berth doctor: {s['repositories']} repositories, {s['tags']} tags, {s['blobs']} blobs, "
      f"{s['errors']} errors, {s['warnings']} warnings, {s['unreferencedBlobs']} unreferenced blobs")
PY
$GC > "$BENCH_DIR/gc.txt" 2>&1 || { echo "garbage-collect failed:"; tail -5 "$BENCH_DIR/gc.txt"; exit 1; }
grep -E 'blobs marked' "$BENCH_DIR/gc.txt" | sed 's/^/garbage-collect: /'
echo "cores: $(nproc), load average: $(cut -d" " -f1-3 /proc/loadavg)"

echo "== timing"
trap 'echo "load average after: $(cut -d" " -f1-3 /proc/loadavg)"' EXIT
if command -v hyperfine >/dev/null; then
  hyperfine --warmup 2 --runs "$RUNS" --export-json "$BENCH_DIR/hyperfine.json" \
    -n "berth doctor" "$DOCTOR" \
    -n "docker-registry garbage-collect --dry-run" "$GC"
  python3 - "$BENCH_DIR/hyperfine.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
g = r["docker-registry garbage-collect --dry-run"]
for label, x in r.items():
    print(f"{label + ':':46}{x['mean']:.3f} s wall ± {x['stddev']:.3f} (median {x['median']:.3f}), "
          f"{x['user'] + x['system']:.3f} s CPU (user {x['user']:.3f} + system {x['system']:.3f})")
for label in ("berth doctor",):
    d = r[label]
    print(f"{'ratio garbage-collect / ' + label + ':':46}{g['mean'] / d['mean']:.2f}x wall (median {g['median'] / d['median']:.2f}x), "
          f"{(g['user'] + g['system']) / (d['user'] + d['system']):.2f}x CPU  (>1: doctor is faster)")
PY
else
  TIMEFORMAT='%R %U %S'
  t() { { time (for _ in $(seq "$RUNS"); do "$@" >/dev/null 2>&1 || true; done) ; } 2>&1 | tail -1; }
  read -r dr du ds <<<"$(t $DOCTOR)"; read -r gr gu gs <<<"$(t $GC)"
  awk -v n="$RUNS" -v dr="$dr" -v du="$du" -v ds="$ds" -v gr="$gr" -v gu="$gu" -v gs="$gs" 'BEGIN {
    printf "berth doctor:                              %.3f s wall, %.3f s CPU (mean of %d)\n", dr/n, (du+ds)/n, n
    printf "docker-registry garbage-collect --dry-run: %.3f s wall, %.3f s CPU (mean of %d)\n", gr/n, (gu+gs)/n, n
    printf "ratio garbage-collect / doctor:            %.2fx wall, %.2fx CPU\n", gr/dr, (gu+gs)/(du+ds) }'
fi
