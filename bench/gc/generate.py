#!/usr/bin/env python3
"""Writes a CNCF Distribution storage tree directly (no registry involved), for bench/gc/run.sh.

  python3 generate.py ROOT [--repos 2000] [--tags 5000] [--seed 1]

Every repository gets images of a shared base layer plus one or two layers of its own; some tags
are multi-arch indexes of two images; some tags were pushed twice (the first manifest stays as an
untagged revision); some blobs were uploaded and never referenced. All data is two days old.
"""
import argparse, hashlib, json, os, random, time

p = argparse.ArgumentParser()
p.add_argument("root")
p.add_argument("--repos", type=int, default=2000)
p.add_argument("--tags", type=int, default=5000)
p.add_argument("--seed", type=int, default=1)
a = p.parse_args()
rnd = random.Random(a.seed)
v2 = os.path.join(a.root, "docker", "registry", "v2")
old = time.time() - 2 * 86400
stats = {"blobs": 0, "manifests": 0, "indexes": 0, "untagged": 0, "orphans": 0}
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"

def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)

def blob(data):
    h = hashlib.sha256(data).hexdigest()
    path = os.path.join(v2, "blobs", "sha256", h[:2], h, "data")
    if not os.path.exists(path):
        write(path, data)
        os.utime(path, (old, old))
        stats["blobs"] += 1
    return "sha256:" + h, len(data)

def link(repo, *parts, digest):
    write(os.path.join(v2, "repositories", repo, *parts, "link"), digest.encode())

def layer_link(repo, d):
    link(repo, "_layers", "sha256", d[7:], digest=d)

def desc(mt, d, n, **extra):
    return dict(mediaType=mt, digest=d, size=n, **extra)

def image(repo, base, arch):
    layers = [base] + [blob(os.urandom(rnd.randint(200, 2000))) for _ in range(rnd.randint(1, 2))]
    config = blob(json.dumps({"architecture": arch, "os": "linux", "seed": rnd.random()}).encode())
    for d, _ in layers + [config]:
        layer_link(repo, d)
    m = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                    "config": desc("application/vnd.oci.image.config.v1+json", *config),
                    "layers": [desc("application/vnd.oci.image.layer.v1.tar+gzip", *l) for l in layers]}).encode()
    d, n = blob(m)
    link(repo, "_manifests", "revisions", "sha256", d[7:], digest=d)
    stats["manifests"] += 1
    return d, n

def tagged(repo, tag, bases):
    base = rnd.choice(bases)
    if rnd.random() < 0.05:
        children = [image(repo, base, arch) for arch in ("amd64", "arm64")]
        idx = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX,
                          "manifests": [desc(OCI_MANIFEST, d, n, platform={"architecture": arch, "os": "linux"})
                                        for (d, n), arch in zip(children, ("amd64", "arm64"))]}).encode()
        d, _ = blob(idx)
        link(repo, "_manifests", "revisions", "sha256", d[7:], digest=d)
        stats["indexes"] += 1
    else:
        d, _ = image(repo, base, "amd64")
    link(repo, "_manifests", "tags", tag, "index", "sha256", d[7:], digest=d)
    link(repo, "_manifests", "tags", tag, "current", digest=d)

bases = [blob(os.urandom(4096)) for _ in range(50)]
repos = [f"group{i % 40}/project{i}/image" for i in range(a.repos)]
tags_left = a.tags
for i, repo in enumerate(repos):
    n = tags_left // (a.repos - i)
    tags_left -= n
    for t in range(n):
        tag = f"v{t}"
        if rnd.random() < 0.2:          # pushed before: the old manifest stays, untagged
            d, _ = image(repo, rnd.choice(bases), "amd64")
            link(repo, "_manifests", "tags", tag, "index", "sha256", d[7:], digest=d)
            stats["untagged"] += 1
        tagged(repo, tag, bases)
    if rnd.random() < 0.25:             # an upload nobody referenced
        d, _ = blob(os.urandom(rnd.randint(100, 1000)))
        layer_link(repo, d)
        stats["orphans"] += 1
print(f"generated {a.repos} repositories, {a.tags} tags: " + ", ".join(f"{v} {k}" for k, v in stats.items()))
