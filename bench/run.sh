#!/usr/bin/env bash
# Side-by-side benchmark: Berth and CNCF Distribution (Debian docker-registry) on fresh storage on the
# same disk, same durability (both fsync), measured in one regbench run (A-B-B-A with --repeat 2).
#
#   bench/run.sh [regbench options]        e.g. bench/run.sh --repeat 2
#   bench/run.sh --quick                   regbench's short run (1 s phases); its figures are noise
#   bench/run.sh --smoke                   CI smoke (scripts/test.sh): every phase once with tiny sizes
#                                          (1 x 1 MiB + 3 x 4 KiB layers, 20 tags, 10 repositories), then
#                                          fails (exit 1) if a phase was skipped or counted errors, or if
#                                          the integrity checks failed. Times nothing. Storage is removed after.
#
# Both servers listen on 127.0.0.1 only and are stopped by PID when the script exits, failed or not.
# Env: OUT (results folder, default ./bench/results/<time>), BENCH_DIR (storage parent, default
# /var/tmp/berth-bench, wiped first and removed at the end unless KEEP_STORAGE=1: a --repeat 2 run writes
# 30-50 GB), DIST_PORT (5100), BERTH_PORT (5101), PUBLISH_DIR (where Berth is published, default
# bench/.berth-publish; scripts/test.sh's smoke publishes into TestResults), NO_BUILD=1 (use the Berth
# already published there, else the Release build of src/Berth).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
OUT="${OUT:-$repo/bench/results/$(date +%Y%m%dT%H%M%S)}"
BENCH_DIR="${BENCH_DIR:-/var/tmp/berth-bench}"
DIST_PORT="${DIST_PORT:-5100}"
BERTH_PORT="${BERTH_PORT:-5101}"
case "$BENCH_DIR" in /tmp/*|/var/tmp/*|/dev/shm/*) ;; *) echo "refusing to wipe BENCH_DIR=$BENCH_DIR" >&2; exit 1;; esac

smoke=0
args=()
for a in "$@"; do
  if [ "$a" = --smoke ]; then smoke=1; else args+=("$a"); fi
done
if [ $smoke = 1 ]; then
  # Every phase runs once: --min-time 0 makes each push/pull worker do one blob; 1 MiB PATCH chunks still
  # split the big layer. The content (about 1 MiB) is cached apart from the full run's.
  args=(--big-layers 1 --big-mib 1 --small-layers 3 --small-kib 4 --min-time 0 --concurrency 1,2 --chunk-mib 1
        --wrk-seconds 1 --wrk-connections 4 --tags 20 --tags-page 5 --repos 10 --catalog-page 4 --meta-concurrency 2
        --list-seconds 0.2 --list-max-iters 3 --phase-timeout 60 --max-time 150 --grace 30 --http-timeout 30
        "${args[@]}")
fi

need=()
command -v docker-registry >/dev/null || need+=(docker-registry)
command -v wrk >/dev/null || need+=(wrk)
command -v ab >/dev/null || need+=(apache2-utils)
command -v skopeo >/dev/null || need+=(skopeo)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  echo "bench/run.sh: installing ${need[*]}" >&2
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  { $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq &&
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}"; } >/dev/null || true
fi
missing=()
command -v docker-registry >/dev/null || missing+=("docker-registry (CNCF Distribution, the registry Berth is compared with)")
command -v wrk >/dev/null || missing+=(wrk)
command -v ab >/dev/null || missing+=("ab (package apache2-utils)")
command -v skopeo >/dev/null || missing+=(skopeo)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
  printf 'bench/run.sh: missing: %s\n' "${missing[@]}" >&2
  echo "bench/run.sh: install them: apt-get install docker-registry wrk apache2-utils skopeo curl (Debian 12)" >&2
  exit 2
fi
dist_bin="$(command -v docker-registry)"

mkdir -p "$OUT"
rm -rf "$BENCH_DIR"; mkdir -p "$BENCH_DIR/distribution" "$BENCH_DIR/berth"
# Berth as it is deployed: published (Release, ReadyToRun as src/Berth/Berth.csproj sets it).
publish_dir="${PUBLISH_DIR:-$repo/bench/.berth-publish}"
berth_dll="$publish_dir/berth.dll"
if [ "${NO_BUILD:-0}" != 1 ]; then
  dotnet publish "$repo/src/Berth" -c Release -o "$publish_dir" -v quiet -nologo >/dev/null
elif [ ! -f "$berth_dll" ]; then
  # The smoke in scripts/test.sh: the solution's Release build (not precompiled; figures are not the point).
  berth_dll="$repo/src/Berth/bin/Release/net10.0/berth.dll"
  [ -f "$berth_dll" ] || { echo "bench/run.sh: NO_BUILD=1 but neither bench/.berth-publish nor $berth_dll exists" >&2; exit 2; }
fi

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
# Stops what this script started, by PID: SIGTERM, then SIGKILL after 10 s.
stop_all() {
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null || continue
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  pids=()
}
cleanup() {
  stop_all
  # A --repeat 2 run leaves 30-50 GB of pushed blobs; keep them only when asked (KEEP_STORAGE=1).
  if [ $smoke = 1 ] || [ "${KEEP_STORAGE:-0}" != 1 ]; then rm -rf "$BENCH_DIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
wait_up() {
  for _ in $(seq 200); do
    curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$1/v2/" && return 0
    kill -0 "$2" 2>/dev/null || { echo "bench/run.sh: the registry on port $1 exited; its log: $3" >&2; tail -20 "$3" >&2; return 1; }
    sleep 0.1
  done
  echo "bench/run.sh: registry on port $1 did not come up in 20 s; its log: $3" >&2; return 1
}
"$dist_bin" serve "$OUT/distribution.yml" >"$OUT/distribution.log" 2>&1 &
dist_pid=$!; pids+=("$dist_pid")
dotnet "$berth_dll" serve "$OUT/berth.yml" >"$OUT/berth.log" 2>&1 &
berth_pid=$!; pids+=("$berth_pid")
wait_up "$DIST_PORT" "$dist_pid" "$OUT/distribution.log"; wait_up "$BERTH_PORT" "$berth_pid" "$OUT/berth.log"

"$here/regbench/regbench" run \
  "label=distribution,url=http://127.0.0.1:$DIST_PORT,pid=$dist_pid,storage=$BENCH_DIR/distribution,scan=$dist_bin garbage-collect --dry-run $OUT/distribution.yml" \
  "label=berth,url=http://127.0.0.1:$BERTH_PORT,pid=$berth_pid,storage=$BENCH_DIR/berth,scan=dotnet $berth_dll doctor --data $BENCH_DIR/berth --format json" \
  --json-out "$OUT/regbench.json" ${args[@]+"${args[@]}"} | tee "$OUT/regbench.txt"
echo "results in $OUT"
stop_all

if [ $smoke = 1 ]; then
  # The smoke's verdict: every phase ran (none skipped), no errors, integrity checks passed, both alive.
  python3 - "$OUT/regbench.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
problems, phases = [], 0
for run in doc.get("runs", [doc]):
    label = run["target"].get("label")
    s = run["summary"]
    if run.get("aborted"):
        problems.append(f"{label}: run aborted (time limit)")
    if s.get("integrity_ok") is not True:
        problems.append(f"{label}: integrity checks failed: {run['phases'].get('integrity')}")
    if s.get("errors_total", 1) != 0:
        problems.append(f"{label}: errors_total={s.get('errors_total')}: {run.get('errors')}")
    if not run.get("registry_process", {}).get("alive_at_end", False):
        problems.append(f"{label}: registry process not alive at the end")
    for name, res in run["phases"].items():
        if not isinstance(res, dict):
            continue
        phases += 1
        if "skipped" in res:
            problems.append(f"{label}: phase {name} skipped: {res['skipped']}")
        if res.get("errors"):
            problems.append(f"{label}: phase {name}: {res['errors']} errors: {res.get('error_samples')}")
    for ph in run.get("skipped_phases", {}).get("list", []):
        problems.append(f"{label}: phase {ph} skipped")
for p in problems:
    print("bench smoke: FAIL " + str(p)[:600], file=sys.stderr)
runs = len(doc.get("runs", [doc]))
print(f"bench smoke: regbench {'FAILED' if problems else 'ok'}: {runs} registries, {phases} phase results, "
      f"{len(problems)} problems")
sys.exit(1 if problems else 0)
PY
fi
