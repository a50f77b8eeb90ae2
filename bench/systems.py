"""The three systems and the training benchmark: one timed fit each of fastnn, scikit-learn and
PyTorch (CPU eager), and ``bench_case``, which interleaves them over the repeats.

PyTorch is optional: without it ``torch`` is None and ``available_systems`` leaves it out.
"""

from __future__ import annotations

import dataclasses
import functools
import statistics
import time
from dataclasses import dataclass, field

import numpy as np
from cases import ALPHA, CASES, SEED, fit_quietly, sklearn_api_model
from threadpoolctl import threadpool_limits

try:
    import torch
except ImportError:  # the PyTorch column is skipped, with a note
    torch = None

SYSTEMS = ("fastnn", "scikit-learn", "PyTorch")
PEERS = SYSTEMS[1:]


@dataclass
class Run:
    seconds: float  # wall time of the whole fit (all epochs)
    accuracy: float  # training accuracy after the fit (subset accuracy when multilabel)
    model: object = field(repr=False)


def time_sklearn_api(system, case, X, y, threads, epochs):
    """fastnn or scikit-learn (whose products run in numpy's BLAS, hence the limit for both)."""
    model = sklearn_api_model(system, case, epochs, threads)
    with threadpool_limits(limits=threads):
        t0 = time.perf_counter()
        fit_quietly(model, X, y)
        seconds = time.perf_counter() - t0
        return Run(seconds, float(model.score(X, y)), model)


def glorot_uniform_layers(case, seed=SEED):
    """Initial (coef, intercept) per layer, drawn exactly as scikit-learn draws them."""
    rs = np.random.RandomState(seed)
    factor = 2.0 if case.activation == "logistic" else 6.0
    layers = []
    units = case.layer_units
    for fan_in, fan_out in zip(units[:-1], units[1:]):
        bound = np.sqrt(factor / (fan_in + fan_out))
        coef = rs.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32)
        intercept = rs.uniform(-bound, bound, fan_out).astype(np.float32)
        layers.append((coef, intercept))
    return layers


def build_torch_mlp(case):
    """Linear + the case's activation layers with scikit-learn's initial weights; outputs are
    logits (softmax / sigmoid live in the loss)."""
    act = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "logistic": torch.nn.Sigmoid,
           "elu": torch.nn.ELU, "softplus": torch.nn.Softplus, "silu": torch.nn.SiLU,
           "gelu": torch.nn.GELU}[case.activation]  # GELU(): the exact, erf-based one
    modules = []
    for coef, intercept in glorot_uniform_layers(case):
        linear = torch.nn.Linear(*coef.shape)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(coef.T.copy()))
            linear.bias.copy_(torch.from_numpy(intercept))
        modules += [linear, act()]
    return torch.nn.Sequential(*modules[:-1])


def torch_accuracy(case, model, Xt, y):
    with torch.no_grad():
        logits = model(Xt).numpy()
    if case.multilabel:
        return float(np.mean(np.all((logits > 0) == (y == 1), axis=1)))
    return float(np.mean(logits.argmax(axis=1) == y))


def time_torch(case, X, y, threads, epochs):
    """The same training in PyTorch eager mode: shuffled mini-batches, Adam (or plain SGD),
    cross-entropy (or BCE-with-logits summed over outputs) + scikit-learn's L2 term
    0.5 * alpha * sum(W**2) / batch_rows on the weights (not the biases)."""
    torch.set_num_threads(threads)
    with threadpool_limits(limits=threads):
        t0 = time.perf_counter()
        Xt = torch.from_numpy(X)  # no copy
        if case.multilabel:
            yt = torch.from_numpy(y.astype(np.float32))
            data_loss = torch.nn.BCEWithLogitsLoss(reduction="sum")  # / rows below
        else:
            yt = torch.from_numpy(y.astype(np.int64))
            data_loss = torch.nn.CrossEntropyLoss()  # mean over rows
        model = build_torch_mlp(case)
        weights = [m.weight for m in model if isinstance(m, torch.nn.Linear)]
        if case.solver == "sgd":
            opt = torch.optim.SGD(model.parameters(), lr=case.sgd_lr, momentum=0.0)
        else:
            opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
        gen = torch.Generator().manual_seed(SEED)
        n = Xt.shape[0]
        for _ in range(epochs):
            perm = torch.randperm(n, generator=gen)
            for start in range(0, n, case.batch_size):
                idx = perm[start:start + case.batch_size]
                xb, yb = Xt[idx], yt[idx]
                rows = xb.shape[0]
                loss = data_loss(model(xb), yb)
                if case.multilabel:
                    loss = loss / rows
                loss = loss + 0.5 * ALPHA * sum((w * w).sum() for w in weights) / rows
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
        seconds = time.perf_counter() - t0
    return Run(seconds, torch_accuracy(case, model, Xt, y), model)


TIMERS = {"fastnn": functools.partial(time_sklearn_api, "fastnn"),
          "scikit-learn": functools.partial(time_sklearn_api, "scikit-learn"),
          "PyTorch": time_torch}


def rows_by_key(rows):
    """Training rows keyed by (case, threads, system)."""
    return {(r["case"], r["threads"], r["system"]): r for r in rows}


def available_systems():
    return [s for s in SYSTEMS if s != "PyTorch" or torch is not None]


def warm_up(systems, threads_list):
    """Spin up thread pools and lazy initialisation once, outside any timing."""
    case = dataclasses.replace(CASES["small"], n_samples=1000, epochs=1)
    X, y = case.data()
    for threads in threads_list:
        for system in systems:
            TIMERS[system](case, X, y, threads, 1)


COOL_DOWN_SECONDS = 0.5


def bench_case(case, threads_list, repeats, systems, log):
    """Interleaved timing of all systems; one row per (threads, system)."""
    X, y = case.data()
    systems = [s for s in systems if case.runs_on(s)]
    rows = []
    for threads in threads_list:
        times = {s: [] for s in systems}
        last = {}
        for rep in range(repeats):
            # rotate the order too, so no system always runs first (or right after another)
            order = systems[rep % len(systems):] + systems[:rep % len(systems)]
            for system in order:
                # Let the previous system's thread pool go idle first: OpenBLAS and OpenMP
                # workers keep spinning for a while after a call and would tax whoever runs next.
                time.sleep(COOL_DOWN_SECONDS)
                run = TIMERS[system](case, X, y, threads, case.epochs_of(system))
                times[system].append(run.seconds)
                last[system] = run
                log(f"  {case.name:<10} {threads} thr  {system:<12} rep {rep + 1}/{repeats}: "
                    f"{run.seconds:8.3f} s  acc {run.accuracy:.3f}")
        for system in systems:
            epochs = case.epochs_of(system)
            sec_epoch = statistics.median(times[system]) / epochs
            rows.append(dict(
                case=case.name, threads=threads, system=system, epochs=epochs,
                n_samples=case.n_samples, batch_size=case.batch_size,
                fit_seconds=times[system], seconds_per_epoch=sec_epoch,
                min_seconds_per_epoch=min(times[system]) / epochs,
                samples_per_s=case.n_samples / sec_epoch,
                gflops=case.flops_per_epoch / sec_epoch / 1e9,
                accuracy=last[system].accuracy,
            ))
    return rows
