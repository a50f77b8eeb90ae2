"""Inference: single-row ``predict`` latency and ``predict_proba`` on many rows, on models
fitted on the `small` case, in float32 and in float64 (the models fitted on the data in that
dtype; PyTorch's float32 model converted with ``.double()``)."""

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
    X_big32, _ = gaussian_blobs(n_big, case.n_features, case.n_classes, seed=SEED + 1)
    epochs = 1 if quick else 5
    rows = []
    for dtype in ("float32", "float64"):
        X_big = X_big32.astype(dtype)
        single_rows = [X[i:i + 1].astype(dtype) for i in range(1000)]
        models = {}
        for system in systems:
            if system == "PyTorch":
                models[system] = TIMERS[system](case, X, y, 1, epochs).model
                if dtype == "float64":
                    models[system] = models[system].double()
            else:
                models[system] = TIMERS[system](case, X.astype(dtype), y, 1, epochs).model
        rows += _bench_models(models, dtype, single_rows, X_big, threads_list, systems, calls,
                              quick, log)
    return rows


def _bench_models(models, dtype, single_rows, X_big, threads_list, systems, calls, quick, log):
    case = CASES["small"]
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
            log(f"  predict {dtype} {threads} thr  {system:<12}: 1 row {latency:8.1f} µs, "
                f"predict_proba {len(X_big)} rows {proba_ms:8.2f} ms")
            rows.append(dict(case=case.name, dtype=dtype, threads=threads, system=system,
                             predict_1row_us=latency, predict_proba_ms=proba_ms,
                             proba_rows=len(X_big), calls=calls))
    return rows
