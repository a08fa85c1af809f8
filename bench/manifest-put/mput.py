#!/usr/bin/env python3
"""Manifest PUT load for A-B comparisons of two builds (standard library only).

    bench/manifest-put/mput.py URL REPOSITORY PREFIX N [THREADS]

Uploads a small config and layer blob into REPOSITORY, then PUTs N distinct manifests tagged
PREFIX00000, PREFIX00001, ... from THREADS (default 8) keep-alive connections, and prints PUT/s, the p50/p99
latency and the errors. Run it again with the same PREFIX to move existing tags instead of creating new ones.
With PID=<registry pid> in the environment it also prints the registry's CPU time per PUT (from /proc).
Alternate two registries (A B B A ...) on the same disk: the machine's speed drifts between runs.
"""
import hashlib
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse

if len(sys.argv) < 5:
    sys.exit(__doc__)
url, repo, prefix, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
threads = int(sys.argv[5]) if len(sys.argv) > 5 else 8
target = urllib.parse.urlparse(url)


def connect():
    return http.client.HTTPConnection(target.hostname, target.port)


def upload(conn, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    conn.request("POST", f"/v2/{repo}/blobs/uploads/")
    r = conn.getresponse()
    r.read()
    location = r.getheader("Location")
    sep = "&" if "?" in location else "?"
    conn.request("PUT", f"{location}{sep}digest={digest}", body=data, headers={"Content-Type": "application/octet-stream"})
    r = conn.getresponse()
    r.read()
    if r.status != 201:
        sys.exit(f"blob upload answered {r.status}")
    return digest


conn = connect()
config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
layer = b"layer-" + prefix.encode()
base = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": upload(conn, config), "size": len(config)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": upload(conn, layer), "size": len(layer)}],
}
latencies, errors = [], []


def work(first):
    c = connect()
    for i in range(first, n, threads):
        manifest = dict(base, annotations={"run": f"{prefix}-{i}-{time.time()}"})
        started = time.perf_counter()
        c.request("PUT", f"/v2/{repo}/manifests/{prefix}{i:05d}", body=json.dumps(manifest).encode(),
                  headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
        r = c.getresponse()
        r.read()
        latencies.append(time.perf_counter() - started)
        if r.status != 201:
            errors.append(r.status)


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().split(")")[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


pid = os.environ.get("PID")
cpu_before = cpu_seconds(pid) if pid else 0.0
started = time.time()
workers = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
for w in workers:
    w.start()
for w in workers:
    w.join()
elapsed = time.time() - started
latencies.sort()
line = (f"{n / elapsed:.0f} PUT/s  p50 {latencies[len(latencies) // 2] * 1000:.2f} ms  "
        f"p99 {latencies[int(len(latencies) * 0.99)] * 1000:.2f} ms  errors {len(errors)}")
if pid:
    cpu = cpu_seconds(pid) - cpu_before
    line += f"  registry CPU {cpu:.2f} s = {cpu / n * 1000:.3f} ms/PUT"
print(line)
sys.exit(1 if errors else 0)
