#!/usr/bin/env python3
# gen_oci.py DIR N_LAYERS MIB: an OCI image layout with N random gzip layers of MIB MiB (payloads are random, so
# nothing deduplicates and skopeo copies the layers as they are), for bench/skopeo/run.sh.
import gzip, hashlib, json, os, sys
d, n, mib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(f"{d}/blobs/sha256", exist_ok=True)
def put(b):
    h = hashlib.sha256(b).hexdigest(); open(f"{d}/blobs/sha256/{h}", "wb").write(b); return "sha256:" + h, len(b)
layers = []
for i in range(n):
    dg, sz = put(gzip.compress(os.urandom(mib << 20), compresslevel=1)); layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": dg, "size": sz})
cfg = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [l["digest"] for l in layers]}}).encode()
cdg, csz = put(cfg)
man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cdg, "size": csz}, "layers": layers}).encode()
mdg, msz = put(man)
open(f"{d}/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": mdg, "size": msz, "annotations": {"org.opencontainers.image.ref.name": "latest"}}]}, open(f"{d}/index.json", "w"))
