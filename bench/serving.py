"""Serving under load: examples/serving/load_test.py's measurements for the README's
"Deploying" table -- gunicorn --preload with 2 workers on 127.0.0.1, a fixed number of requests
from 8 client threads, single-row and 100-row requests, medians of --repeats runs::

    python bench/serving.py                  # ~1 min on 2 cores
    python bench/serving.py --requests 5000 --repeats 5

Needs gunicorn. Prints a markdown table (and --json, every run's raw result).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples" / "serving"))

from load_test import load_test  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rows = []
    for rows_per_request, threads in ((1, 1), (100, 1), (100, None)):
        runs = [load_test(args.requests, args.clients, rows_per_request, 2, threads, seed=r)
                for r in range(args.repeats)]
        if args.json:
            print(json.dumps(runs))
        med = {k: statistics.median(r[k] for r in runs)
               for k in ("p50_ms", "p99_ms", "requests_per_second")}
        rows.append(
            f"| {rows_per_request} | {threads or 'default'} | {med['p50_ms']:.2f} | "
            f"{med['p99_ms']:.2f} | {med['requests_per_second']:.0f} | "
            f"{sum(r['errors'] for r in runs)} | "
            f"{'yes' if all(r['identical_to_in_process'] for r in runs) else 'NO'} | "
            f"{max(g for r in runs for g in r['worker_rss_growth_mib']):.2f} |")
    print(f"gunicorn --preload, 2 workers, {args.requests} requests from {args.clients} client "
          f"threads on 127.0.0.1, medians of {args.repeats} runs\n")
    print("| rows / request | fastnn threads / worker | p50 ms | p99 ms | requests/s | errors "
          "| identical to in-process | worker RSS growth MiB (max) |")
    print("| --: | --- | --: | --: | --: | --: | --- | --: |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
