#!/usr/bin/env python3
"""soak_sample.py PID PORT N CYCLES OUT [--toggle FILE DOMAIN EVERY] - the sampler of
soak.test: follows a running `zonewarden run` through zonewarden_reconcile_total on its
/metrics and takes one RSS sample (VmRSS of /proc/PID/status) per resync cycle, i.e.
each time the reconcile count passes another multiple of N (one cycle reconciles every
one of the N domains). Between two boundaries it polls every 0.1 s and keeps the cycle's
lowest and highest RSS too. With --toggle, every EVERY cycles the DMARC policy of DOMAIN
in FILE flips between reject and quarantine (a spec change: a provider write in the soak).

Writes one line per cycle to OUT: "cycle reconciles rss_kb min_kb max_kb". Exit 0 after
CYCLES samples; 2 when the controller died or a cycle made no progress for 120 s.
Stdlib only."""
import os
import re
import sys
import time
import urllib.request

pid, port, n, cycles, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
toggle = None
if len(sys.argv) > 6 and sys.argv[6] == "--toggle":
    toggle = (sys.argv[7], sys.argv[8], int(sys.argv[9]))

RECONCILE = re.compile(r'^zonewarden_reconcile_total\{[^}]*\}\s+([0-9.eE+]+)\s*$', re.M)


def reconciles():
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as r:
        text = r.read().decode()
    return int(sum(float(v) for v in RECONCILE.findall(text)))


def rss_kb():
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise OSError("no VmRSS")


def flip(path, domain):
    """reject <-> quarantine in DOMAIN's document (the line after its `domain:` line
    that says `policy:`); written to a temporary file and renamed, like an editor."""
    lines = open(path).read().split("\n")
    inside = False
    for i, line in enumerate(lines):
        if line.strip() == "domain: " + domain:
            inside = True
        elif inside and line.strip().startswith("policy:"):
            lines[i] = line.replace("reject", "QUARANTINE").replace("quarantine", "reject").replace(
                "QUARANTINE", "quarantine")
            break
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(lines))
    os.rename(tmp, path)
    return lines[i].strip()


with open(out, "w") as f:
    done = 0
    lo = hi = None
    last_progress, last_count = time.monotonic(), -1
    while done < cycles:
        try:
            count = reconciles()
            rss = rss_kb()
        except OSError as e:
            print("soak_sample: the controller is gone: %s" % e, file=sys.stderr)
            sys.exit(2)
        lo = rss if lo is None else min(lo, rss)
        hi = rss if hi is None else max(hi, rss)
        if count != last_count:
            last_progress, last_count = time.monotonic(), count
        elif time.monotonic() - last_progress > 120:
            print("soak_sample: no reconcile for 120 s (at %d)" % count, file=sys.stderr)
            sys.exit(2)
        if count >= (done + 1) * n:
            done += 1
            f.write("%d %d %d %d %d\n" % (done, count, rss, lo, hi))
            f.flush()
            lo = hi = None
            if toggle and done % toggle[2] == 0 and done < cycles:
                print("  cycle %d: %s now %s" % (done, toggle[1], flip(toggle[0], toggle[1])))
            continue
        time.sleep(0.1)
