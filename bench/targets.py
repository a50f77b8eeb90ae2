"""The targets fastnn must reach: one table of data (TARGETS), judged by one loop.

A target names the case it is judged on, the thread count (None: every thread count the run
measured), the kind of comparison, the threshold and the text shown. The kind (KINDS) says
which of the run's tables it reads (training, predict or memory), what value it computes from
fastnn's row there, and whether that value must be at least or at most the threshold. A target
whose case or thread count the run did not measure is left out. For the ``everyday`` table
(bench/everyday.py) the case is the fit's "dataset solver"; for the ``after BLAS`` table it is
"digits adam".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ceiling import fraction_of_ceiling
from systems import PEERS, rows_by_key


@dataclass(frozen=True)
class Target:
    case: str
    threads: int | None  # None: judged at every thread count measured
    kind: str  # a key of KINDS
    threshold: float
    text: str  # format string: {threshold}, {value}, {threads} and the kind's fields


SPEEDUP_TEXT = "≥{threshold:g}× vs faster peer ({peer}): {value:.2f}×"
SCALING_TEXT = "1→{threads} threads ≥{threshold:g}×: {value:.2f}×"

# The targets of the issues, "on this 2-core machine, threads=2" where they name a thread count.
CEILING_TEXT = "≥{threshold:.0%} of {threads}-thread GEMM ceiling: {value:.0%}"
EVERYDAY_TEXT = "≥{threshold:g}× scikit-learn: {value:.2f}×"
TARGETS = [
    Target("small", 2, "speed-up vs faster peer", 5.0, SPEEDUP_TEXT),
    Target("mnist", 2, "speed-up vs faster peer", 1.6, SPEEDUP_TEXT),
    Target("mnist", 2, "speed-up from 1 thread", 1.8, SCALING_TEXT),
    Target("tiny_batch", 2, "speed-up vs faster peer", 2.0, SPEEDUP_TEXT),
    Target("wide", 2, "speed-up from 1 thread", 1.8, SCALING_TEXT),
    Target("higham", 2, "speed-up vs scikit-learn", 20.0,
           "≥{threshold:g}× vs scikit-learn: {value:.2f}×"),
    # efficiency against the same-run ceiling, honest FLOPs
    Target("mnist", 2, "fraction of GEMM ceiling", 0.85, CEILING_TEXT),
    Target("tiny_batch", 2, "fraction of GEMM ceiling", 0.70, CEILING_TEXT),
    Target("small", 2, "fraction of GEMM ceiling", 0.50, CEILING_TEXT),
    Target("wide", 2, "fraction of GEMM ceiling", 0.90, CEILING_TEXT),
    # a transcendental activation costs little beside the products
    *(Target(f"deep_{a}", None, "GFLOP/s relative to deep_relu", 0.90,
             "GFLOP/s ≥{threshold:.0%} of deep_relu's: {value:.0%}") for a in ("tanh", "logistic")),
    # inference
    Target("small", None, "single-row predict µs", 3.0,
           "single-row predict ≤{threshold:g} µs: {value:.1f} µs"),
    Target("small", None, "predict_proba speed-up vs scikit-learn", 3.0,
           "predict_proba ≥{threshold:g}× scikit-learn: {value:.2f}×"),
    # scikit-learn's defaults, float64
    Target("digits (1797 × 64) adam", None, "everyday speed-up", 6.0, EVERYDAY_TEXT),
    Target("regression (20000 × 40) adam", None, "everyday speed-up", 7.0, EVERYDAY_TEXT),
    Target("digits (1797 × 64) lbfgs", None, "everyday speed-up", 3.0, EVERYDAY_TEXT),
    Target("breast cancer (569 × 30) lbfgs", None, "everyday speed-up", 3.0, EVERYDAY_TEXT),
    Target("digits adam", None, "slow-down right after BLAS", 1.10,
           "right after a numpy product ≤{threshold:.2f}× the quiet fit: {value:.2f}×"),
    Target("mnist", None, "fit RSS increase beyond the data, MB", 100.0,
           "peak fit RSS increase ≤ data ({data_mb:.0f} MB) + {threshold:g} MB: "
           "{increase_mb:.0f} MB"),
]


@dataclass(frozen=True)
class Kind:
    table: str  # "training", "predict", "memory", "everyday" or "after BLAS": the rows judged
    measure: Callable  # (fastnn's row, Measured) -> (value, text fields), or None: not measured
    at_least: bool  # value >= threshold; else value <= threshold


@dataclass(frozen=True)
class Measured:
    training: dict  # (case, threads, system) -> training row
    ceilings: dict  # threads -> {"eigen": GFLOP/s, "numpy": GFLOP/s}
    predict: dict  # (dtype, threads, system) -> predict row


def _speedup_over(peers):
    """fastnn's speed-up per epoch over the faster of `peers` at the same thread count."""
    def measure(row, measured):
        times = {p: measured.training[(row["case"], row["threads"], p)]["seconds_per_epoch"]
                 for p in peers if (row["case"], row["threads"], p) in measured.training}
        if not times:
            return None
        peer = min(times, key=times.get)
        return times[peer] / row["seconds_per_epoch"], dict(peer=peer)
    return measure


def _ceiling_fraction(row, measured):
    fraction = fraction_of_ceiling(row, measured.ceilings)
    return None if fraction is None else (fraction, {})


def _speedup_from_one_thread(row, measured):
    one = measured.training.get((row["case"], 1, "fastnn"))
    return None if one is None else (one["seconds_per_epoch"] / row["seconds_per_epoch"], {})


def _predict_latency(row, measured):
    return row["predict_1row_us"], {}


def _proba_speedup(row, measured):
    peer = measured.predict.get((row["dtype"], row["threads"], "scikit-learn"))
    return None if peer is None else (peer["predict_proba_ms"] / row["predict_proba_ms"], {})


def _relative_to_relu(row, measured):
    relu = measured.training.get(("deep_relu", row["threads"], "fastnn"))
    return None if relu is None else (row["gflops"] / relu["gflops"], {})


def _memory_beyond_data(row, measured):
    return (row["increase_mb"] - row["data_mb"],
            dict(data_mb=row["data_mb"], increase_mb=row["increase_mb"]))


KINDS = {
    "speed-up vs faster peer": Kind("training", _speedup_over(PEERS), at_least=True),
    "speed-up vs scikit-learn": Kind("training", _speedup_over(["scikit-learn"]), at_least=True),
    "fraction of GEMM ceiling": Kind("training", _ceiling_fraction, at_least=True),
    "speed-up from 1 thread": Kind("training", _speedup_from_one_thread, at_least=True),
    "GFLOP/s relative to deep_relu": Kind("training", _relative_to_relu, at_least=True),
    "single-row predict µs": Kind("predict", _predict_latency, at_least=False),
    "predict_proba speed-up vs scikit-learn": Kind("predict", _proba_speedup, at_least=True),
    "everyday speed-up": Kind("everyday", lambda row, m: (row["speedup"], {}), at_least=True),
    "slow-down right after BLAS": Kind("after BLAS", lambda row, m: (row["ratio"], {}),
                                       at_least=False),
    "fit RSS increase beyond the data, MB": Kind("memory", _memory_beyond_data, at_least=False),
}


def verdict(ok):
    return "met" if ok else "NOT met"


def evaluate_targets(rows, ceilings, predict_rows, memory_rows, everyday_rows=(),
                     after_blas=None):
    """Every target of TARGETS that this run measured, with its value and verdict; each is also
    written on fastnn's row of its table (row["target"])."""
    tables = {"training": rows, "predict": predict_rows, "memory": memory_rows,
              "everyday": everyday_rows, "after BLAS": [after_blas] if after_blas else []}
    measured = Measured(training=rows_by_key(rows), ceilings=ceilings,
                        predict={(r["dtype"], r["threads"], r["system"]): r
                                 for r in predict_rows})
    results = []
    for target in TARGETS:
        kind = KINDS[target.kind]
        for row in tables[kind.table]:
            if (row["system"] != "fastnn" or row["case"] != target.case
                    or target.threads not in (None, row["threads"])):
                continue
            value_fields = kind.measure(row, measured)
            if value_fields is None:
                continue
            value, fields = value_fields
            ok = value >= target.threshold if kind.at_least else value <= target.threshold
            text = target.text.format(threshold=target.threshold, value=value,
                                      threads=row["threads"], **fields)
            row["target"] = "; ".join(filter(None, [row.get("target"), f"{text} {verdict(ok)}"]))
            where = target.case if kind.table == "training" else f"{kind.table} ({target.case})"
            if "dtype" in row:
                where += f" {row['dtype']}"
            results.append(dict(scope=f"{where}, {row['threads']} thr", target=text, met=ok,
                                kind=target.kind, threshold=target.threshold, value=value))
    return results
