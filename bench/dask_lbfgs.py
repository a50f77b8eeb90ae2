"""fastnn.dask with solver='lbfgs': time per L-BFGS evaluation on 1 vs 2 worker processes.

One run, same data, same model: a LocalCluster of 2 worker processes (1 thread each) on this
machine; the blocks persisted on one worker, then spread over both. Each fit runs a fixed number
of L-BFGS iterations (the same trajectory everywhere); the time per iteration (a fit's time over
its iterations, median of the repeats; a fit's set-up included) gives the parallel efficiency
t1 / (2 t2). The local fit (fastnn.MLPClassifier, 1 thread) is the baseline
the cluster's overhead is measured against. The fitted models of both placements are checked to
be bitwise equal.

    python bench/dask_lbfgs.py [--rows 1000000] [--features 20] [--hidden 64] [--iter 10]
"""

import argparse
import os
import statistics
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, "python"))

import distributed  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

import fastnn  # noqa: E402
import fastnn.dask  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--features", type=int, default=20)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--iter", type=int, default=10)
    p.add_argument("--blocks", type=int, default=8)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    rng = np.random.RandomState(0)
    X = rng.normal(size=(args.rows, args.features)).astype(np.float32)
    y = np.argmax(X[:, :5] + 0.5 * rng.normal(size=(args.rows, 5)), axis=1)
    kw = dict(hidden_layer_sizes=(args.hidden,), solver="lbfgs", max_iter=args.iter,
              random_state=0)
    chunk = -(-args.rows // args.blocks)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        workers = sorted(client.scheduler_info()["workers"])
        times, models = {}, {}
        for label, placement in (("1 worker", workers[:1]), ("2 workers", workers)):
            Xp, yp = (fastnn.dask.scatter_rows(a, chunk, placement) for a in (X, y))
            times[label] = []
            for _ in range(args.repeats):
                model = fastnn.dask.MLPClassifier(**kw)
                t0 = time.perf_counter()
                model.fit(Xp, yp)
                times[label].append((time.perf_counter() - t0) / model.n_iter_)
            models[label] = model
        local_times = []
        for _ in range(args.repeats):
            local = fastnn.MLPClassifier(**kw, n_threads=1)
            t0 = time.perf_counter()
            local.fit(X, y)
            local_times.append((time.perf_counter() - t0) / local.n_iter_)
    same = all(np.array_equal(a, b) for a, b in zip(
        models["1 worker"].coefs_ + models["1 worker"].intercepts_,
        models["2 workers"].coefs_ + models["2 workers"].intercepts_))
    t_local = statistics.median(local_times)
    t1, t2 = statistics.median(times["1 worker"]), statistics.median(times["2 workers"])
    print(f"{args.rows} x {args.features} float32, hidden ({args.hidden},), {args.blocks} "
          f"blocks, {args.iter} L-BFGS iterations, medians of {args.repeats}")
    print("| run | s per iteration | vs local 1 thread | parallel efficiency |")
    print("| --- | --: | --: | --: |")
    print(f"| local fastnn.MLPClassifier, 1 thread | {t_local:.3f} | 1.00 | - |")
    print(f"| fastnn.dask, 1 worker | {t1:.3f} | {t_local / t1:.2f} | - |")
    print(f"| fastnn.dask, 2 workers | {t2:.3f} | {t_local / t2:.2f} | {t1 / (2 * t2):.0%} |")
    print(f"models of both placements bitwise equal: {same}")


if __name__ == "__main__":
    main()
