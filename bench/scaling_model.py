"""A model of fastnn's speed-up on 2 to 64 threads, for every benchmark case, from what this machine
measures (issue 15: "show it without a big machine")::

    python bench/scaling_model.py              # ~2 min on 2 cores
    python bench/scaling_model.py --quick      # smoke run
    python bench/scaling_model.py --out bench/results   # scaling_model.{md,json}

What is measured here, per case (float32, the case's network and batch size):

- E1: seconds a mini-batch takes in a 1-thread fit (an epoch over a few dozen batches / batches);
- G1: seconds the core's full-batch loss and gradient of one batch takes on 1 thread (every
  phase of a mini-batch but the optimizer's update);
  (E1 and E2 from a 3-epoch fit less a 1-epoch fit: the fit's fixed costs cancel)
- U = E1 - G1: the update and the between-batch work;
- b2: seconds one OpenMP barrier of 2 threads takes (_core.barrier_seconds);
- E2: seconds a mini-batch takes in a 2-thread fit, to check the model where it can be checked.

The work items of each phase come from the core's own plan (_core.plan_memory): chunk mode's row
chunks and parameter slices, item mode's row items and gradient tiles (with the tiles' cost
estimates, shared out as the core shares them), column mode's column blocks.

The model, per mini-batch on p threads:

    T(p) = sum over phases of (1-thread phase time x largest share of a thread) + barriers x b(p)

- chunk mode: phase 1 = G1 over the row chunks (equal), phase 2 = U over the parameter slices;
  2 barriers;
- item mode: the products of G1 split by their multiply-adds: forward and backward products (the
  row items, equal rows; weight packing counted with them) and weight-gradient products (the
  tiles, shared by their cost estimates) plus U (the update is done by the tiles); 3 barriers;
- column mode: G1 split layer by layer by multiply-adds, each layer's forward and backward over
  its column blocks and the weight gradients over all tiles, U over the slices; a barrier after
  every layer's phase;
- a case below the core's 200k multiply-adds a batch runs on one thread: speed-up 1.

Assumptions (written down because a big machine would test them): every core runs a work item as
fast as this machine's one core does (no shared-cache or memory-bandwidth limit: optimistic for
the memory-bound optimizer update and for weights shared by many cores); a barrier of p threads
costs b2 * log2(p) (a tree barrier; libgomp's is centralised and may cost more); threads do not
migrate and nothing else runs. The predictions are upper bounds of what the partition allows,
not measurements.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cases import CASES, fit_quietly, sklearn_api_model  # noqa: E402

THREADS = (2, 4, 8, 16, 32, 64)
MIN_PARALLEL_MACS = 2.0e5  # cpp/src/trainer.cpp kMinParallelMacs


def largest_share(costs, p):
    """The largest cost a thread gets when items with `costs` are cut into p contiguous ranges of
    about equal cost, as the core's share_of_items (cpp/fastnn/parallel.hpp) cuts them."""
    cum = np.concatenate([[0.0], np.cumsum(costs)])
    total = cum[-1]
    bounds = [0] + [int(np.searchsorted(cum[:-1], total * t / p, side="left")) for t in
                    range(1, p)] + [len(costs)]
    return max(cum[b] - cum[a] for a, b in zip(bounds, bounds[1:])) / total


def static_share(n_items, p):
    """The largest fraction of n equal items a thread gets under OpenMP's static schedule."""
    return math.ceil(n_items / p) / n_items


def phases(plan, units, g1, u):
    """[(phase time on 1 thread, item costs)] and the barriers a mini-batch, for the plan."""
    weights = [a * b for a, b in zip(units[:-1], units[1:])]
    forward, backward, gradient = sum(weights), sum(weights[1:]), sum(weights)
    products = forward + backward + gradient
    if plan["item_mode"]:
        tile_costs = np.diff(plan["tile_cost"])
        return [(g1 * (forward + backward) / products, [1.0] * plan["row_items"]),
                (g1 * gradient / products + u, list(tile_costs))], 3
    if plan["column_mode"]:
        out = []
        for layer, blocks in enumerate(plan["column_blocks"]):
            share = weights[layer] / products
            out.append((g1 * share, [c1 - c0 for c0, c1 in blocks]))  # forward
            if layer > 0:
                out.append((g1 * share, [c1 - c0 for c0, c1 in plan["column_blocks"][layer - 1]]))
        tiles = [c1 - c0 for blocks in plan["column_blocks"] for c0, c1 in blocks]
        out.append((g1 * gradient / products, tiles))
        out.append((u, [1.0] * plan["n_slices"]))
        return out, len(out) + 1
    return [(g1, [1.0] * plan["n_chunk_workspaces"]), (u, [1.0] * plan["n_slices"])], 2


def predict_seconds(phase_list, n_barriers, b2, p):
    if p == 1:
        return sum(t for t, _ in phase_list)
    return (sum(t * largest_share(costs, p) for t, costs in phase_list)
            + n_barriers * b2 * math.log2(p))


def batch_seconds(case, X, y, threads, repeats):
    """Median seconds a mini-batch takes in a fit of `case` on X, y with `threads` threads: a
    3-epoch fit less a 1-epoch fit, so that the fit's fixed costs (validation, set-up) cancel."""
    n_batches = math.ceil(len(X) / case.batch_size)
    times = []
    for _ in range(repeats):
        fit = []
        for epochs in (1, 3):
            model = sklearn_api_model("fastnn", case, epochs, threads)
            start = time.perf_counter()
            fit_quietly(model, X, y)
            fit.append(time.perf_counter() - start)
        times.append((fit[1] - fit[0]) / (2 * n_batches))
    return statistics.median(times)


def gradient_seconds(case, units, X, y, repeats):
    """Median seconds of the core's full-batch loss and gradient of one batch, on 1 thread."""
    from fastnn import _core

    output = "logistic" if case.multilabel else "softmax"
    net = _core.Network(units, case.activation, output,
                        "binary_log_loss" if case.multilabel else "log_loss")
    trainer = _core.Trainer32(net, units[0], case.batch_size, 1e-4, 1)
    rng = np.random.default_rng(0)
    params = (rng.standard_normal(net.n_params) * 0.05).astype(np.float32)
    grad = np.empty_like(params)
    Xb = np.ascontiguousarray(X[: case.batch_size])
    Y = np.zeros((len(Xb), units[-1]), np.float32)
    Y[np.arange(len(Xb)), y[: len(Xb)] % units[-1]] = 1
    times = []
    for _ in range(max(repeats, 5)):
        start = time.perf_counter()
        trainer.loss_and_gradient(params, Xb, Y, None, grad)
        times.append(time.perf_counter() - start)
    return statistics.median(times), net


def model_case(case, quick, repeats, b2):
    from fastnn import _core

    units = case.layer_units
    n_batches = 4 if case.name == "wide" else (8 if quick else 40)
    n = min(case.n_samples, n_batches * case.batch_size)
    X, y = case.data()
    if case.multilabel:
        return dict(case=case.name, mode="one thread (batch below 200k multiply-adds)",
                    items="-", measured_2=None, predicted={p: 1.0 for p in THREADS},
                    adjusted={p: 1.0 for p in THREADS})
    X, y = X[:n], y[:n]
    macs = sum(a * b for a, b in zip(units[:-1], units[1:])) * case.batch_size
    batch_seconds(case, X[: 4 * case.batch_size], y[: 4 * case.batch_size], 2, 1)  # warm-up
    e1 = batch_seconds(case, X, y, 1, repeats)
    e2 = batch_seconds(case, X, y, 2, repeats)
    g1, net = gradient_seconds(case, units, X, y, repeats)
    plan = _core.plan_memory(net, case.batch_size, n_threads=64)
    u = max(e1 - g1, 0.0)
    phase_list, n_barriers = phases(plan, units, g1, u)
    t1 = predict_seconds(phase_list, n_barriers, b2, 1)
    if macs < MIN_PARALLEL_MACS:
        predicted = adjusted = {p: 1.0 for p in THREADS}
    else:
        model_seconds = {p: predict_seconds(phase_list, n_barriers, b2, p) for p in THREADS}
        predicted = {p: t1 / model_seconds[p] for p in THREADS}
        # What 2 threads lose here beyond the model (shared caches, the master's bookkeeping),
        # kept as a fixed cost a batch at every thread count.
        lost = max(e2 - model_seconds[2] * e1 / t1, 0.0)
        adjusted = {p: e1 / (model_seconds[p] * e1 / t1 + lost) for p in THREADS}
    if plan["item_mode"]:
        mode, items = "item", f"{plan['row_items']} row items, {len(plan['tiles'])} tiles"
    elif plan["column_mode"]:
        blocks = [len(b) for b in plan["column_blocks"]]
        mode, items = "column", f"column blocks {blocks}, {plan['n_slices']} slices"
    else:
        mode = "chunk"
        items = f"{plan['n_chunk_workspaces']} row chunks, {plan['n_slices']} slices"
    return dict(case=case.name, mode=mode, items=items, e1_ms=e1 * 1e3, e2_ms=e2 * 1e3,
                g1_ms=g1 * 1e3, measured_2=e1 / e2, predicted=predicted, adjusted=adjusted)


def table(rows, b2):
    lines = [
        f"Barrier of 2 threads here: {b2 * 1e6:.2f} us; modelled as b2 * log2(p). Each cell: the "
        "model's speed-up over 1 thread / the same with what 2 threads lose here beyond the "
        "model kept as a fixed cost a batch.",
        "",
        "| case | mode | work items | 1 thread, ms a batch | measured on 2 | "
        + " | ".join(f"{p} threads" for p in THREADS) + " |",
        "| --- | --- | --- | --: | --: | " + " | ".join("--:" for _ in THREADS) + " |",
    ]
    for r in rows:
        measured = f"{r['measured_2']:.2f}x" if r["measured_2"] else "-"
        e1 = f"{r['e1_ms']:.2f}" if "e1_ms" in r else "-"
        cells = " | ".join(f"{r['predicted'][p]:.1f}x / {r['adjusted'][p]:.1f}x" for p in THREADS)
        lines.append(f"| {r['case']} | {r['mode']} | {r['items']} | {e1} | {measured} | {cells} |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer batches and repeats")
    p.add_argument("--cases", default=",".join(CASES))
    p.add_argument("--out", default=None, help="folder for scaling_model.{md,json}")
    args = p.parse_args(argv)
    from fastnn import _core

    warnings.simplefilter("ignore")
    repeats = 1 if args.quick else 3
    b2 = statistics.median(_core.barrier_seconds(2, 20000) for _ in range(5))
    rows = []
    for name in args.cases.split(","):
        case = dataclasses.replace(CASES[name], epochs=1)
        rows.append(model_case(case, args.quick, repeats, b2))
        print(f"{name}: done", file=sys.stderr, flush=True)
    text = table(rows, b2)
    print(text)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "scaling_model.md").write_text(text + "\n")
        (out / "scaling_model.json").write_text(json.dumps(dict(b2=b2, rows=rows), indent=1))


if __name__ == "__main__":
    main()
