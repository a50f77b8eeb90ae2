"""How one fit's work spreads over many threads: each thread's CPU time during one epoch.

    python bench/work_distribution.py                       # n_threads=16; batch 32, 128, 200, 512
    python bench/work_distribution.py --threads 16 --batches 128,512

A proxy, on a small machine, for how many cores a fit could use on a large one: the
784-256-128-10 relu net (adam, float32) is fitted for one epoch on 20000 random rows with
``n_threads`` threads in a child process started with ``OMP_WAIT_POLICY=passive`` (a waiting
thread sleeps rather than spins, so a thread's CPU time is the work it was given). Every
thread's CPU time is read from ``/proc/self/task/*/schedstat`` before and after the fit; the
table gives, per batch size, the threads that did any work (> 0.1% of the fit's CPU time), those
that did >= 2% (the measure of issue 15's work-distribution target: >= 12 of 16 at batch 128),
and the largest share. The fitted weights are compared with an ``n_threads=1`` fit: they must be
bitwise equal. Linux only.
"""

import argparse
import json
import os
import subprocess
import sys

_CHILD = r"""
import json, os, sys, warnings
import numpy as np
import fastnn

threads, batches = int(sys.argv[1]), [int(b) for b in sys.argv[2].split(",")]
rng = np.random.default_rng(0)
X = rng.standard_normal((20000, 784), dtype=np.float32)
y = rng.integers(0, 10, 20000)
warnings.simplefilter("ignore")


def cpu_ns():
    out = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/schedstat") as f:
                out[tid] = int(f.read().split()[0])
        except OSError:
            pass  # a thread that ended
    return out


def fit(batch, n_threads):
    return fastnn.MLPClassifier((256, 128), batch_size=batch, max_iter=1, random_state=0,
                                n_threads=n_threads).fit(X, y)


rows = []
for batch in batches:
    fit(batch, threads)  # the thread pool exists before the measured fit
    before = cpu_ns()
    model = fit(batch, threads)
    after = cpu_ns()
    work = sorted((after[t] - before.get(t, 0) for t in after), reverse=True)
    total = sum(work)
    serial = fit(batch, 1)
    same = all(np.array_equal(a, b) for a, b in zip(model.coefs_ + model.intercepts_,
                                                     serial.coefs_ + serial.intercepts_))
    rows.append(dict(batch=batch, shares=[w / total for w in work], same_bits=same))
print(json.dumps(rows))
"""


def measure(threads, batches):
    """Per batch size: every thread's share of the fit's CPU time (largest first) and whether
    the weights equal the 1-thread fit's."""
    env = dict(os.environ, OMP_WAIT_POLICY="passive")
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(threads),
                           ",".join(map(str, batches))], env=env, capture_output=True, text=True,
                          timeout=1800)
    if proc.returncode != 0:
        sys.exit(proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=16, help="n_threads of the fit (default 16)")
    p.add_argument("--batches", default="32,128,200,512",
                   help="comma-separated batch sizes (default 32,128,200,512)")
    p.add_argument("--json", action="store_true", help="print the measurements as JSON")
    args = p.parse_args(argv)
    batches = [int(b) for b in args.batches.split(",")]
    rows = measure(args.threads, batches)
    if args.json:
        print(json.dumps(rows))
        return
    print(f"784-256-128-10 relu net, 20000 rows, one epoch, n_threads={args.threads}, "
          f"OMP_WAIT_POLICY=passive, {os.cpu_count()} CPUs")
    print("| batch | threads with work | threads with >= 2% | largest share | "
          "same bits as 1 thread |")
    print("| --: | --: | --: | --: | --- |")
    for r in rows:
        shares = r["shares"]
        print(f"| {r['batch']} | {sum(s > 0.001 for s in shares)} | "
              f"{sum(s >= 0.02 for s in shares)} | {shares[0]:.0%} | "
              f"{'yes' if r['same_bits'] else 'NO'} |")


if __name__ == "__main__":
    main()
