#!/usr/bin/env python3
"""bench/plan-world.py OUT_DIR N - write a world of N mail domains that already hold
exactly what their manifests claim (values and ownership records), so planning them
must give 0 changes: a root, the bench. TLD, one Knot server holding every domain's zone,
and the manifests (one Provider, N MailDomains in files under 1 MiB). Stdlib only."""
import hashlib, os, sys

out, n = sys.argv[1], int(sys.argv[2])
os.makedirs(out + "/world", exist_ok=True)
os.makedirs(out + "/manifests", exist_ok=True)
W = out + "/world"

def owner(value, typ, name, oid):
    h = hashlib.sha256(value.encode()).hexdigest()
    return f'_zonewarden.{name} 300 TXT "zonewarden-owner={oid}; type={typ}; sha256={h}"'

open(W + "/root.hints", "w").write(". 3600000 NS a.root-servers.net.\na.root-servers.net. 3600000 A @NET@.1\n")
open(W + "/root.zone", "w").write(
    "$ORIGIN .\n$TTL 3600\n. SOA a.root-servers.net. h.root-servers.net. 1 1800 900 604800 86400\n"
    ". NS a.root-servers.net.\na.root-servers.net. A @NET@.1\nbench. NS ns.nic.bench.\nns.nic.bench. A @NET@.2\n")
tld = ["$ORIGIN bench.", "$TTL 3600", "@ SOA ns.nic.bench. h.nic.bench. 1 1800 900 604800 300",
       "@ NS ns.nic.bench.", "ns.nic A @NET@.2", "ns1.hosting A @NET@.10"]
zones = []
spf = "v=spf1 ip4:192.0.2.0/24 -all"
for i in range(n):
    d = f"d{i}.bench."
    tld.append(f"d{i} NS ns1.hosting.bench.")
    dmarc = f"v=DMARC1; p=reject; rua=mailto:dmarc@d{i}.bench"
    target = f"s{i}.dkim.esp.bench."
    z = [f"$ORIGIN {d}", "$TTL 300", f"@ SOA ns1.hosting.bench. h.{d} 1 7200 3600 1209600 300",
         "@ NS ns1.hosting.bench.", "@ MX 10 mx.hosting.bench.", f'@ 300 TXT "{spf}"',
         f'_dmarc 300 TXT "{dmarc}"', f"s1._domainkey 300 CNAME {target}",
         owner(spf, "TXT", d, f"d{i}-bench"), owner(dmarc, "TXT", "_dmarc." + d, f"d{i}-bench"),
         owner(target, "CNAME", "s1._domainkey." + d, f"d{i}-bench")]
    open(f"{W}/d{i}.zone", "w").write("\n".join(z) + "\n")
    zones.append(f"{d}=d{i}.zone")
open(W + "/bench.zone", "w").write("\n".join(tld) + "\n")
with open(W + "/servers", "w") as f:
    f.write("root 1 .=root.zone\ntld 2 bench.=bench.zone\n")
    f.write("hosting 10 " + " ".join(zones) + "\n")

prov = ("apiVersion: zonewarden.dev/v1alpha1\nkind: Provider\nmetadata:\n  name: hosting\nspec:\n"
        "  type: rfc2136\n  rfc2136:\n    server: \"@PRIMARY@\"\n    tsigKeyName: zw-world-key\n"
        "    tsigSecretFile: \"@SECRET@\"\n")
open(out + "/manifests/provider.yaml", "w").write(prov)
per = 1000
for f0 in range(0, n, per):
    with open(f"{out}/manifests/domains-{f0 // per:03d}.yaml", "w") as f:
        for i in range(f0, min(n, f0 + per)):
            f.write(f"---\napiVersion: zonewarden.dev/v1alpha1\nkind: MailDomain\nmetadata:\n  name: d{i}-bench\n"
                    f"spec:\n  domain: d{i}.bench\n  providerRef: hosting\n  ttl: 300\n"
                    f"  spf:\n    ip4: [192.0.2.0/24]\n    all: fail\n"
                    f"  dkim:\n    - selector: s1\n      cname: s{i}.dkim.esp.bench.\n"
                    f"  dmarc:\n    policy: reject\n    rua: [mailto:dmarc@d{i}.bench]\n")
