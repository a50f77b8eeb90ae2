"""fastnn's OpenMP spin default stays inside fastnn: the environment is left as it was."""

import os
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.subprocess]


def _child(code, **env):
    # No OpenMP variable from the parent (other tests, dask's workers' settings): only fastnn's
    # own doing can show up in the child.
    environment = {k: v for k, v in os.environ.items() if "OMP" not in k}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environment, timeout=120
    )


def test_import_leaves_no_openmp_variable_behind():
    proc = _child("import os, fastnn; print(sorted(k for k in os.environ if 'OMP' in k))")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_users_own_openmp_settings_are_kept():
    code = "import os, fastnn; print(os.environ['GOMP_SPINCOUNT'], os.environ['OMP_WAIT_POLICY'])"
    proc = _child(code, GOMP_SPINCOUNT="5", OMP_WAIT_POLICY="active")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["5", "active"]
