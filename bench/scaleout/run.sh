#!/usr/bin/env bash
# Scale-out benchmark on S3: push and pull throughput and manifest GET rate through HAProxy for
#   distribution  CNCF Distribution 2.8 (Debian docker-registry) with its S3 driver, 1 process
#   berth-1       one `berth serve` on the S3 driver
#   berth-3       three `berth serve` processes on one bucket, HAProxy round robin
# each on its own bucket of one Ceph RADOS Gateway (started here with scripts/ceph-rgw-start.sh unless
# BERTH_TEST_S3_ENDPOINT/_ACCESS_KEY/_SECRET_KEY name one), all measured in one regbench run, then ratios.
#
#   bench/scaleout/run.sh                   # phases push,pull,wrk; 2 s per push/pull phase, 5 s rate runs
#   bench/scaleout/run.sh --quick           # smoke test (figures are noise)
#   bench/scaleout/run.sh --min-time 5 --wrk-seconds 10   # closer to regbench's defaults
#
# Env: OUT (results, default bench/results/scaleout-<time>), BERTH_CEPH_OSD_STORE (bluestore by default
# here: pushed data goes to a sparse file rather than RAM), BERTH_CEPH_OSD_SIZE_GB (40).
# Both registries serve blob GETs themselves (Distribution: storage.redirect.disable: true; Berth's default).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
OUT="${OUT:-$repo/bench/results/scaleout-$(date +%Y%m%dT%H%M%S)}"
mkdir -p "$OUT"

need=()
for b in haproxy:haproxy docker-registry:docker-registry wrk:wrk ab:apache2-utils skopeo:skopeo curl:curl openssl:openssl; do
  command -v "${b%%:*}" >/dev/null 2>&1 || need+=("${b##*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

pids=()
ceph_dir=
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "$ceph_dir" ]; then BERTH_CEPH_DIR="$ceph_dir" "$repo/scripts/ceph-rgw-stop.sh" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

if [ -z "${BERTH_TEST_S3_ENDPOINT:-}" ]; then
  ceph_dir=/tmp/berth-bench-ceph
  BERTH_CEPH_DIR=$ceph_dir BERTH_CEPH_OSD_STORE=${BERTH_CEPH_OSD_STORE:-bluestore} BERTH_CEPH_OSD_SIZE_GB=${BERTH_CEPH_OSD_SIZE_GB:-40} \
    "$repo/scripts/ceph-rgw-start.sh" >"$OUT/ceph-start.out" 2>&1 || { cat "$OUT/ceph-start.out" >&2; exit 1; }
  set -a; . "$ceph_dir/env"; set +a
fi
S3=$BERTH_TEST_S3_ENDPOINT AK=$BERTH_TEST_S3_ACCESS_KEY SK=$BERTH_TEST_S3_SECRET_KEY
REGION=${BERTH_TEST_S3_REGION:-us-east-1}
suffix=$(date +%s)

make_bucket() { # signature v2 (curl has no v4; RGW accepts both)
  local b=$1 d s
  d=$(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S GMT')
  s=$(printf 'PUT\n\n\n%s\n/%s' "$d" "$b" | openssl dgst -sha1 -hmac "$SK" -binary | base64)
  curl -sf -o /dev/null -X PUT -H "Date: $d" -H "Authorization: AWS $AK:$s" "$S3/$b" || { echo "cannot create bucket $b at $S3" >&2; exit 1; }
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_up() { # URL
  for _ in $(seq 300); do curl -sf -o /dev/null --max-time 1 "$1" && return 0; sleep 0.1; done
  echo "$1 did not come up; logs in $OUT" >&2; return 1
}
s3_yaml() { # BUCKET
  cat <<YML
  s3:
    regionendpoint: $S3
    region: $REGION
    bucket: $1
    accesskey: $AK
    secretkey: $SK
    secure: false
    v4auth: true
    rootdirectory: /registry
YML
}

dotnet build "$repo/src/Berth" -c Release -v quiet -nologo >/dev/null
berth_dll="$repo/src/Berth/bin/Release/net10.0/berth.dll"

# ---- Distribution ----
make_bucket "bench-distribution-$suffix"
dist_port=$(free_port)
cat > "$OUT/distribution.yml" <<YML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
$(s3_yaml "bench-distribution-$suffix")
  delete:
    enabled: true
  redirect:
    disable: true
  cache:
    blobdescriptor: inmemory
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$dist_port
YML
# aws-sdk-go (in Distribution) panics on AWS_CA_BUNDLE with its custom transport; the endpoint is plain HTTP.
env -u AWS_CA_BUNDLE /usr/bin/docker-registry serve "$OUT/distribution.yml" >"$OUT/distribution.log" 2>&1 &
dist_pid=$!; pids+=("$dist_pid")

# ---- Berth: one instance, and three on one bucket ----
berth_config() { # NAME BUCKET PORT
  cat > "$OUT/$1.yml" <<YML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
$(s3_yaml "$2")
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$3
YML
}
make_bucket "bench-berth1-$suffix"
make_bucket "bench-berth3-$suffix"
declare -A port
for name in berth1 berth3-s1 berth3-s2 berth3-s3; do
  port[$name]=$(free_port)
  bucket="bench-berth1-$suffix"; [ "$name" = berth1 ] || bucket="bench-berth3-$suffix"
  berth_config "$name" "$bucket" "${port[$name]}"
  dotnet "$berth_dll" serve "$OUT/$name.yml" >"$OUT/$name.log" 2>&1 &
  pids+=($!); eval "pid_${name//-/_}=$!"
done

# ---- HAProxy in front of all three targets ----
ha_dist=$(free_port) ha_b1=$(free_port) ha_b3=$(free_port)
cat > "$OUT/haproxy.cfg" <<CFG
global
    log stdout format raw local0 info
    maxconn 4096
defaults
    mode http
    log global
    option httplog
    option dontlog-normal
    option redispatch
    retries 3
    timeout connect 2s
    timeout client 300s
    timeout server 300s
    timeout check 3s
    default-server inter 2s rise 2 fall 3
frontend fe_distribution
    bind 127.0.0.1:$ha_dist
    default_backend be_distribution
frontend fe_berth1
    bind 127.0.0.1:$ha_b1
    default_backend be_berth1
frontend fe_berth3
    bind 127.0.0.1:$ha_b3
    default_backend be_berth3
backend be_distribution
    server d1 127.0.0.1:$dist_port check
backend be_berth1
    option httpchk GET /readyz
    server s1 127.0.0.1:${port[berth1]} check
backend be_berth3
    balance roundrobin
    option httpchk GET /readyz
    server s1 127.0.0.1:${port[berth3-s1]} check
    server s2 127.0.0.1:${port[berth3-s2]} check
    server s3 127.0.0.1:${port[berth3-s3]} check
CFG
haproxy -db -f "$OUT/haproxy.cfg" >"$OUT/haproxy.log" 2>"$OUT/haproxy-stderr.log" &
pids+=($!)

wait_up "http://127.0.0.1:$dist_port/v2/"
for name in berth1 berth3-s1 berth3-s2 berth3-s3; do wait_up "http://127.0.0.1:${port[$name]}/readyz"; done
for p in $ha_dist $ha_b1 $ha_b3; do wait_up "http://127.0.0.1:$p/v2/"; done

# Defaults for a run of a few minutes; later options given on the command line win.
"$repo/bench/regbench/regbench" run \
  "label=distribution,url=http://127.0.0.1:$ha_dist,pid=$dist_pid" \
  "label=berth-1,url=http://127.0.0.1:$ha_b1,pid=$pid_berth1" \
  "label=berth-3,url=http://127.0.0.1:$ha_b3,pid=$pid_berth3_s1" \
  --phases push,pull,wrk --min-time 2 --wrk-seconds 5 \
  --json-out "$OUT/regbench.json" "$@" > "$OUT/regbench.txt" 2>&1 || { tail -30 "$OUT/regbench.txt" >&2; exit 1; }

python3 - "$OUT/regbench.json" <<'PY' | tee "$OUT/ratios.txt"
import json, sys
d = json.load(open(sys.argv[1]))
runs = {r["target"]["label"]: r["summary"] for r in d["runs"]}
dist, b1, b3 = runs["distribution"], runs["berth-1"], runs["berth-3"]
keys = [k for k in sorted(dist) if isinstance(dist.get(k), (int, float)) and not isinstance(dist.get(k), bool)
        and any(s in k for s in ("MBps", "blobs_per_s", "rps", "errors"))]
print(f"{'metric':44} {'distribution':>12} {'berth-1':>10} {'berth-3':>10} {'b1/dist':>8} {'b3/dist':>8} {'b3/b1':>6}")
def r(a, b):
    return f"{a / b:.2f}" if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b else "-"
for k in keys:
    x, y, z = dist.get(k), b1.get(k), b3.get(k)
    print(f"{k:44} {x!s:>12} {y!s:>10} {z!s:>10} {r(y, x):>8} {r(z, x):>8} {r(z, y):>6}")
PY
echo "results in $OUT"
