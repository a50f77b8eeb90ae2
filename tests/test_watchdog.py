"""The test suite's watchdog (conftest.py): a test that hangs ends the run within its limit,
with every thread's stack, instead of stalling CI."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


@pytest.mark.subprocess
def test_a_hanging_test_fails_the_run_within_its_limit(tmp_path):
    (tmp_path / "test_hang.py").write_text(
        "import threading\n\ndef test_hangs():\n    threading.Event().wait()\n")
    env = dict(os.environ, FASTNN_TEST_TIMEOUT_S="2", PYTHONPATH=str(HERE))
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "conftest", "-p", "no:cacheprovider", "-q",
         str(tmp_path / "test_hang.py")],
        env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode != 0
    assert time.monotonic() - t0 < 30
    assert "Timeout" in proc.stderr and "test_hangs" in proc.stderr, proc.stderr[-2000:]
