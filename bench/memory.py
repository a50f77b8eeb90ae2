"""Memory: the peak RSS a fit of `mnist` (one epoch) adds, each system in a fresh process.

``bench_memory`` runs this file once per system (``python bench/memory.py SYSTEM --threads N
[--quick]``); the child fits and prints its figures as one JSON line. The child imports
neither run.py nor systems.py: PyTorch's import alone takes several hundred MB.
"""

import argparse
import gc
import json
import resource
import subprocess
import sys

import numpy as np
from cases import CASES, fit_quietly, sklearn_api_model
from machine import core_build_time
from threadpoolctl import threadpool_limits

MB = 1024 * 1024
MEASURED = ("fastnn", "scikit-learn")  # PyTorch's fit is not measured


def bench_memory(systems, threads, quick, log):
    """Peak RSS increase while fitting `mnist` (one epoch), each system in a fresh process."""
    out = []
    for system in [s for s in systems if s in MEASURED]:
        cmd = [sys.executable, __file__, system, "--threads", str(threads)]
        if quick:
            cmd.append("--quick")
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        log(f"  memory {system:<12}: data {res['data_mb']:.0f} MB, "
            f"peak fit RSS increase {res['increase_mb']:.0f} MB")
        out.append(res)
    return out


def memory_child(system, threads, quick):
    """Runs in a subprocess: fit `mnist` once and print the RSS figures as JSON.

    The peak is the process's high-water RSS, reset to the current RSS just before the fit
    (``/proc/self/clear_refs``) and read back from ``/proc/self/status`` (VmHWM). Plain
    ``getrusage(RUSAGE_SELF).ru_maxrss`` (also recorded) is not usable on its own here: Linux
    carries the RSS of the parent at fork into the child's ru_maxrss, and it cannot be reset.
    """
    case = CASES["mnist"].quick() if quick else CASES["mnist"]
    X, y = case.data()
    assert X.dtype == np.float32 and X.flags.c_contiguous
    gc.collect()
    peak_reset = _reset_peak_rss()
    rss_before, peak_before = _rss_and_peak()
    model = sklearn_api_model(system, case, 1, threads)
    with threadpool_limits(limits=threads):
        fit_quietly(model, X, y)
    _, peak_after = _rss_and_peak()
    print(json.dumps(dict(
        system=system, case=case.name, threads=threads, fastnn_core_built=core_build_time(),
        data_mb=X.nbytes / MB,
        rss_before_mb=rss_before / MB, peak_before_mb=peak_before / MB,
        peak_after_mb=peak_after / MB, increase_mb=(peak_after - rss_before) / MB,
        peak_reset=peak_reset,
        ru_maxrss_after_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )))


def _reset_peak_rss():
    """Reset the process's high-water RSS to its current RSS (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _rss_and_peak():
    """(current RSS, peak RSS) in bytes: VmRSS / VmHWM on Linux, else ru_maxrss for both."""
    try:
        with open("/proc/self/status") as f:
            status = dict(line.split(":", 1) for line in f)
        return tuple(int(status[k].split()[0]) * 1024 for k in ("VmRSS", "VmHWM"))
    except (OSError, KeyError, ValueError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
        return peak, peak


if __name__ == "__main__":
    p = argparse.ArgumentParser(description="internal: the memory subprocess of bench/run.py")
    p.add_argument("system", choices=MEASURED)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    memory_child(args.system, args.threads, args.quick)
