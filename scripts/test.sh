#!/usr/bin/env bash
# Runs every Berth test. Installs what the tests need when it is missing (Debian packages through
# apt-get, NuGet packages through restore); the tests start and stop their own servers on 127.0.0.1,
# except the S3 server: this script starts a one-node Ceph RADOS Gateway (scripts/ceph-rgw-start.sh)
# before `dotnet test`, passes it in BERTH_TEST_S3_* and stops it afterwards. With BERTH_TEST_S3_ENDPOINT
# already set, that server is used instead. The scale-out tests keep their HAProxy and berth logs in
# $BERTH_SCALEOUT_LOG_DIR (default TestResults/scaleout). After the tests, a benchmark smoke (about 30 s)
# runs bench/run.sh --smoke and the BenchmarkDotNet micro-benchmarks once each; it prints one
# "bench smoke:" line and fails the run if a benchmark does not work.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v skopeo >/dev/null || need+=(skopeo)
command -v docker-registry >/dev/null || need+=(docker-registry)
command -v haproxy >/dev/null || need+=(haproxy)
command -v gzip >/dev/null || need+=(gzip)
command -v curl >/dev/null || need+=(curl)
if [ -z "${BERTH_TEST_S3_ENDPOINT:-}" ]; then
  command -v ceph-mon >/dev/null || need+=(ceph-mon)
  command -v ceph-osd >/dev/null || need+=(ceph-osd)
  command -v radosgw >/dev/null || need+=(radosgw)
  command -v ceph >/dev/null || need+=(ceph-common)
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "test.sh: installing ${need[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
command -v dotnet >/dev/null || { echo "test.sh: the .NET 10 SDK (dotnet) is required: https://learn.microsoft.com/dotnet/core/install/linux-debian" >&2; exit 2; }

results=$(mktemp -d)
ceph_dir=
cleanup() {
  rm -rf "$results"
  if [ -n "$ceph_dir" ]; then BERTH_CEPH_DIR="$ceph_dir" scripts/ceph-rgw-stop.sh >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
dotnet build Berth.slnx -c Release -v quiet -nologo

if [ -z "${BERTH_TEST_S3_ENDPOINT:-}" ]; then
  ceph_dir=/tmp/berth-ceph-test-sh-$$
  if ! BERTH_CEPH_DIR="$ceph_dir" scripts/ceph-rgw-start.sh >"$results/ceph-start.out" 2>&1; then
    cat "$results/ceph-start.out" >&2
    echo "test.sh: the S3 tests need a Ceph RADOS Gateway and it did not start (packages radosgw ceph-mon ceph-osd ceph-common; see above)" >&2
    exit 2
  fi
  set -a; . "$ceph_dir/env"; set +a
  echo "test.sh: Ceph RGW at $BERTH_TEST_S3_ENDPOINT, started in $(sed -n 's/^\[ceph-rgw-start \([0-9.]*s\)\] ready.*/\1/p' "$results/ceph-start.out")"
fi
export BERTH_SCALEOUT_LOG_DIR="${BERTH_SCALEOUT_LOG_DIR:-$PWD/TestResults/scaleout}"
status=0
dotnet test Berth.slnx -c Release --no-build -nologo --logger "trx" --results-directory "$results" "$@" || status=$?

# Benchmark smoke: proves the benchmarks work (times nothing); one "bench smoke:" line, logs in TestResults/bench-smoke.
scripts/bench-smoke.sh || status=1

# One plain closing line over all test assemblies.
python3 - "$results" <<'PY' || true
import sys, glob, re
p = f = s = 0
for path in glob.glob(sys.argv[1] + "/*.trx"):
    text = open(path, encoding="utf-8").read()
    m = re.search(r'<Counters [^>]*', text)
    if not m: continue
    attrs = dict(re.findall(r'(\w+)="(\d+)"', m.group(0)))
    p += int(attrs.get("passed", 0)); f += int(attrs.get("failed", 0)) + int(attrs.get("error", 0)) + int(attrs.get("timeout", 0))
    s += int(attrs.get("notExecuted", 0))
print(f"{p} passed, {f} failed, {s} skipped")
PY
echo "scale-out logs (haproxy.log, berth-s*.log): $BERTH_SCALEOUT_LOG_DIR"
exit $status
