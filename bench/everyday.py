"""Everyday fits: scikit-learn's default estimators on small real datasets, in float64 (numpy's
default dtype, what users pass), for each solver -- and the same fit started right after a
numpy BLAS call.

Unlike the training cases (fixed epochs on synthetic float32 data), these run the estimators
exactly as a user would: ``MLPClassifier(solver=...)`` / ``MLPRegressor()`` with every other
parameter at its default (``random_state=0``), so both stop by their own ``tol`` rule; fastnn
follows scikit-learn's trajectory, so both run the same number of iterations (``n_iter_`` is
reported). Each fit comes after a pause (``COOL_DOWN_SECONDS``); fastnn and scikit-learn
alternate, and the median of the repeats is reported. PyTorch has no such defaults and is not
part of this table.

``after BLAS``: fastnn's digits fit timed after the pause ("quiet") and right after a numpy
matrix product ("after BLAS"), alternating: OpenBLAS's threads spin for a while after a call,
on the cores fastnn's threads need.
"""

from __future__ import annotations

import statistics
import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import fastnn

COOL_DOWN_SECONDS = 0.3


def datasets():
    """name -> (X, y, estimator kind), float64."""
    X_digits, y_digits = load_digits(return_X_y=True)
    X_cancer, y_cancer = load_breast_cancer(return_X_y=True)
    X_cancer = StandardScaler().fit_transform(X_cancer)  # as any user would before an MLP
    X_reg, y_reg = make_regression(20_000, 40, n_informative=30, noise=1.0, random_state=0)
    y_reg = y_reg / y_reg.std()
    return {
        "digits (1797 × 64)": (X_digits, y_digits, "classifier"),
        "breast cancer (569 × 30)": (X_cancer, y_cancer, "classifier"),
        "regression (20000 × 40)": (X_reg, y_reg, "regressor"),
    }


FITS = [  # (dataset, solver)
    ("digits (1797 × 64)", "adam"),
    ("digits (1797 × 64)", "sgd"),
    ("digits (1797 × 64)", "lbfgs"),
    ("breast cancer (569 × 30)", "adam"),
    ("breast cancer (569 × 30)", "sgd"),
    ("breast cancer (569 × 30)", "lbfgs"),
    ("regression (20000 × 40)", "adam"),
]


def _estimator(system, kind, solver, threads):
    if system == "fastnn":
        cls = fastnn.MLPClassifier if kind == "classifier" else fastnn.MLPRegressor
        return cls(solver=solver, random_state=0, n_threads=threads)
    cls = SkMLPClassifier if kind == "classifier" else SkMLPRegressor
    return cls(solver=solver, random_state=0)


def _timed_fit(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t0 = time.perf_counter()
        model.fit(X, y)
        return time.perf_counter() - t0


def bench_everyday(threads, repeats, quick, log):
    """One row per (dataset, solver): both systems' median fit time, n_iter_, score; and one
    row for fastnn's digits fit quiet vs right after a BLAS call."""
    data = datasets()
    fits = FITS[:2] if quick else FITS
    rows = []
    for name, solver in fits:
        X, y, kind = data[name]
        times, last = {"fastnn": [], "scikit-learn": []}, {}
        for rep in range(repeats):
            for system in (("fastnn", "scikit-learn") if rep % 2 == 0
                           else ("scikit-learn", "fastnn")):
                time.sleep(COOL_DOWN_SECONDS)
                model = _estimator(system, kind, solver, threads)
                with threadpool_limits(limits=threads):
                    times[system].append(_timed_fit(model, X, y))
                last[system] = model
        # (system, case: how bench/targets.py finds the row of a target)
        row = dict(dataset=name, solver=solver, kind=kind, threads=threads, system="fastnn",
                   case=f"{name} {solver}")
        for system, model in last.items():
            row[system.replace("-", "_")] = dict(seconds=statistics.median(times[system]),
                               fit_seconds=times[system], n_iter=int(model.n_iter_),
                               score=float(model.score(X, y)))
        row["speedup"] = row["scikit_learn"]["seconds"] / row["fastnn"]["seconds"]
        log(f"  {name:<26} {solver:<5}: fastnn {row['fastnn']['seconds'] * 1e3:7.1f} ms "
            f"({row['fastnn']['n_iter']} it), scikit-learn "
            f"{row['scikit_learn']['seconds'] * 1e3:7.1f} ms ({row['scikit_learn']['n_iter']} it)"
            f": {row['speedup']:.2f}x")
        rows.append(row)
    return rows, _after_blas(data, threads, repeats + 2, log)


def _after_blas(data, threads, repeats, log):
    X, y, kind = data["digits (1797 × 64)"]
    A = np.random.default_rng(0).standard_normal((400, 400))
    times = {"quiet": [], "after BLAS": []}
    for rep in range(repeats):
        for when in (("quiet", "after BLAS") if rep % 2 == 0 else ("after BLAS", "quiet")):
            time.sleep(COOL_DOWN_SECONDS + 0.2)
            if when == "after BLAS":
                A @ A  # numpy's BLAS, on all its threads
            times[when].append(_timed_fit(_estimator("fastnn", kind, "adam", threads), X, y))
    row = {when: statistics.median(t) for when, t in times.items()}
    row.update(threads=threads, fit_seconds=times, ratio=row["after BLAS"] / row["quiet"],
               system="fastnn", case="digits adam")
    log(f"  digits adam, fastnn: quiet {row['quiet'] * 1e3:.1f} ms, right after a numpy "
        f"product {row['after BLAS'] * 1e3:.1f} ms: {row['ratio']:.2f}x")
    return row
