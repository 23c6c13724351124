#!/usr/bin/env python3
"""soak_trend.py SAMPLES WINDOW LIMIT_PCT - the verdict of soak.test on the RSS samples
soak_sample.py wrote ("cycle reconciles rss_kb min_kb max_kb", one line per resync cycle).

Growth over the window = the least-squares slope of the last WINDOW per-cycle samples,
times WINDOW. Pass when it is under LIMIT_PCT % of the window's median. The fit is done on
two series and both must pass: the RSS at each cycle's boundary (the sample taken when
the cycle's last reconcile is counted) and each cycle's highest RSS (the polls between
two boundaries), because a leak lifts both while the allocator's noise moves them apart.
Prints a summary and exits 0 (pass) or 1 (growth). Stdlib only."""
import statistics
import sys

path, window, limit = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
rows = [list(map(int, line.split())) for line in open(path) if line.strip()]
if len(rows) < window:
    print("soak_trend: %d samples, fewer than the window of %d" % (len(rows), window))
    sys.exit(1)


def growth(ys):
    n = len(ys)
    mx, my = (n - 1) / 2, sum(ys) / n
    slope = sum((x - mx) * (y - my) for x, y in enumerate(ys)) / sum((x - mx) ** 2 for x in range(n))
    return slope, slope * n


def mb(kb):
    return "%.1f" % (kb / 1024)


allrss = [r[2] for r in rows]
print("  %d cycles, RSS at each boundary (MB): first %s, min %s, median %s, max %s, last %s" %
      (len(rows), mb(allrss[0]), mb(min(allrss)), mb(statistics.median(allrss)), mb(max(allrss)), mb(allrss[-1])))
print("  per cycle (MB): " + " ".join(mb(v) for v in allrss))
verdict = 0
for col, name in ((2, "boundary RSS"), (4, "cycle's peak RSS")):
    ys = [r[col] for r in rows[-window:]]
    slope, g = growth(ys)
    med = statistics.median(ys)
    pct = 100.0 * g / med
    ok = pct < limit
    verdict |= not ok
    print("  %-17s last %d cycles: median %s MB, slope %+.1f KB/cycle, growth %+.0f KB = %+.2f %% of the median "
          "(limit %.1f %%): %s" % (name, window, mb(med), slope, g, pct, limit, "flat" if ok else "GROWING"))
sys.exit(verdict)
