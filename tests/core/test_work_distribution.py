"""Issue 15's proxy for many cores on a small machine (bench/work_distribution.py): with
n_threads=16 and passive waiting, a batch-128 epoch of the 784-256-128-10 net spreads its work
over the threads -- at least 12 of the 16 each do >= 2% of the epoch's CPU time -- and its
weights equal a 1-thread fit's, bit for bit."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fastnn import _core

BENCH = Path(__file__).resolve().parents[2] / "bench" / "work_distribution.py"


@pytest.mark.slow
@pytest.mark.subprocess
@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs Linux /proc")
@pytest.mark.skipif(not _core.has_openmp, reason="a serial build has one thread")
def test_sixteen_threads_share_a_batch_128_epoch_with_the_same_bits():
    proc = subprocess.run([sys.executable, str(BENCH), "--threads", "16", "--batches", "128",
                           "--json"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    [row] = json.loads(proc.stdout.strip().splitlines()[-1])
    assert row["same_bits"]
    assert sum(share >= 0.02 for share in row["shares"]) >= 12, row["shares"]
