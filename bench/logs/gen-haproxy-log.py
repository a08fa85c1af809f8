#!/usr/bin/env python3
"""Write a synthetic HAProxy 2.x `option httplog` access log for a container registry.

    gen-haproxy-log.py OUT SIZE_MIB START_EPOCH SEED

Lines look like those of a registry load balancer that captures the Host and User-Agent request
headers (the `{...}` block the runbook's sed expression keys on), e.g.

    10.1.2.3:51234 [04/Dec/2026:19:55:55.633] fe_registry be_registry/s2 0/0/0/12/12 200 1534 - - ---- 8/8/3/1/0 0/0 {registry.example.com|docker/24.0.7} "GET /v2/group/app/manifests/latest HTTP/1.1"

About 1 % of the requests answer 500, all of them GETs of a few broken manifests, so the runbook's
`grep ' 500 ' | sed | sort | uniq -c | sort -nr | head -5` and `berth logs --status 500` must agree.
No other field is ever the bare number 500 (the runbook's grep would count it). Deterministic for a
given seed; interleaves some HAProxy notices ("Server ... is DOWN") as real logs have.
"""
import random
import sys
import time

out, size_mib, start, seed = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
rng = random.Random(seed)
target = size_mib * 1024 * 1024

groups = ["acme", "platform", "data-eng", "mobile", "someuser", "otheruser", "fakeorg", "infra", "ml", "web"]
words = ["app", "backend", "frontend", "worker", "api", "db", "cache", "image", "build", "tools", "base", "runner"]
repos = []
for i in range(2000):
    depth = rng.choice([1, 2, 2, 3, 3, 4])
    parts = [rng.choice(groups)] + [rng.choice(words) + (str(rng.randrange(50)) if rng.random() < 0.5 else "") for _ in range(depth)]
    repos.append("/".join(parts))
tags = ["latest", "main", "v1", "v1.2.3", "stable", "dev", "release-2026", "nightly"]

def digest():
    return "sha256:%064x" % rng.getrandbits(256)

# The broken manifests: distinct weights so the top five never tie.
broken = []
for i in range(40):
    ref = rng.choice(tags) if rng.random() < 0.6 else "%040x" % rng.getrandbits(160)
    broken.append("/v2/%s/manifests/%s" % (rng.choice(repos), ref))
broken_weights = [1.0 / (1.0 + i * 0.35) for i in range(len(broken))]

statuses = [200] * 820 + [201] * 30 + [202] * 40 + [204] * 5 + [206] * 5 + [307] * 10 + [401] * 30 + [404] * 40 + [400] * 5 + [500] * 10 + [502] * 3 + [503] * 2
methods_ok = ["GET"] * 6 + ["HEAD"] * 3 + ["PUT", "POST", "PATCH"]
uas = ["docker/24.0.7 go/go1.20.10 git-commit/311b9ff kernel/6.1.0 os/linux arch/amd64", "containerd/v1.7.2", "skopeo/1.9.3", "Go-http-client/1.1", "kaniko/v1.9.1"]
hosts = ["registry.example.com", "registry.example.com:443"]
months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

def path_for(method):
    r = rng.random()
    repo = rng.choice(repos)
    if method in ("PATCH", "PUT") and r < 0.7:
        return "/v2/%s/blobs/uploads/%08x-%04x-%04x-%04x-%012x" % (repo, rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(16), rng.getrandbits(16), rng.getrandbits(48))
    if method == "POST":
        return "/v2/%s/blobs/uploads/" % repo
    if r < 0.05:
        return "/v2/"
    if r < 0.45:
        return "/v2/%s/manifests/%s" % (repo, rng.choice(tags) if rng.random() < 0.7 else digest())
    if r < 0.95:
        return "/v2/%s/blobs/%s" % (repo, digest())
    if r < 0.99:
        return "/v2/%s/tags/list" % repo
    return "/v2/_catalog"

written = 0
t = start
lines = []
with open(out, "w", encoding="ascii", newline="\n") as f:
    while written < target:
        t += rng.random() * 0.004
        tm = time.gmtime(t)
        ms = int((t % 1) * 1000)
        status = rng.choice(statuses)
        if status == 500:
            method = "GET"
            path = rng.choices(broken, broken_weights)[0]
        else:
            method = rng.choice(methods_ok)
            path = path_for(method)
        size = rng.randrange(0, 40000)
        if size == 500:
            size = 501
        tr = rng.randrange(0, 300)
        line = "10.%d.%d.%d:%d [%02d/%s/%04d:%02d:%02d:%02d.%03d] fe_registry be_registry/s%d 0/0/%d/%d/%d %d %d - - ---- %d/%d/%d/%d/0 0/0 {%s|%s} \"%s %s HTTP/1.1\"\n" % (
            rng.randrange(256), rng.randrange(256), rng.randrange(1, 255), rng.randrange(1024, 65535),
            tm.tm_mday, months[tm.tm_mon - 1], tm.tm_year, tm.tm_hour, tm.tm_min, tm.tm_sec, ms,
            rng.randrange(1, 5), rng.randrange(3), tr, tr + rng.randrange(5),
            status, size, rng.randrange(1, 90), rng.randrange(1, 90), rng.randrange(1, 40), rng.randrange(1, 10),
            rng.choice(hosts), rng.choice(uas), method, path)
        if rng.random() < 0.00001:
            line += "Server be_registry/s%d is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", check duration: 0ms. 3 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.\n" % rng.randrange(1, 5)
        lines.append(line)
        written += len(line)
        if len(lines) >= 20000:
            f.write("".join(lines))
            lines.clear()
    f.write("".join(lines))
