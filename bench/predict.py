"""Inference: single-row ``predict`` latency and ``predict_proba`` on many rows, on models
fitted on the `small` case."""

import statistics
import time

from cases import CASES, SEED, gaussian_blobs
from systems import TIMERS, torch
from threadpoolctl import threadpool_limits


def _median_us(fn, inputs, calls):
    for x in inputs[:50]:
        fn(x)  # warm-up
    samples = []
    for i in range(calls):
        x = inputs[i % len(inputs)]
        t0 = time.perf_counter_ns()
        fn(x)
        samples.append(time.perf_counter_ns() - t0)
    return statistics.median(samples) / 1000.0


def _torch_predict(model, x):
    with torch.no_grad():
        return model(torch.from_numpy(x)).argmax(dim=1).numpy()


def _torch_proba(model, x):
    with torch.no_grad():
        return torch.softmax(model(torch.from_numpy(x)), dim=1).numpy()


def bench_predict(threads_list, systems, quick, log):
    """Single-row predict latency (median, µs) and predict_proba on many rows (median, ms),
    on models fitted on the `small` case."""
    case = CASES["small"]
    X, y = case.data()
    calls = 200 if quick else 2000
    n_big = 10_000 if quick else 100_000
    X_big, _ = gaussian_blobs(n_big, case.n_features, case.n_classes, seed=SEED + 1)
    single_rows = [X[i:i + 1] for i in range(1000)]
    epochs = 1 if quick else 5
    models = {s: TIMERS[s](case, X, y, 1, epochs).model for s in systems}

    rows = []
    for threads in threads_list:
        for system in systems:
            model = models[system]
            if system == "PyTorch":
                torch.set_num_threads(threads)
                predict = lambda x, m=model: _torch_predict(m, x)  # noqa: E731
                proba = lambda x, m=model: _torch_proba(m, x)  # noqa: E731
            else:
                if system == "fastnn":
                    model.set_params(n_threads=threads)
                predict, proba = model.predict, model.predict_proba
            with threadpool_limits(limits=threads):
                latency = _median_us(predict, single_rows, calls)
                proba_ms = _median_us(proba, [X_big], 3 if quick else 7) / 1000.0
            log(f"  predict {threads} thr  {system:<12}: 1 row {latency:8.1f} µs, "
                f"predict_proba {n_big} rows {proba_ms:8.2f} ms")
            rows.append(dict(case=case.name, threads=threads, system=system,
                             predict_1row_us=latency, predict_proba_ms=proba_ms,
                             proba_rows=n_big, calls=calls))
    return rows
