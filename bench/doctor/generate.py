#!/usr/bin/env python3
"""Generates registry storage in CNCF Distribution's layout (docker/registry/v2) directly on disk, as
Distribution itself would leave it after pushes: blob data, _layers links, manifest blobs, revision links,
tag current and index links. Healthy by construction, so `docker-registry garbage-collect` runs on it.

usage: generate.py ROOT [--repositories 2000] [--tags 5000] [--shared-layers 5] [--untagged 500] [--orphans 200]
"""
import argparse, hashlib, json, os, random, sys

def main():
    p = argparse.ArgumentParser()
    p.add_argument("root")
    p.add_argument("--repositories", type=int, default=2000)
    p.add_argument("--tags", type=int, default=5000)
    p.add_argument("--shared-layers", type=int, default=5)
    p.add_argument("--untagged", type=int, default=500, help="extra untagged manifests (older pushes)")
    p.add_argument("--orphans", type=int, default=200, help="blobs nothing references")
    a = p.parse_args()
    if a.tags < a.repositories:
        sys.exit("need at least one tag per repository")
    v2 = os.path.join(a.root, "docker", "registry", "v2")
    rnd = random.Random(42)
    written = {"files": 0, "bytes": 0}

    def write(path, content):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(content)
        written["files"] += 1
        written["bytes"] += len(content)

    def blob(content):
        d = hashlib.sha256(content).hexdigest()
        path = os.path.join(v2, "blobs", "sha256", d[:2], d, "data")
        if not os.path.exists(path):
            write(path, content)
        return "sha256:" + d

    def link(path, digest):
        write(path, digest.encode())

    def repo_dir(name):
        return os.path.join(v2, "repositories", *name.split("/"))

    def layer_link(name, digest):
        link(os.path.join(repo_dir(name), "_layers", "sha256", digest[7:], "link"), digest)

    shared = [blob(b"shared layer %d " % i + bytes(rnd.getrandbits(8) for _ in range(256))) for i in range(a.shared_layers)]

    def push(name, tag, n):
        cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Labels": {"n": str(n)}},
                          "rootfs": {"type": "layers", "diff_ids": []}}).encode()
        own = b"layer of %s:%s %d " % (name.encode(), str(tag).encode(), n) + bytes(rnd.getrandbits(8) for _ in range(64))
        layers = [shared[n % len(shared)], shared[(n + 1) % len(shared)], blob(own)]
        c = blob(cfg)
        for d in [c] + layers:
            layer_link(name, d)
        def size(d):
            return os.path.getsize(os.path.join(v2, "blobs", "sha256", d[7:9], d[7:], "data"))
        manifest = json.dumps({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": c, "size": len(cfg)},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d, "size": size(d)} for d in layers],
        }, separators=(",", ":")).encode()
        m = blob(manifest)
        link(os.path.join(repo_dir(name), "_manifests", "revisions", "sha256", m[7:], "link"), m)
        if tag is not None:
            t = os.path.join(repo_dir(name), "_manifests", "tags", tag)
            link(os.path.join(t, "index", "sha256", m[7:], "link"), m)
            link(os.path.join(t, "current", "link"), m)

    names = []
    for i in range(a.repositories):
        # Nested names of depth 1 to 4, unique; some repositories nest inside others (group3/app12 and group3/app12/sub).
        depth = i % 4
        parts = ["group%d" % (i % 40), "app%d" % i, "sub", "image"][: depth + 1] if depth else ["solo%d" % i]
        names.append("/".join(parts))
    n = 0
    for i, name in enumerate(names):
        count = a.tags // a.repositories + (1 if i < a.tags % a.repositories else 0)
        for t in range(count):
            push(name, "v%d" % t if t else "latest", n)
            n += 1
    for k in range(a.untagged):
        push(names[k % len(names)], None, n)
        n += 1
    for k in range(a.orphans):
        blob(b"orphan %d " % k + bytes(rnd.getrandbits(8) for _ in range(32)))
    print(f"generated {len(names)} repositories, {a.tags} tags, {a.untagged} untagged manifests, "
          f"{a.orphans} unreferenced blobs: {written['files']} files, {written['bytes']} bytes under {v2}")

if __name__ == "__main__":
    main()
