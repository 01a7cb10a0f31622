#!/usr/bin/env python3
"""summary.py RESULT.json...: one line per hyperfine result: median, spread (min-max), mean +- sd, CPU time."""
import json, statistics, sys

for path in sys.argv[1:]:
    for r in json.load(open(path))["results"]:
        t = sorted(x * 1000 for x in r["times"])
        q1, q3 = t[len(t) // 4], t[(3 * len(t)) // 4]
        print(f"{r['command'][:60]:60s} n={len(t):3d} median {statistics.median(t):8.1f} ms"
              f"  IQR {q1:.1f}-{q3:.1f}  min-max {t[0]:.1f}-{t[-1]:.1f}"
              f"  user+sys {1000 * (r['user'] + r['system']):.0f} ms")
