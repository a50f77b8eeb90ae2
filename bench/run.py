"""fastnn vs scikit-learn vs PyTorch (CPU eager): training speed, inference latency, memory.

One command runs everything and writes ``results.md``, ``results.json`` and
``time_per_epoch.png`` to the output folder (``bench/results`` by default)::

    python bench/run.py                      # full run (~10-15 min on 2 cores)
    python bench/run.py --quick              # smoke run (~1 min)
    python bench/run.py --cases small,mnist --threads 1,2 --repeats 3

For every case and thread count the three systems train the same network on the same
float32 data for the same number of epochs (Adam, lr 1e-3, L2 alpha 1e-4, shuffled
mini-batches, the same Glorot-uniform initial weights); the systems are interleaved within
each repeat so machine noise hits all of them, and the median fit time over the repeats is
reported per epoch. See bench/README.md for the columns and for where each part lives.

This file only parses the options and runs the parts in order: cases.py (the workloads),
ceiling.py (GEMM ceilings), systems.py (training), predict.py, everyday.py, memory.py, targets.py,
report.py (results.md, the plot), machine.py (the header).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling modules, however run

from cases import CASES  # noqa: E402
from ceiling import combine_ceilings, gemm_ceilings  # noqa: E402
from everyday import bench_everyday  # noqa: E402
from machine import core_build_time, machine_info  # noqa: E402
from memory import bench_memory  # noqa: E402
from predict import bench_predict  # noqa: E402
from report import plot, render_markdown, rows_above_ceiling  # noqa: E402
from systems import available_systems, bench_case, torch, warm_up  # noqa: E402
from targets import evaluate_targets  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", default=",".join(CASES),
                   help=f"comma-separated subset of {', '.join(CASES)} (default: all)")
    p.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    p.add_argument("--repeats", type=int, default=3, help="timed fits per system (default 3)")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: a tenth of the rows, 1 epoch, 1 repeat, fewer predict calls")
    p.add_argument("--out", default=str(Path(__file__).parent / "results"),
                   help="output folder (default bench/results)")
    args = p.parse_args(argv)
    args.case_names = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = set(args.case_names) - set(CASES)
    if unknown:
        p.error(f"unknown case(s) {sorted(unknown)}; choose from {list(CASES)}")
    args.thread_list = [int(t) for t in args.threads.split(",")]
    if args.quick:
        args.repeats = 1
    return args


def main(argv=None):
    args = parse_args(argv)

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    systems = available_systems()
    cases = [CASES[n].quick() if args.quick else CASES[n] for n in args.case_names]
    notes = []
    if torch is None:
        notes.append("PyTorch is not installed (`pip install torch`): its column is skipped.")
    if max(args.thread_list) > len(os.sched_getaffinity(0)):
        notes.append(f"more threads requested than the {len(os.sched_getaffinity(0))} usable CPUs.")
    if any(c.peer_epochs for c in cases):
        notes.append("higham: scikit-learn and PyTorch run fewer epochs than fastnn (see Cases);"
                     " s/epoch is fit time / their own epochs, so accuracies are not comparable.")

    machine = machine_info(torch.__version__ if torch is not None else None)
    t_start = time.perf_counter()
    log("GEMM ceilings ...")
    ceilings_start = gemm_ceilings(args.thread_list, args.quick)
    log("warm-up ...")
    warm_up(systems, args.thread_list)
    rows = []
    for case in cases:
        log(f"case {case.name} ...")
        rows += bench_case(case, args.thread_list, args.repeats, systems, log)
    log("predict ...")
    predict_rows = bench_predict(args.thread_list, systems, args.quick, log)
    log("everyday fits ...")
    everyday_rows, after_blas = bench_everyday(max(args.thread_list), args.repeats, args.quick,
                                               log)
    log("memory ...")
    memory_rows = bench_memory(systems, max(args.thread_list), args.quick, log)
    for m in memory_rows:
        if not m["peak_reset"] and m["peak_before_mb"] > m["rss_before_mb"] + 10:
            notes.append(f"memory, {m['system']}: the peak RSS could not be reset before the fit"
                         " and an earlier peak was higher: the increase is an upper bound.")
    log("GEMM ceilings again ...")
    ceilings = combine_ceilings(ceilings_start, gemm_ceilings(args.thread_list, args.quick))
    machine["loadavg_end"] = os.getloadavg()
    if core_build_time() != machine["fastnn_core_built"]:
        notes.append(f"fastnn's extension was rebuilt during the run ({core_build_time()}):"
                     " the timings used the build loaded at start, the memory subprocesses"
                     " the new one.")

    targets = evaluate_targets(rows, ceilings["gflops"], predict_rows, memory_rows,
                               everyday_rows, after_blas)
    res = dict(
        command=" ".join(["python bench/run.py", *(sys.argv[1:] if argv is None else argv)]),
        quick=args.quick, threads=args.thread_list, repeats=args.repeats, machine=machine,
        ceilings=ceilings, cases=[c.summary() for c in cases],
        rows=rows, predict=predict_rows, everyday=everyday_rows, after_blas=after_blas,
        memory=memory_rows, targets=targets, notes=notes,
        wall_seconds=time.perf_counter() - t_start,
    )
    markdown = render_markdown(res)
    (out / "results.md").write_text(markdown)
    (out / "results.json").write_text(json.dumps(res, indent=1, default=str) + "\n")
    plot(res, out / "time_per_epoch.png")
    print(markdown)
    log(f"wrote {out / 'results.md'}, results.json, time_per_epoch.png "
        f"in {res['wall_seconds']:.0f} s")
    if rows_above_ceiling(res):
        log("ERROR: rows above 100% of the GEMM ceiling: a FLOP-counting bug (see results.md)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
