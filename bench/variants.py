"""The CPU variants against each other and against PyTorch, in one run (issue: distribution).

Each build runs in its own child process (a variant is chosen when fastnn is imported), the
children interleaved over the repeats so machine noise hits them all alike; the median time per
epoch is reported::

    python bench/variants.py                             # dispatched, v3, v2, PyTorch x2
    python bench/variants.py --native DIR                # + a FASTNN_NATIVE=ON build in DIR
    python bench/variants.py --cases small,mnist --repeats 5

``DIR`` is a folder holding a ``fastnn`` package built with ``FASTNN_NATIVE=ON``, e.g. from
``FASTNN_NATIVE=ON pip install . --target DIR --no-deps``. "PyTorch (AVX2)" is PyTorch as an
AVX2 machine runs it -- ``ATEN_CPU_CAPABILITY=avx2`` for its own kernels,
``MKL_ENABLE_INSTRUCTIONS=AVX2`` for MKL's GEMM, ``ONEDNN_MAX_CPU_ISA=AVX2`` for oneDNN -- the
fair opponent of the v3 core on an AVX-512 machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
AVX2_TORCH = {"ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2",
              "ONEDNN_MAX_CPU_ISA": "AVX2"}
DEFAULT_CASES = ("small", "mnist", "tiny_batch", "wide")


def builds(native_dir):
    """(label, system, extra environment) for each build in the table, in column order."""
    rows = []
    if native_dir:
        rows.append(("native", "fastnn", {"PYTHONPATH": str(native_dir)}))
    rows += [
        ("dispatched", "fastnn", {}),
        ("v3", "fastnn", {"FASTNN_CPU_VARIANT": "v3"}),
        ("v2", "fastnn", {"FASTNN_CPU_VARIANT": "v2"}),
        ("PyTorch", "PyTorch", {}),
        ("PyTorch (AVX2)", "PyTorch", AVX2_TORCH),
    ]
    return rows


def child(system, case_name, threads):
    """One timed fit in this process; prints {"seconds_per_epoch", "build"} as JSON."""
    sys.path.insert(0, str(HERE))
    from cases import CASES
    from systems import TIMERS

    import fastnn

    case = CASES[case_name]
    X, y = case.data()
    epochs = case.epochs if system == "fastnn" else case.peer_epochs or case.epochs
    TIMERS[system](case, X[:256], y[:256], threads, 1)  # warm-up: first calls, thread team
    run = TIMERS[system](case, X, y, threads, epochs)
    build = fastnn._variants.loaded[0] or ("native" if fastnn._core.build_info()["native"]
                                            else "portable")
    print(json.dumps({"seconds_per_epoch": run.seconds / epochs, "build": build}))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default=",".join(DEFAULT_CASES))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--native", type=Path, help="a folder holding a FASTNN_NATIVE=ON fastnn")
    parser.add_argument("--child", nargs=2, metavar=("SYSTEM", "CASE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(*args.child, args.threads)

    table = builds(args.native)
    cases = args.cases.split(",")
    times = {(c, label): [] for c in cases for label, _, _ in table}
    loaded = {}
    for case in cases:
        for rep in range(args.repeats):
            for label, system, extra in table:
                env = dict(os.environ, **extra)
                if "PYTHONPATH" in extra and os.environ.get("PYTHONPATH"):
                    env["PYTHONPATH"] = extra["PYTHONPATH"] + os.pathsep + os.environ["PYTHONPATH"]
                out = subprocess.run(
                    [sys.executable, __file__, "--threads", str(args.threads), "--child", system,
                     case], env=env, check=True, capture_output=True, text=True).stdout
                result = json.loads(out.strip().splitlines()[-1])
                times[case, label].append(result["seconds_per_epoch"])
                loaded[label] = result["build"]
                print(f"{case} {label} rep {rep}: {result['seconds_per_epoch']:.4g} s/epoch",
                      file=sys.stderr)

    med = {key: statistics.median(v) for key, v in times.items()}
    labels = [label for label, _, _ in table]
    # the dispatched column says which variant this CPU got
    head = [f"{label} ({loaded[label]})" if label == "dispatched" else label for label in labels]
    lines = [f"Seconds per epoch, {args.threads} threads, medians of {args.repeats} "
             "(children interleaved).", "",
             "| case | " + " | ".join(head) + " | dispatched / native | v3 vs PyTorch (AVX2) |",
             "| --- |" + " --: |" * (len(labels) + 2)]
    for case in cases:
        cells = [f"{med[case, label]:.3g}" for label in labels]
        native = (f"{med[case, 'dispatched'] / med[case, 'native']:.2f}"
                  if args.native else "-")
        ahead = med[case, "PyTorch (AVX2)"] / med[case, "v3"]
        lines.append(f"| `{case}` | " + " | ".join(cells) + f" | {native} | {ahead:.2f}× |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
