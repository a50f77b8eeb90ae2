"""The GEMM ceiling: what a float32 matrix product reaches on this machine, measured in the
same run as the training (at its start and at its end, the higher kept)."""

import time

import numpy as np
from cases import SEED
from threadpoolctl import threadpool_limits

import fastnn._core


def gemm_ceilings(threads_list, quick):
    """GFLOP/s of float32 1024^3 products: fastnn's Eigen ceiling (one single-threaded product
    per thread, team total; max of 3 calls) and numpy's `@` under threadpool_limits(n)."""
    m = k = n = 512 if quick else 1024
    repeats = 5 if quick else 20
    rng = np.random.default_rng(SEED)
    A = rng.standard_normal((m, k), dtype=np.float32)
    B = rng.standard_normal((k, n), dtype=np.float32)
    out = {}
    for threads in threads_list:
        eigen = max(fastnn._core.gemm_gflops(m, k, n, threads, repeats, "float32")
                    for _ in range(3))
        numpy_best = 0.0
        with threadpool_limits(limits=threads):
            A @ B  # warm-up
            for _ in range(3):
                t0 = time.perf_counter()
                for _ in range(repeats):
                    A @ B
                numpy_best = max(numpy_best, 2.0 * m * k * n * repeats
                                 / (time.perf_counter() - t0) / 1e9)
        out[threads] = {"eigen": eigen, "numpy": numpy_best}
    return {"shape": [m, k, n], "repeats": repeats, "calls": 3, "gflops": out}


def combine_ceilings(first, second):
    """Ceilings measured at the start and the end of the run: the higher of each is kept (a
    ceiling is only ever underestimated by other load)."""
    gflops = {t: {k: max(first["gflops"][t][k], second["gflops"][t][k]) for k in ("eigen", "numpy")}
              for t in first["gflops"]}
    return dict(first, gflops=gflops, start=first["gflops"], end=second["gflops"])


def fraction_of_ceiling(row, gflops_by_threads):
    """A training row's GFLOP/s over the Eigen ceiling at its thread count (None: not measured).
    Above 1 is a FLOP-counting bug, never a result (report.rows_above_ceiling flags it)."""
    ceiling = gflops_by_threads.get(row["threads"])
    return None if ceiling is None else row["gflops"] / ceiling["eigen"]
