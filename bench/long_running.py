"""A long-running process: many predictions from many threads, then many ``partial_fit`` calls,
with resident memory, open file descriptors and threads read after warm-up and at the end::

    python bench/long_running.py                               # 10^6 predictions, 10^4 partial_fit
    python bench/long_running.py --predictions 20000 --partial-fits 1000 --json

Half the predictions are single rows (``predict``), half 64-row batches (``predict_proba``),
spread over ``--threads`` threads. Linux only (it reads /proc/self). Exit status 1 when memory
grew by more than ``--max-growth-mib`` or a descriptor or thread was left behind.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import warnings

import numpy as np

import fastnn


def rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def resources():
    return {"rss_mib": rss_mib(), "fds": len(os.listdir("/proc/self/fd")),
            "threads": len(os.listdir("/proc/self/task"))}


def run(predictions=10**6, partial_fits=10**4, threads=8):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(4096, 32))
    y = rng.randint(0, 4, 4096)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = fastnn.MLPClassifier((64, 32), max_iter=5, random_state=0).fit(X, y)
    rows = [X[i:i + 1] for i in range(256)]
    batches = [X[i:i + 64] for i in range(0, 4096, 64)]

    def predict_loop(n, start):
        for i in range(start, start + n):
            if i % 2:
                model.predict(rows[i % len(rows)])
            else:
                model.predict_proba(batches[i % len(batches)])

    def in_threads(n):
        per = n // threads
        pool = [threading.Thread(target=predict_loop, args=(per, k * per)) for k in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()

    in_threads(min(predictions, 20_000))  # warm-up: allocator pools, OpenMP threads, caches
    learner = fastnn.MLPClassifier((64, 32), random_state=0)
    for i in range(50):
        learner.partial_fit(X[i % 64 * 64:(i % 64 + 1) * 64], y[i % 64 * 64:(i % 64 + 1) * 64],
                            classes=np.arange(4))
    before = resources()
    t0 = time.perf_counter()
    in_threads(predictions)
    predict_seconds = time.perf_counter() - t0
    after_predict = resources()
    t0 = time.perf_counter()
    for i in range(partial_fits):
        s = slice(i % 64 * 64, (i % 64 + 1) * 64)
        learner.partial_fit(X[s], y[s])
    partial_fit_seconds = time.perf_counter() - t0
    after = resources()
    return {
        "predictions": predictions, "threads": threads, "partial_fits": partial_fits,
        "predictions_per_second": predictions / predict_seconds,
        "partial_fit_ms": 1e3 * partial_fit_seconds / max(partial_fits, 1),
        "before": before, "after_predictions": after_predict, "after_partial_fits": after,
        "rss_growth_mib": round(max(after_predict["rss_mib"], after["rss_mib"])
                                - before["rss_mib"], 2),
        "fd_growth": after["fds"] - before["fds"],
        "thread_growth": after["threads"] - before["threads"],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--predictions", type=int, default=10**6)
    parser.add_argument("--partial-fits", type=int, default=10**4)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--max-growth-mib", type=float, default=4.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.predictions, args.partial_fits, args.threads)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>24}: {value}")
    flat = (result["rss_growth_mib"] <= args.max_growth_mib and result["fd_growth"] <= 0
            and result["thread_growth"] <= 0)
    return 0 if flat else 1


if __name__ == "__main__":
    sys.exit(main())
