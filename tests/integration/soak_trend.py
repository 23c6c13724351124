#!/usr/bin/env python3
"""soak_trend.py SAMPLES WINDOW LIMIT_PCT - the verdict of soak.test on the RSS samples
soak_sample.py wrote ("cycle reconciles rss_kb min_kb max_kb", one line per resync cycle).

Growth over the window = the slope of the last WINDOW per-cycle samples times WINDOW, the
slope being Theil-Sen's (the median of the slopes between every two samples). Pass when
it is under LIMIT_PCT % of the window's median. Not least squares: a cycle that runs into
the next resync has no idle moment, so its floor is an upward outlier of ~20 MB, and one
such outlier near either end of the window moved a least-squares growth by +-10 %; the
median slope ignores up to ~29 % of outliers. The least-squares figure is printed too. The fit is done on
two series and both must pass: each cycle's lowest RSS (the floor: what is kept between
cycles once the workers hand freed memory back) and each cycle's highest (the peak), both
from the polls between two boundaries; a leak lifts both. The RSS at the boundary itself
is printed, not judged: it lands before or after the workers' trim at random.
Prints a summary and exits 0 (pass) or 1 (growth). Stdlib only."""
import statistics
import sys

path, window, limit = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
rows = [list(map(int, line.split())) for line in open(path) if line.strip()]
if len(rows) < window:
    print("soak_trend: %d samples, fewer than the window of %d" % (len(rows), window))
    sys.exit(1)


def least_squares(ys):
    n = len(ys)
    mx, my = (n - 1) / 2, sum(ys) / n
    return sum((x - mx) * (y - my) for x, y in enumerate(ys)) / sum((x - mx) ** 2 for x in range(n))


def theil_sen(ys):
    return statistics.median((ys[j] - ys[i]) / (j - i) for i in range(len(ys)) for j in range(i + 1, len(ys)))


def mb(kb):
    return "%.1f" % (kb / 1024)


for col, name in ((2, "at the boundary"), (3, "floor"), (4, "peak")):
    v = [r[col] for r in rows]
    print("  RSS %-15s (MB) first %s, min %s, median %s, max %s, last %s" %
          (name, mb(v[0]), mb(min(v)), mb(statistics.median(v)), mb(max(v)), mb(v[-1])))
print("  per cycle, floor/peak (MB): " + " ".join("%s/%s" % (mb(r[3]), mb(r[4])) for r in rows))
verdict = 0
for col, name in ((3, "floor RSS"), (4, "peak RSS")):
    ys = [r[col] for r in rows[-window:]]
    slope = theil_sen(ys)
    g = slope * window
    med = statistics.median(ys)
    pct = 100.0 * g / med
    ok = pct < limit
    verdict |= not ok
    print("  %-9s last %d cycles: median %s MB, slope %+.1f KB/cycle, growth %+.0f KB = %+.2f %% of the median "
          "(limit %.1f %%; least squares: %+.2f %%): %s" % (name, window, mb(med), slope, g, pct, limit,
                                                            100.0 * least_squares(ys) * window / med,
                                                            "flat" if ok else "GROWING"))
sys.exit(verdict)
