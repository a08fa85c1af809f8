#!/usr/bin/env bash
# `berth doctor --config` on an S3 bucket (Ceph RGW) against `berth doctor --data` on the same storage on the
# filesystem: generates a few hundred repositories in Distribution's layout (generate.py), copies them into the
# bucket, checks that both scans report the same, then times them alternately (fs, s3, fs, s3, ...). The S3
# requests of one scan are counted by a small counting proxy in front of the RGW (not used for the timings).
#
#   bench/doctor/s3.sh [--repositories 300] [--tags 750]     (RUNS=5, BENCH_DIR=/tmp/berth-bench-doctor-s3)
#
# Needs a Ceph RGW: the BERTH_TEST_S3_* variables of scripts/ceph-rgw-start.sh (started here when unset), and
# python3 with boto3 for the copy and the proxy (pip install boto3, or Debian's python3-boto3).
set -euo pipefail
cd "$(dirname "$0")/../.."

BENCH_DIR=${BENCH_DIR:-/tmp/berth-bench-doctor-s3}
RUNS=${RUNS:-5}
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--repositories 300 --tags 750 --untagged 75 --orphans 30)
python3 -c 'import boto3' 2>/dev/null || { echo "s3.sh: python3 needs boto3 (pip install boto3, or apt-get install python3-boto3)" >&2; exit 2; }

started=
if [ -z "${BERTH_TEST_S3_ENDPOINT:-}" ]; then
  export BERTH_CEPH_DIR=$BENCH_DIR/ceph
  scripts/ceph-rgw-start.sh >/dev/null
  set -a; . "$BERTH_CEPH_DIR/env"; set +a
  started=1
fi
proxy_pid=
cleanup() {
  [ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null || true
  [ -n "$started" ] && scripts/ceph-rgw-stop.sh >/dev/null 2>&1 || true
}
trap cleanup EXIT

echo "== build (Release)"
dotnet build src/Berth/Berth.csproj -c Release -v quiet -nologo >/dev/null
BERTH="dotnet $(pwd)/src/Berth/bin/Release/net10.0/berth.dll"

echo "== storage"
rm -rf "$BENCH_DIR/data" && mkdir -p "$BENCH_DIR"
python3 bench/doctor/generate.py "$BENCH_DIR/data" "${args[@]}"
BUCKET=berth-bench-$$
python3 - "$BENCH_DIR/data" "$BUCKET" <<'PY'
import os, sys, boto3, concurrent.futures
root, bucket = sys.argv[1], sys.argv[2]
s3 = boto3.client("s3", endpoint_url=os.environ["BERTH_TEST_S3_ENDPOINT"], region_name=os.environ.get("BERTH_TEST_S3_REGION", "us-east-1"),
                  aws_access_key_id=os.environ["BERTH_TEST_S3_ACCESS_KEY"], aws_secret_access_key=os.environ["BERTH_TEST_S3_SECRET_KEY"])
s3.create_bucket(Bucket=bucket)
files = [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs]
def put(path):
    with open(path, "rb") as f:
        s3.put_object(Bucket=bucket, Key="bench/" + os.path.relpath(path, root), Body=f.read())
with concurrent.futures.ThreadPoolExecutor(16) as pool:
    list(pool.map(put, files))
print(f"copied {len(files)} objects into s3://{bucket}/bench")
PY

write_config() { # $1 endpoint, $2 file
  cat > "$2" <<YAML
version: 0.1
storage:
  s3:
    regionendpoint: $1
    region: ${BERTH_TEST_S3_REGION:-us-east-1}
    bucket: $BUCKET
    accesskey: $BERTH_TEST_S3_ACCESS_KEY
    secretkey: $BERTH_TEST_S3_SECRET_KEY
    rootdirectory: /bench
YAML
}
write_config "$BERTH_TEST_S3_ENDPOINT" "$BENCH_DIR/s3.yml"

echo "== sanity: the same report on both"
summary() { python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["summary"]; print(" ".join(f"{k}={s[k]}" for k in ("repositories","tags","blobs","errors","warnings","unreferencedBlobs")))' "$1"; }
$BERTH doctor --data "$BENCH_DIR/data" --format json > "$BENCH_DIR/fs.json"
$BERTH doctor --config "$BENCH_DIR/s3.yml" --format json > "$BENCH_DIR/s3.json"
echo "filesystem: $(summary "$BENCH_DIR/fs.json")"
echo "s3:         $(summary "$BENCH_DIR/s3.json")"
[ "$(summary "$BENCH_DIR/fs.json")" = "$(summary "$BENCH_DIR/s3.json")" ] || { echo "s3.sh: the reports differ" >&2; exit 1; }

echo "== S3 requests of one scan (counting proxy)"
PROXY_PORT=${PROXY_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
python3 - "$BERTH_TEST_S3_ENDPOINT" "$PROXY_PORT" "$BENCH_DIR/requests.txt" <<'PY' &
import collections, http.client, http.server, sys, threading, urllib.parse, signal
upstream = urllib.parse.urlsplit(sys.argv[1]); port = int(sys.argv[2]); out = sys.argv[3]
counts = collections.Counter(); lock = threading.Lock()
class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def forward(self):
        q = urllib.parse.urlsplit(self.path).query
        kind = self.command + (" (list objects)" if "list-type" in q else " (list uploads)" if "uploads" in q else "")
        with lock: counts[kind] += 1
        body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
        conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
        conn.request(self.command, self.path, body=body, headers={k: v for k, v in self.headers.items()})
        r = conn.getresponse(); data = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"): self.send_header(k, v)
        self.send_header("Content-Length", str(len(data))); self.end_headers()
        if self.command != "HEAD": self.wfile.write(data)
        conn.close()
    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = forward
def dump(*_):
    with open(out, "w") as f:
        for k, v in sorted(counts.items()): f.write(f"{k}\t{v}\n")
        f.write(f"total\t{sum(counts.values())}\n")
    sys.exit(0)
signal.signal(signal.SIGTERM, dump)
http.server.ThreadingHTTPServer(("127.0.0.1", port), Proxy).serve_forever()
PY
proxy_pid=$!
sleep 1
write_config "http://127.0.0.1:$PROXY_PORT" "$BENCH_DIR/s3-counted.yml"
$BERTH doctor --config "$BENCH_DIR/s3-counted.yml" --format json > "$BENCH_DIR/s3-counted.json"
kill "$proxy_pid"; wait "$proxy_pid" 2>/dev/null || true; proxy_pid=
sed 's/^/  /' "$BENCH_DIR/requests.txt"

echo "== timing ($RUNS runs each, alternating; cores $(nproc), load average $(cut -d' ' -f1-3 /proc/loadavg))"
TIMEFORMAT='%R'
fs=(); s3=()
for i in $(seq "$RUNS"); do
  fs+=("$( { time $BERTH doctor --data "$BENCH_DIR/data" --format json >/dev/null; } 2>&1 )")
  s3+=("$( { time $BERTH doctor --config "$BENCH_DIR/s3.yml" --format json >/dev/null; } 2>&1 )")
done
python3 - "${fs[*]}" "${s3[*]}" <<'PY'
import statistics, sys
fs = [float(x) for x in sys.argv[1].split()]; s3 = [float(x) for x in sys.argv[2].split()]
print(f"berth doctor --data (filesystem): median {statistics.median(fs):.2f} s  (runs: {', '.join(f'{x:.2f}' for x in fs)})")
print(f"berth doctor --config (S3, RGW):  median {statistics.median(s3):.2f} s  (runs: {', '.join(f'{x:.2f}' for x in s3)})")
print(f"ratio S3 / filesystem: {statistics.median(s3) / statistics.median(fs):.1f}x")
PY
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$BUCKET" <<'PY'
import os, sys, boto3
s3 = boto3.resource("s3", endpoint_url=os.environ["BERTH_TEST_S3_ENDPOINT"], region_name=os.environ.get("BERTH_TEST_S3_REGION", "us-east-1"),
                    aws_access_key_id=os.environ["BERTH_TEST_S3_ACCESS_KEY"], aws_secret_access_key=os.environ["BERTH_TEST_S3_SECRET_KEY"])
b = s3.Bucket(sys.argv[1]); b.objects.all().delete(); b.delete()
PY
