#!/usr/bin/env bash
# The benchmark smoke that scripts/test.sh (and so CI) runs after the tests; it needs the Release build of
# the solution (scripts/test.sh builds it first) for the micro-benchmarks, and publishes Berth as it is
# deployed (Release, ReadyToRun with cross-module generics) for the side-by-side run, so the precompiled
# build serves every phase. About 45 s on 2 cores. Exit 0 when every benchmark works.
set -euo pipefail
cd "$(dirname "$0")/.."
# Benchmark smoke (proves the benchmarks work; times nothing): bench/run.sh --smoke runs Distribution's
# docker-registry and Berth side by side on fresh storage with every regbench phase once at tiny sizes,
# and fails on a skipped phase, an error or a failed integrity check; then every BenchmarkDotNet
# micro-benchmark runs once in-process (--job Dry) and fails if one throws. Logs: TestResults/bench-smoke.
micro_dll=bench/Berth.Benchmarks/bin/Release/net10.0/Berth.Benchmarks.dll
[ -f "$micro_dll" ] || { echo "bench smoke: FAILED: $micro_dll is missing; build first: dotnet build Berth.slnx -c Release" >&2; exit 1; }
smoke_dir="$PWD/TestResults/bench-smoke"
rm -rf "$smoke_dir"; mkdir -p "$smoke_dir"
smoke_start=$SECONDS
smoke_status=0
read -r dist_port berth_port < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])')
if OUT="$smoke_dir/regbench" BENCH_DIR="/var/tmp/berth-bench-smoke-$$" DIST_PORT=$dist_port BERTH_PORT=$berth_port PUBLISH_DIR="$smoke_dir/publish" \
    bench/run.sh --smoke >"$smoke_dir/regbench.out" 2>&1; then
  regbench_smoke="ok"
else
  smoke_status=1; regbench_smoke="FAILED"
  tail -40 "$smoke_dir/regbench.out" >&2
fi
regbench_smoke="$regbench_smoke ($(grep -o 'bench smoke: regbench .*' "$smoke_dir/regbench.out" | tail -1 | sed 's/^bench smoke: regbench [^:]*: //' || true))"
if BERTH_BENCH_DIR=/var/tmp dotnet "$micro_dll" \
    --filter '*' --job Dry --inProcess --artifacts "$smoke_dir/microbench" >"$smoke_dir/microbench.out" 2>&1; then
  micro_smoke="ok"
else
  smoke_status=1; micro_smoke="FAILED"
  grep -E 'Berth.Benchmarks: (FAILED|INVALID)|Exception' "$smoke_dir/microbench.out" | head -40 >&2 || tail -40 "$smoke_dir/microbench.out" >&2
fi
micro_smoke="$micro_smoke ($(grep -o 'Berth.Benchmarks: .* validation errors' "$smoke_dir/microbench.out" | tail -1 | sed 's/^Berth.Benchmarks: //' || true))"
echo "bench smoke: $([ $smoke_status = 0 ] && echo passed || echo FAILED) in $((SECONDS - smoke_start)) s: regbench Berth vs Distribution $regbench_smoke; micro-benchmarks $micro_smoke; logs in $smoke_dir"
exit $smoke_status

