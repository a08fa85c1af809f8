#!/usr/bin/env bash
# Times `berth doctor --format json` against `docker-registry garbage-collect --dry-run` on the same generated storage
# (at least 2,000 repositories and 5,000 tags in Distribution's layout), with a warm page cache and with a cold one
# (`sync; echo 3 > /proc/sys/vm/drop_caches` before every cold run of each tool: needs root). Needs hyperfine.
# Prints the medians, the ratios and the load average before and after.
#
#   bench/doctor/run.sh [--repositories N] [--tags N]
#     BENCH_DIR=/tmp/berth-bench-doctor  RUNS=10 (warm runs per tool)  COLD_RUNS=5  REUSE=1 keeps the storage
#     COLD=0 skips the cold runs (they are skipped, with a message, when caches cannot be dropped)
set -euo pipefail
cd "$(dirname "$0")/../.."

BENCH_DIR=${BENCH_DIR:-/tmp/berth-bench-doctor}
RUNS=${RUNS:-10}
COLD_RUNS=${COLD_RUNS:-5}
REGISTRY=${REGISTRY:-$(command -v docker-registry || echo /usr/bin/docker-registry)}
[ -x "$REGISTRY" ] || { echo "run.sh: docker-registry is missing: apt-get install docker-registry" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "run.sh: hyperfine is missing: apt-get install hyperfine" >&2; exit 2; }

echo "== publish (Release, ReadyToRun as Berth.csproj sets it)"
dotnet publish src/Berth/Berth.csproj -c Release -o "$BENCH_DIR/berth" -v quiet -nologo >/dev/null
BERTH=$BENCH_DIR/berth/berth

echo "== storage"
if [ "${REUSE:-0}" = 1 ] && [ -f "$BENCH_DIR/generated.txt" ]; then
  cat "$BENCH_DIR/generated.txt"   # REUSE=1: keep the storage of the last run
else
  rm -rf "$BENCH_DIR/data" "$BENCH_DIR/generated.txt"
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

DOCTOR="$BERTH doctor --data $BENCH_DIR/data --format json"
GC="$REGISTRY garbage-collect --dry-run $BENCH_DIR/config.yml"

echo "== sanity (and cache warm-up)"
$DOCTOR > "$BENCH_DIR/doctor.json" || { echo "berth doctor found errors on generated storage" >&2; exit 1; }
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
DOCTOR_NAME="berth doctor"
GC_NAME="docker-registry garbage-collect --dry-run"
echo "-- warm page cache ($RUNS runs each, 2 warm-up runs)"
hyperfine -N --warmup 2 --runs "$RUNS" --export-json "$BENCH_DIR/warm.json" --output null \
  -n "$DOCTOR_NAME" "$DOCTOR" -n "$GC_NAME" "$GC" | grep -vE '^ *$'
DROP='sh -c "sync; echo 3 > /proc/sys/vm/drop_caches"'   # hyperfine -N runs --prepare without a shell too
if [ "${COLD:-1}" = 1 ] && eval "$DROP" 2>/dev/null; then
  echo "-- cold page cache ($COLD_RUNS runs each; caches dropped before every run)"
  hyperfine -N --runs "$COLD_RUNS" --prepare "$DROP" --export-json "$BENCH_DIR/cold.json" --output null \
    -n "$DOCTOR_NAME" "$DOCTOR" -n "$GC_NAME" "$GC" | grep -vE '^ *$'
else
  rm -f "$BENCH_DIR/cold.json"
  echo "-- cold page cache: NOT measured (COLD=0, or /proc/sys/vm/drop_caches is not writable: run as root)"
fi
python3 - "$BENCH_DIR" "$DOCTOR_NAME" "$GC_NAME" <<'PY'
import json, os, sys
bench, doctor, gc = sys.argv[1:]
print()
for case in ("warm", "cold"):
    path = os.path.join(bench, case + ".json")
    if not os.path.exists(path):
        continue
    r = {x["command"]: x for x in json.load(open(path))["results"]}
    d, g = r[doctor], r[gc]
    for label, x in ((doctor, d), (gc, g)):
        print(f"{case} {label + ':':44}median {x['median']:.3f} s (mean {x['mean']:.3f} ± {x['stddev']:.3f}, "
              f"{len(x['times'])} runs), CPU {x['user'] + x['system']:.3f} s (user {x['user']:.3f} + system {x['system']:.3f})")
    print(f"{case} {'ratio garbage-collect / doctor:':44}{g['median'] / d['median']:.2f}x wall (medians), "
          f"{(g['user'] + g['system']) / (d['user'] + d['system']):.2f}x CPU  (>1: doctor is faster)")
PY
