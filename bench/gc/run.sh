#!/usr/bin/env bash
# Times Berth's and CNCF Distribution's garbage collectors, dry runs, on the same generated storage.
#   bench/gc/run.sh            REPOS=2000 TAGS=5000 RUNS=5 by default (medians of RUNS alternating runs)
set -euo pipefail
cd "$(dirname "$0")/../.."
REPOS=${REPOS:-2000}
TAGS=${TAGS:-5000}
RUNS=${RUNS:-5}
command -v docker-registry >/dev/null || { echo "run.sh: docker-registry is missing: apt-get install docker-registry" >&2; exit 2; }
work=$(mktemp -d /tmp/berth-gc-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

dotnet build src/Berth -c Release -v quiet -nologo >/dev/null
berth="dotnet src/Berth/bin/Release/net10.0/berth.dll"
python3 bench/gc/generate.py "$work/data" --repos "$REPOS" --tags "$TAGS"
printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\n' "$work/data" > "$work/config.yml"
echo "storage: $(find "$work/data" -type f | wc -l) files"

sync  # the generator's writes must not be flushed while the collectors run

# one timed run: appends "WALL CPU" (seconds; CPU is user + system) to a file
timed() {
  local times=$1 out=$2; shift 2
  /usr/bin/time -f "%e %U %S" -o "$work/time" "$@" >"$out" 2>/dev/null || true
  read -r e u s < "$work/time"
  echo "$e $(echo "$u + $s" | bc)" >> "$times"
}
median() { sort -n | sed -n "$(( (RUNS + 1) / 2 ))p"; }

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
for flag in "" "--delete-untagged"; do
  dist=(docker-registry garbage-collect --dry-run $flag "$work/config.yml")
  ours=($berth gc --config "$work/config.yml" --dry-run --grace 0s --format json $flag)
  "${dist[@]}" >/dev/null 2>&1 || true; "${ours[@]}" >/dev/null 2>&1 || true   # warm-up
  rm -f "$work/d.times" "$work/b.times"
  for _ in $(seq "$RUNS"); do   # alternate, so that both see the same load
    timed "$work/d.times" "$work/distribution.out" "${dist[@]}"
    timed "$work/b.times" "$work/berth.json" "${ours[@]}"
  done
  dw=$(cut -d' ' -f1 "$work/d.times" | median); dc=$(cut -d' ' -f2 "$work/d.times" | median)
  bw=$(cut -d' ' -f1 "$work/b.times" | median); bc=$(cut -d' ' -f2 "$work/b.times" | median)
  dn=$(grep -c '^blob eligible for deletion' "$work/distribution.out" || true)
  bn=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["blobs"]))' "$work/berth.json")
  printf 'gc --dry-run %-18s distribution %5.2f s wall %5.2f s cpu (%4d blobs) | berth %5.2f s wall %5.2f s cpu (%4d blobs) | distribution/berth: wall %sx, cpu %sx\n' \
    "${flag:-(keep untagged)}" "$dw" "$dc" "$dn" "$bw" "$bc" "$bn" "$(echo "scale=2; $dw / $bw" | bc)" "$(echo "scale=2; $dc / $bc" | bc)"
done
echo "berth counts differ from Distribution's only with --delete-untagged, by the configs and layers of index children Distribution would wrongly delete"
