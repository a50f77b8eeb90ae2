"""Building fastnn from source: Eigen from the system when it has one, else from PyPI
(build_backend/fastnn_build_backend.py and CMakeLists.txt)."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "build_backend"))
backend = pytest.importorskip("fastnn_build_backend")


def _eigen_package(prefix, version="3.4.0", sub="share/eigen3/cmake"):
    config = prefix / sub
    config.mkdir(parents=True)
    (config / "Eigen3Config.cmake").write_text("# Eigen3\n")
    (config / "Eigen3ConfigVersion.cmake").write_text(f'set(PACKAGE_VERSION "{version}")\n')
    return str(config)


def test_a_system_eigen_is_found_where_cmake_looks(tmp_path):
    conda, other = tmp_path / "conda", tmp_path / "other"
    assert backend.system_eigen({"CONDA_PREFIX": str(conda)}, prefixes=()) is None
    found = _eigen_package(conda)
    assert backend.system_eigen({"CONDA_PREFIX": str(conda)}, prefixes=()) == found
    found = _eigen_package(other, sub="lib/cmake/eigen3")
    assert backend.system_eigen({"CMAKE_PREFIX_PATH": str(other)}, prefixes=()) == found
    assert backend.system_eigen({"Eigen3_DIR": found}, prefixes=()) == found
    assert backend.system_eigen({}, prefixes=(str(other),)) == found


def test_an_eigen_too_old_or_turned_off_is_not_the_system_eigen(tmp_path):
    _eigen_package(tmp_path, version="3.3.9")
    assert backend.system_eigen({}, prefixes=(str(tmp_path),)) is None
    assert backend.system_eigen({"FASTNN_SYSTEM_EIGEN": "OFF"}) is None


def test_pypi_eigen_is_a_build_requirement_only_without_a_system_eigen(monkeypatch):
    monkeypatch.chdir(ROOT)  # a PEP 517 hook runs in the project's folder
    monkeypatch.setattr(backend, "system_eigen", lambda: "/usr/share/eigen3/cmake")
    assert backend.PYPI_EIGEN not in backend.get_requires_for_build_wheel()
    monkeypatch.setattr(backend, "system_eigen", lambda: None)
    assert backend.PYPI_EIGEN in backend.get_requires_for_build_wheel()
    assert backend.PYPI_EIGEN in backend.get_requires_for_build_editable()


@pytest.mark.slow
@pytest.mark.subprocess
def test_pip_builds_with_pypi_eigen_when_the_system_has_none(tmp_path):
    """As on a machine with only a compiler: pip fetches cmeel-eigen from the package index and
    the core is built against it (one portable core, to keep the build short); without SLEEF,
    tanh and exp come from the C library."""
    env = dict(os.environ, FASTNN_SYSTEM_EIGEN="OFF", FASTNN_CPU_DISPATCH="OFF")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-w", str(tmp_path), "-v",
         f"--config-settings=build-dir={tmp_path / 'build'}",
         "--config-settings=cmake.define.FASTNN_SLEEF=OFF",
         "--config-settings=cmake.define.FASTNN_XSIMD=OFF"],
        env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    log = proc.stdout + proc.stderr
    assert "fastnn: Eigen 3.4" in log and "from PyPI cmeel-eigen" in log, log[-3000:]
    assert "fastnn: no SLEEF" in log, log[-3000:]
    (wheel,) = tmp_path.glob("fastnn-*.whl")
    with zipfile.ZipFile(wheel) as z:
        z.extractall(tmp_path / "site")
    fit = ("X = np.random.RandomState(0).normal(size=(200, 5)); y = (X[:, 0] > 0).astype(int)\n"
           "model = fastnn.MLPClassifier((16,), max_iter=50, random_state=0).fit(X, y)\n")
    child = ("import sys, warnings, fastnn, numpy as np\n"
             "warnings.simplefilter('ignore')\n"
             "info = fastnn._core.build_info()\n"
             "assert info['eigen_source'].startswith('PyPI cmeel-eigen'), info\n"
             "assert info['vector_math'] == 'C library (scalar)', info\n"
             + fit + "np.save(sys.argv[1], model.predict_proba(X))\n")
    run = subprocess.run([sys.executable, "-c", child, str(tmp_path / "proba.npy")],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, PYTHONPATH=str(tmp_path / "site")))
    assert run.returncode == 0, run.stderr
    # the same fit as this build's, to rounding (another Eigen release, the portable core)
    import warnings

    import numpy as np

    import fastnn

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scope = {"fastnn": fastnn, "np": np}
        exec(fit, scope)
    np.testing.assert_allclose(np.load(tmp_path / "proba.npy"),
                               scope["model"].predict_proba(scope["X"]), rtol=1e-8, atol=1e-10)
