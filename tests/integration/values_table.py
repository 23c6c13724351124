#!/usr/bin/env python3
# values_table.py - the values table of charts/zonewarden/README.md, generated from the
# "# --" comments of values.yaml (helm.test checks the README holds exactly this table).
# Usage: python3 tests/integration/values_table.py charts/zonewarden/values.yaml
import re, sys, yaml
src = sys.argv[1] if len(sys.argv) > 1 else 'charts/zonewarden/values.yaml'
lines = open(src).read().split('\n')
vals = yaml.safe_load(open(src))
rows, stack, comment = [], [], []
for l in lines:
    s = l.strip()
    if s.startswith('#'):
        c = s.lstrip('#').strip()
        if c.startswith('--'):
            comment = [c[2:].strip()]
        elif comment:
            comment.append(c)
        continue
    m = re.match(r'^( *)([A-Za-z][A-Za-z0-9]*):(.*)$', l)
    if not m:
        continue
    stack = stack[:len(m.group(1)) // 2] + [m.group(2)]
    if comment:
        v = vals
        for k in stack:
            v = v[k]
        d = yaml.safe_dump(v, default_flow_style=True, width=1000).strip()
        if d.endswith('...'):
            d = d[:-3].strip()
        if len(d) > 60:
            d = '(see values.yaml)'
        rows.append(('.'.join(stack), d, ' '.join(comment)))
        comment = []
print('| key | default | description |')
print('|---|---|---|')
for p, d, c in rows:
    print('| `%s` | `%s` | %s |' % (p, d.replace('|', '\\|'), c.replace('|', '\\|')))
