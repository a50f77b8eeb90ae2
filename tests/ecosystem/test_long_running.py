"""A long-running process stays flat (bench/long_running.py, shortened): predictions from 8
threads and partial_fit calls leave resident memory, file descriptors and threads as they were
after warm-up."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "long_running.py"


@pytest.mark.slow
@pytest.mark.subprocess
@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs Linux /proc")
def test_predictions_from_threads_and_partial_fits_leave_the_process_flat():
    proc = subprocess.run([sys.executable, str(BENCH), "--predictions", "40000",
                           "--partial-fits", "2000", "--threads", "8", "--json"],
                          capture_output=True, text=True, timeout=300)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert proc.returncode == 0, result
    assert result["rss_growth_mib"] <= 4 and result["fd_growth"] <= 0, result
    assert result["thread_growth"] <= 0, result
