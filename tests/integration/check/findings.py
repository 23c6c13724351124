#!/usr/bin/env python3
# findings.py - read a `zonewarden ... -o json` report on stdin and print one line per
# finding, "ID SEVERITY name type" (name/type "-" when null), sorted: the form of the
# scenarios' `expected` files. With --domain, the line starts with the domain.
# Standard library only (no jq).
import json
import sys

report = json.load(sys.stdin)
with_domain = "--domain" in sys.argv[1:]
out = []
for f in report.get("findings", []):
    cols = [f.get("id"), f.get("severity"), f.get("name") or "-", f.get("type") or "-"]
    if with_domain:
        cols.insert(0, f.get("domain") or "-")
    out.append(" ".join(cols))
for line in sorted(out):
    print(line)
