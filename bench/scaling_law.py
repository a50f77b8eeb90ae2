"""Time per epoch against rows (10k -> 1M) and against width (16 -> 4096), fastnn beside
scikit-learn and PyTorch (CPU eager), on log-log axes (issue: speed, "scaling law")::

    python bench/scaling_law.py                      # ~5 min on 2 cores
    python bench/scaling_law.py --quick              # smoke run, ~30 s
    python bench/scaling_law.py --out bench/results  # where scaling_law.{md,json,png} go

Every point is the `small` case's network and training (64 float32 features, Adam, batch 200,
10 classes, one hidden layer) for one epoch, with one parameter changed: the rows (hidden 256)
or the hidden layer's width (20,000 rows). The systems run interleaved at each point, on all
usable CPUs; the median of the repeats is reported (3 repeats up to 100k rows, 1 beyond: one
epoch of 1M rows is seconds long). The slope of log(time) against log(rows) between consecutive
points says whether time stays linear in the rows (slope 1) and where, if anywhere, it jumps
(a cliff: cache or memory effects); against width, time should grow at most linearly with the
width once the products dominate.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cases import CASES  # noqa: E402
from systems import TIMERS, available_systems, warm_up  # noqa: E402

ROWS = (10_000, 30_000, 100_000, 300_000, 1_000_000)
WIDTHS = (16, 64, 256, 1024, 4096)
BASE = dataclasses.replace(CASES["small"], epochs=1, hidden=(256,))


def points(quick):
    rows = ROWS[:3] if quick else ROWS
    widths = WIDTHS[:3] if quick else WIDTHS
    return ([("rows", n, dataclasses.replace(BASE, name=f"rows={n}", n_samples=n))
             for n in rows]
            + [("width", w, dataclasses.replace(BASE, name=f"width={w}", n_samples=20_000,
                                                hidden=(w,))) for w in widths])


def measure(systems, threads, quick, log):
    out = []
    for axis, value, case in points(quick):
        X, y = case.data()
        repeats = 1 if quick or case.n_samples > 100_000 else 3
        times = {s: [] for s in systems}
        for rep in range(repeats):
            order = systems[rep % len(systems):] + systems[:rep % len(systems)]
            for system in order:
                time.sleep(0.3)
                times[system].append(TIMERS[system](case, X, y, threads, 1).seconds)
        for system in systems:
            seconds = statistics.median(times[system])
            out.append(dict(axis=axis, value=value, system=system, seconds=seconds,
                            fit_seconds=times[system], rows=case.n_samples,
                            hidden=case.hidden[0]))
            log(f"  {axis}={value:>9} {system:<12} {seconds * 1e3:9.1f} ms")
    return out


def slopes(results, axis, system):
    pts = sorted((r["value"], r["seconds"]) for r in results
                 if r["axis"] == axis and r["system"] == system)
    return [math.log(t1 / t0) / math.log(v1 / v0) for (v0, t0), (v1, t1) in zip(pts, pts[1:])]


def markdown(results, systems, threads):
    lines = [f"Time per epoch (median), {threads} threads; `small`'s network and training, one "
             "epoch, one parameter changed.", ""]
    for axis, label in (("rows", "rows (hidden 256)"), ("width", "hidden width (20,000 rows)")):
        values = sorted({r["value"] for r in results if r["axis"] == axis})
        by = {(r["value"], r["system"]): r["seconds"] for r in results if r["axis"] == axis}
        lines += [f"| {label} | " + " | ".join(systems) + " | fastnn speed-up vs faster peer |",
                  "| --: | " + " | ".join("--:" for _ in systems) + " | --: |"]
        for v in values:
            cells = [f"{by[(v, s)] * 1e3:.1f} ms" for s in systems]
            peers = [by[(v, s)] for s in systems if s != "fastnn"]
            speedup = f"{min(peers) / by[(v, 'fastnn')]:.2f}×" if peers else "—"
            lines.append(f"| {v:,} | " + " | ".join(cells) + f" | {speedup} |")
        for s in systems:
            lines.append(f"\n{s}: log-log slope between consecutive {axis} points: "
                         + ", ".join(f"{x:.2f}" for x in slopes(results, axis, s)))
        lines.append("")
    return "\n".join(lines) + "\n"


def plot(results, systems, threads, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for ax, (axis, label) in zip(axes, (("rows", "rows (hidden 256)"),
                                        ("width", "hidden width (20,000 rows)"))):
        for system in systems:
            pts = sorted((r["value"], r["seconds"]) for r in results
                         if r["axis"] == axis and r["system"] == system)
            ax.plot(*zip(*pts), marker="o", label=system)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(label)
        ax.set_ylabel("seconds per epoch")
        ax.grid(which="both", alpha=0.3)
        ax.legend()
    fig.suptitle(f"Time per epoch, log-log ({threads} threads; lower is better)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="three points per axis, one repeat")
    p.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    p.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    systems = available_systems()
    warm_up(systems, [args.threads])
    results = measure(systems, args.threads, args.quick, log)
    text = markdown(results, systems, args.threads)
    (out / "scaling_law.md").write_text(text)
    (out / "scaling_law.json").write_text(json.dumps(dict(threads=args.threads, results=results),
                                                     indent=1) + "\n")
    plot(results, systems, args.threads, out / "scaling_law.png")
    print(text)
    log(f"wrote {out / 'scaling_law.md'}, scaling_law.json, scaling_law.png")


if __name__ == "__main__":
    main()
