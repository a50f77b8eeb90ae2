"""GridSearchCV over fastnn: serial fits against fits run side by side by joblib.

    python bench/gridsearch_threads.py               # ~1 min on 2 cores
    python bench/gridsearch_threads.py --repeats 5 --max-iter 50

The grid: a 5000 x 64 synthetic 10-class problem (standardised float64), hidden_layer_sizes
(64,) or (128,), alpha 1e-4 or 1e-2, cv=3 (12 fits, then the refit), adam, max_iter epochs
(tol=0: every fit runs them all). Each configuration runs ``--repeats`` times, interleaved
(repeat 1 of every configuration, then repeat 2, ...), and the median wall time is reported:

- ``n_jobs=1``: fits one after the other, each on every core (n_threads=None);
- ``n_jobs=1, n_threads=1``: the same on one core (what one fit gains from the second core);
- ``n_jobs=2 threading``: two fits at once in threads (the GIL is released in the core); with
  n_threads=None each fit takes its share of the cores (fastnn counts the fits running);
- ``n_jobs=2 threading, n_threads=<cores>``: the same with every fit forced onto every core,
  the oversubscription the share avoids;
- ``n_jobs=2 loky``: two worker processes, which joblib starts with OMP_NUM_THREADS set to
  their share.

"threads per fit" is what each fit of the last repeat asked the core for (0: every core the
thread may use; not seen inside loky's processes). Every configuration must give the same
cv_results_ scores (results never depend on threads): the script checks it.
"""

import argparse
import collections
import os
import statistics
import sys
import time
import warnings

import joblib
import numpy as np
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import StandardScaler

import fastnn
from fastnn import _core, _engine

GRID = {"hidden_layer_sizes": [(64,), (128,)], "alpha": [1e-4, 1e-2]}


def _data(n_samples, n_features):
    X, y = make_classification(n_samples=n_samples, n_features=n_features, n_informative=32,
                               n_redundant=8, n_classes=10, n_clusters_per_class=1,
                               class_sep=1.5, random_state=0)
    return StandardScaler().fit_transform(X), y


def _record_threads():
    """Wrap the core's trainers so that the thread count each fit asks for is recorded."""
    seen = []
    for dtype, Trainer in list(_engine._TRAINERS.items()):
        def recording(*args, _Trainer=Trainer):
            seen.append(args[4])  # (network, n_features, batch_size, alpha, n_threads, ...)
            return _Trainer(*args)

        _engine._TRAINERS[dtype] = recording
    return seen


def _search(X, y, n_jobs, backend, n_threads, max_iter):
    est = fastnn.MLPClassifier(max_iter=max_iter, tol=0.0, random_state=0, n_threads=n_threads)
    search = GridSearchCV(est, GRID, cv=3, n_jobs=n_jobs)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with joblib.parallel_config(backend=backend):
            search.fit(X, y)
    return time.perf_counter() - start, search


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-iter", type=int, default=30)
    parser.add_argument("--samples", type=int, default=5000)
    args = parser.parse_args(argv)

    cores = _core.max_threads()
    X, y = _data(args.samples, 64)
    configs = [
        ("n_jobs=1", 1, "threading", None),
        ("n_jobs=1, n_threads=1", 1, "threading", 1),
        ("n_jobs=2 threading", 2, "threading", None),
        (f"n_jobs=2 threading, n_threads={cores}", 2, "threading", cores),
        ("n_jobs=2 loky", 2, "loky", None),
    ]
    times = collections.defaultdict(list)
    threads = {}
    scores = {}
    seen = _record_threads()
    _search(X, y, 2, "loky", None, 1)  # start loky's workers outside the timings
    for repeat in range(args.repeats):
        for name, n_jobs, backend, n_threads in configs:
            del seen[:]
            seconds, search = _search(X, y, n_jobs, backend, n_threads, args.max_iter)
            times[name].append(seconds)
            print(f"repeat {repeat + 1}: {name}: {seconds:.2f} s", file=sys.stderr)
            fits = seen[:-1]  # the last trainer is the refit's, alone in the main thread
            threads[name] = ", ".join(f"{k} x{v}" for k, v in sorted(
                collections.Counter(fits).items())) or "(in worker processes)"
            scores[name] = search.cv_results_["mean_test_score"]

    serial = statistics.median(times["n_jobs=1"])
    load = os.getloadavg()[1] if hasattr(os, "getloadavg") else float("nan")
    print(f"\nGridSearchCV(fastnn.MLPClassifier, {GRID}, cv=3): {X.shape[0]} x {X.shape[1]}, "
          f"10 classes, adam, max_iter={args.max_iter}, tol=0; {cores} cores (OpenMP limit); "
          f"median of {args.repeats}; load average over the run's last 5 min: {load:.2f} "
          f"(other processes skew the timings)\n")
    print("| configuration | wall time (s) | speed-up vs n_jobs=1 | threads per fit |")
    print("| --- | --: | --: | --- |")
    for name, *_ in configs:
        median = statistics.median(times[name])
        print(f"| {name} | {median:.2f} | {serial / median:.2f}x | {threads[name]} |")
    reference = scores["n_jobs=1"]
    same = all(np.array_equal(s, reference) for s in scores.values())
    print(f"\nsame cv_results_ scores in every configuration: {'yes' if same else 'NO'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
