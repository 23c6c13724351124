#!/usr/bin/env python3
"""prism_replay.py - replay the requests the C client sent to the fake Cloudflare against
Prism (npm @stoplight/prism-cli) serving the same schema: a second, independent opinion on
their conformance. Prism is stateless; it answers 422 with an `sl-violations` header for a
request that breaks the schema (entries whose location starts with "request"); violations
located in "response" are Prism's own canned examples breaking the schema, not ours.

usage: prism_replay.py PRISM_URL REQUESTS.jsonl
Prints one line per non-conformant request and a summary "prism: N requests, N conformant,
N non-conformant"; exits 1 when any is non-conformant or Prism cannot be reached."""
import json
import sys
import urllib.error
import urllib.request

base = sys.argv[1].rstrip("/")
reqs = [json.loads(line) for line in open(sys.argv[2]) if line.strip()]
bad = 0
seen = set()
for r in reqs:
    key = (r["method"], r["path"], r["body"])
    if key in seen:
        continue
    seen.add(key)
    headers = {"Authorization": "Bearer replayed-token"}
    if r.get("content_type"):
        headers["Content-Type"] = r["content_type"]
    data = r["body"].encode() if r["body"] else None
    req = urllib.request.Request(base + r["path"], data=data, method=r["method"], headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            status, viol = resp.status, resp.headers.get("sl-violations")
    except urllib.error.HTTPError as e:
        status, viol = e.code, e.headers.get("sl-violations")
    except OSError as e:
        print(f"prism: cannot reach {base}: {e}")
        sys.exit(1)
    req_viol = []
    if viol:
        try:
            req_viol = [v["message"] for v in json.loads(viol[viol.find("["):]) if v["location"][0] == "request"]
        except ValueError:
            req_viol = ["(prism truncated the list: 'Too many violations!')"] if "request" in viol else []
    if status == 422 or req_viol:
        bad += 1
        print(f"NON-CONFORMANT {status} {r['method']} {r['path']} {r['body'][:200]} {req_viol[:3]}")
print(f"prism: {len(seen)} requests, {len(seen) - bad} conformant, {bad} non-conformant")
sys.exit(1 if bad else 0)
