"""Memory safety: the core built with AddressSanitizer + UndefinedBehaviorSanitizer passes the
core tests with zero sanitizer reports.

The extension is configured from the repository's CMakeLists.txt into a build directory that
is kept between runs (in pytest's cache directory, else the system temp directory; ninja then
rebuilds only what changed), staged with a copy of python/fastnn into a temporary directory,
and a child ``python -m pytest`` runs the selected test files against it with the ASan runtime
preloaded (Python itself is not instrumented). tests/support/sanitized_import.py makes the child
import the staged package and checks that it did. Sanitizer reports are written to log files
(from the child and any process it starts) and the test fails on any of them, on an Eigen
assertion (they are enabled) or on a failing test in the child.

Slow (a build, then the tests under ASan): deselect locally with ``-m "not sanitizer"``.
Skipped only where the compiler cannot build with the sanitizers, Eigen 3 is missing, or the
platform is not Linux.
"""

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.sanitizer, pytest.mark.slow, pytest.mark.subprocess]

REPO = Path(__file__).resolve().parents[2]
SUPPORT = REPO / "tests" / "support"

SANITIZE = "-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
# -O1 -g1 (line tables: reports name file:line) without -DNDEBUG, so that Eigen's own bounds and
# shape assertions are on as well. Full -g costs ~50% more compile time for nothing a report uses.
OPT = "-O1 -g1"

# The tests run against the sanitized core (paths relative to the repository; pytest arguments).
_COLUMN_MODE = "tests/core/test_column_mode.py::test_column_mode_"
_THREADS = ("tests/core/test_thread_invariance.py::"
            "test_fit_and_predict_are_bitwise_identical_whatever_the_thread_count")
CHILD_TESTS = [
    "tests/core/test_gradients.py",
    "tests/core/test_threads.py",
    "tests/core/test_sparse.py",
    "tests/core/test_memory_plan.py",
    # column mode (2M-weight layers): its reference gradient and sparse input, and one
    # solver's thread-count cases; Adam's add ~12 s under ASan for the same code paths
    _COLUMN_MODE + "loss_and_gradient_match_an_independent_reference",
    _COLUMN_MODE + "sparse_input_matches_dense",
    _THREADS + "[column-mode-float32-sgd]",
    _THREADS + "[column-mode-dropout-residual-float32-sgd]",
    _THREADS + "[sparse-float64-sgd]",
    _THREADS + "[dropout-float32-adam]",
    _THREADS + "[residual-float64-adam]",
    "tests/core/test_properties.py",
    # the lecture-notes extras (dropout, residual layers, quadratic cost) and the epoch driver,
    # without the one slow accuracy test (~30 s under ASan, nothing new for memory)
    "tests/estimator/test_extras.py",
    "--deselect", "tests/estimator/test_extras.py::test_dropout_regularises_an_overfitting_network",
    "tests/estimator/test_epoch_driver.py",
]
# ... and these when present (written alongside this file)
OPTIONAL_CHILD_TESTS = ["tests/estimator/test_bad_input.py"]
PROPERTY_EXAMPLES_SCALE = "0.25"  # of test_properties.py's max_examples

# A sanitizer report of any kind in the child's output.
REPORT_PATTERNS = [
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "AddressSanitizer: CHECK failed",
    "runtime error:",
    "SUMMARY: UndefinedBehaviorSanitizer",
]

BUILD_TIMEOUT = 1200  # s; hard limits against a hang, far above the expected ~1-3 min
TESTS_TIMEOUT = 1200


def _run(cmd, timeout, **kwargs):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=timeout, check=False, **kwargs)


def _tool(name, package_attr):
    """An executable on PATH, else the one of its PyPI package (the test extra's cmake and
    ninja, wherever pip put their scripts)."""
    found = shutil.which(name)
    if found:
        return found
    module, attr = package_attr
    try:
        directory = getattr(__import__(module), attr)
    except (ImportError, AttributeError):
        return None
    return shutil.which(name, path=directory)


def _compiler():
    """The C++ compiler CMake will pick (CXX, else c++ on PATH), or None."""
    cxx = os.environ.get("CXX") or shutil.which("c++") or shutil.which("g++")
    return shutil.which(cxx) if cxx else None


def _skip_unless_sanitizers_work(cxx, workdir):
    if cxx is None:
        pytest.skip("no C++ compiler found")
    probe = workdir / "probe.cpp"
    probe.write_text("#include <vector>\nint f(int n) { std::vector<int> v(n); return v[0]; }\n")
    out = _run([cxx, *SANITIZE.split(), "-shared", "-fPIC", str(probe), "-o",
                str(workdir / "probe.so")], timeout=120)
    if out.returncode != 0:
        pytest.skip(f"{cxx} cannot build with {SANITIZE}:\n{out.stdout[-2000:]}")


def _project_version():
    text = (REPO / "pyproject.toml").read_text()
    return re.search(r'^version\s*=\s*"([^"]+)"', text, re.MULTILINE).group(1)


def _cache_root(config):
    cache = getattr(config, "cache", None)
    if cache is not None:
        return Path(cache.mkdir("fastnn-sanitizer"))
    root = Path(tempfile.gettempdir()) / f"fastnn-sanitizer-{os.getuid()}"
    root.mkdir(exist_ok=True)
    return root


def _configure_args(cxx):
    import pybind11

    return [
        "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
        f"-DCMAKE_CXX_FLAGS_RELWITHDEBINFO={OPT}",
        f"-DCMAKE_CXX_FLAGS={SANITIZE}",
        f"-DCMAKE_SHARED_LINKER_FLAGS={SANITIZE}",
        f"-DCMAKE_MODULE_LINKER_FLAGS={SANITIZE}",
        f"-DCMAKE_CXX_COMPILER={cxx}",
        "-DFASTNN_NATIVE=OFF",
        "-DFASTNN_CPU_DISPATCH=OFF",  # one portable _core
        "-DSKBUILD_PROJECT_NAME=fastnn",
        f"-DSKBUILD_PROJECT_VERSION={_project_version()}",
        f"-DPython_EXECUTABLE={sys.executable}",
        f"-Dpybind11_DIR={pybind11.get_cmake_dir()}",
    ]


def _build(config, cxx):
    """Configure (once per configuration) and build the sanitized extension; its path."""
    cmake = _tool("cmake", ("cmake", "CMAKE_BIN_DIR"))
    assert cmake, "cmake not found (it is in the test extra: pip install .[test])"
    ninja = _tool("ninja", ("ninja", "BIN_DIR"))
    args = _configure_args(cxx)
    compiler_version = _run([cxx, "--version"], timeout=60).stdout
    # One build directory per configuration (flags, compiler, Python, CMakeLists.txt), reused
    # across runs: ninja/make rebuild only the sources of cpp/ that changed since.
    key = hashlib.sha256(
        json.dumps([args, compiler_version, sys.version, bool(ninja),
                    (REPO / "CMakeLists.txt").read_text()]).encode()
    ).hexdigest()[:16]
    root = _cache_root(config)
    with open(root / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # concurrent sessions share the build
        for stale in root.glob("build-*"):
            if stale.name != f"build-{key}":
                shutil.rmtree(stale, ignore_errors=True)
        build = root / f"build-{key}"
        if not (build / "CMakeCache.txt").exists():
            generator = ["-G", "Ninja", f"-DCMAKE_MAKE_PROGRAM={ninja}"] if ninja else []
            out = _run([cmake, "-S", str(REPO), "-B", str(build), *generator, *args],
                       timeout=BUILD_TIMEOUT)
            if out.returncode != 0:
                shutil.rmtree(build, ignore_errors=True)
                if "Eigen3" in out.stdout:
                    pytest.skip(f"Eigen 3 not found by CMake:\n{out.stdout[-2000:]}")
                pytest.fail(f"configuring the sanitized build failed:\n{out.stdout[-6000:]}")
        jobs = str(max(2, min(os.cpu_count() or 2, 8)))
        out = _run([cmake, "--build", str(build), "--target", "_core", "-j", jobs],
                   timeout=BUILD_TIMEOUT)
        assert out.returncode == 0, f"the sanitized build failed:\n{out.stdout[-6000:]}"
    modules = sorted(build.glob("_core*.so"))
    assert len(modules) == 1, modules
    return modules[0]


def _runtime_libraries(module, cxx):
    """The ASan runtime and the C++ runtime the module links, for LD_PRELOAD: ASan must come
    first, and the C++ runtime must be loaded when ASan starts, or its __cxa_throw interceptor
    finds nothing to forward to and the first C++ exception aborts the process."""
    ldd = _run(["ldd", str(module)], timeout=60).stdout
    pattern = r"^\s*(lib(?:asan|stdc\+\+)\.so[.\d]*)\s+=>\s+(\S+)"
    found = dict(re.findall(pattern, ldd, re.MULTILINE))
    asan = next((p for name, p in found.items() if name.startswith("libasan")), None)
    if asan is None:
        asan = _run([cxx, "-print-file-name=libasan.so"], timeout=60).stdout.strip()
    stdcxx = next((p for name, p in found.items() if name.startswith("libstdc++")),
                  "libstdc++.so.6")
    assert os.path.isabs(asan) and os.path.exists(asan), f"ASan runtime not found:\n{ldd}"
    return [asan, stdcxx]


def _stage(module, stage):
    shutil.copytree(REPO / "python" / "fastnn", stage / "fastnn",
                    ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.pyd"))
    shutil.copy2(module, stage / "fastnn" / module.name)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ASan via LD_PRELOAD: Linux")
def test_core_tests_pass_under_address_and_undefined_behavior_sanitizers(
    request, tmp_path_factory
):
    work = tmp_path_factory.mktemp("sanitizer")
    cxx = _compiler()
    _skip_unless_sanitizers_work(cxx, work)

    t0 = time.perf_counter()
    module = _build(request.config, cxx)
    build_seconds = time.perf_counter() - t0
    stage = work / "stage"
    _stage(module, stage)

    tests = CHILD_TESTS + [t for t in OPTIONAL_CHILD_TESTS if (REPO / t).exists()]
    marker = work / "imported.json"
    # Reports go to files (<logs>/asan.<pid>, ...), from the child and from any process it
    # starts: nothing is lost to pytest's output capture when a report aborts the process.
    logs = work / "logs"
    logs.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_CURRENT_TEST")}
    env.update(
        PYTHONPATH=os.pathsep.join(
            [str(stage), str(SUPPORT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
        ),
        LD_PRELOAD=":".join(_runtime_libraries(module, cxx)),
        # Python leaks by design; allocator_may_return_null: an impossible allocation is a
        # MemoryError, as without ASan (tests check that), instead of an ASan abort.
        ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:allocator_may_return_null=1:"
        f"log_path={logs / 'asan'}",
        UBSAN_OPTIONS=f"print_stacktrace=1:halt_on_error=1:log_path={logs / 'ubsan'}",
        FASTNN_STAGED_DIR=str(stage),
        FASTNN_SANITIZER_MARKER=str(marker),
        FASTNN_PROPERTY_EXAMPLES_SCALE=PROPERTY_EXAMPLES_SCALE,
    )
    t0 = time.perf_counter()
    # --capture=sys: what the core or a runtime writes to file descriptors 1 and 2 (an Eigen
    # assertion, std::terminate) reaches this output even when the process aborts.
    child = _run([sys.executable, "-m", "pytest", *tests, "-q", "-p", "no:cacheprovider",
                  "-p", "sanitized_import", "--capture=sys", "--durations=5"],
                 timeout=TESTS_TIMEOUT, cwd=REPO, env=env)
    tests_seconds = time.perf_counter() - t0
    output = child.stdout
    logged = "".join(f"--- {log.name}\n{log.read_text(errors='replace')}"
                     for log in sorted(logs.iterdir()))
    print(f"sanitized build {build_seconds:.0f} s, tests {tests_seconds:.0f} s\n"
          + output[-3000:])

    assert marker.exists(), f"the child never imported fastnn:\n{output[-6000:]}"
    imported = json.loads(marker.read_text())
    assert Path(imported["core"]).parent == (stage / "fastnn").resolve(), imported
    assert imported["asan"] and imported["ubsan"], imported
    reports = [p for p in REPORT_PATTERNS if p in output or p in logged]
    assert not reports, f"sanitizer reports {reports}:\n{logged[:20000]}\n{output[-10000:]}"
    assert child.returncode == 0, f"child pytest exit code {child.returncode}:\n{output[-8000:]}"
    assert re.search(r"\b\d+ passed\b", output), output[-2000:]
