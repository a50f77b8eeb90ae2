"""The core's instruction-set variants: which one import chooses, and that each variant this
machine can run computes what the others do (fastnn._variants, cpp/bindings/cpu.cpp)."""

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import fastnn
from fastnn import _variants

PACKAGE = Path(fastnn.__file__).parent
BUILT = [v for v in _variants.REQUIREMENTS if list(PACKAGE.glob(f"_core_{v}.*"))]
needs_variants = pytest.mark.skipif(not BUILT, reason="a single-core build (no CPU dispatch)")


def _cpu(*levels):
    """Simulated CPU features: everything the given levels need, nothing else."""
    return {f: True for level in levels for f in _variants.REQUIREMENTS[level]}


# ----------------------------------------------------------------------------- selection
@pytest.mark.parametrize(
    "features,expected",
    [
        (_cpu("v2"), "v2"),
        (_cpu("v3"), "v3"),
        (_cpu("v4"), "v4"),
        # AVX-512 in the CPU but not saved by the OS (the detector reports it false)
        ({**_cpu("v4"), "avx512f": False}, "v3"),
        # AVX2 without FMA (some VIA / early Zhaoxin parts)
        ({**_cpu("v3"), "fma": False}, "v2"),
    ],
    ids=["sse4.2", "avx2", "avx512", "avx512-without-os-support", "avx2-without-fma"],
)
def test_the_best_variant_the_cpu_runs_is_chosen(features, expected):
    variant, reason = _variants.choose(features, ["v2", "v3", "v4"])
    assert variant == expected
    assert expected in reason


def test_the_reason_names_what_the_next_level_lacks():
    _, reason = _variants.choose({**_cpu("v4"), "avx512bw": False}, ["v2", "v3", "v4"])
    assert "v4 needs avx512bw" in reason


def test_only_built_variants_are_chosen():
    assert _variants.choose(_cpu("v4"), ["v2", "v3"])[0] == "v3"


def test_a_cpu_below_the_baseline_is_an_import_error_that_says_why():
    with pytest.raises(ImportError, match="sse4_2"):
        _variants.choose({**_cpu("v2"), "sse4_2": False}, ["v2", "v3", "v4"])


def test_forcing_a_variant():
    assert _variants.choose(_cpu("v4"), ["v2", "v3", "v4"], "v2") == (
        "v2", "forced by FASTNN_CPU_VARIANT")
    with pytest.raises(ImportError, match=r"lacks avx512f, avx512bw"):
        _variants.choose(_cpu("v3"), ["v2", "v3", "v4"], "v4")
    with pytest.raises(ImportError, match="not one of v2, v3, v4"):
        _variants.choose(_cpu("v4"), ["v2", "v3", "v4"], "avx2")
    with pytest.raises(ImportError, match="has v2, v3"):
        _variants.choose(_cpu("v4"), ["v2", "v3"], "v4")


# ------------------------------------------------------------------------ this machine
def _cpuinfo_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split()) | (
                        {"sse3"} if "pni" in line.split() else set())  # SSE3 is "pni" there
    except OSError:
        pass
    return None


@needs_variants
@pytest.mark.skipif(_cpuinfo_flags() is None, reason="needs Linux /proc/cpuinfo")
def test_the_detector_agrees_with_the_kernel_and_the_best_variant_is_loaded():
    from fastnn import _cpu as detector

    features = detector.features()
    flags = _cpuinfo_flags()
    assert {f for f, present in features.items() if present} == set(features) & flags
    best = max(v for v in BUILT if all(f in flags for f in _variants.REQUIREMENTS[v]))
    if not os.environ.get("FASTNN_CPU_VARIANT"):
        assert _variants.loaded[0] == best
        assert fastnn._core.__name__ == f"fastnn._core_{best}"


def _runnable():
    flags = _cpuinfo_flags() or set()
    return [v for v in BUILT if all(f in flags for f in _variants.REQUIREMENTS[v])]


_CHILD = textwrap.dedent(
    """
    import sys, numpy as np, fastnn, warnings
    from fastnn import _variants
    assert _variants.loaded[0] == sys.argv[1], _variants.loaded
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 20)); y = rng.randint(0, 3, 300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = fastnn.MLPClassifier((32, 16), max_iter=5, random_state=0).fit(X, y)
    np.save(sys.argv[2] + "/proba_" + sys.argv[1] + ".npy", model.predict_proba(X))
    fastnn.save(model, sys.argv[2] + "/model_" + sys.argv[1] + ".npz")
    """
)


@needs_variants
@pytest.mark.slow
@pytest.mark.subprocess
def test_every_runnable_variant_fits_alike_and_reads_the_others_models(tmp_path):
    variants = _runnable()
    for v in variants:
        env = dict(os.environ, FASTNN_CPU_VARIANT=v)
        proc = subprocess.run([sys.executable, "-c", _CHILD, v, str(tmp_path)], env=env,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
    ref = np.load(tmp_path / f"proba_{variants[0]}.npy")
    for v in variants[1:]:
        # across instruction sets the products round differently: equal to rounding only
        np.testing.assert_allclose(np.load(tmp_path / f"proba_{v}.npy"), ref, rtol=1e-8,
                                   atol=1e-10)
    X = np.random.RandomState(0).normal(size=(300, 20))
    for v in variants:  # a model saved under any variant loads and predicts under this one
        loaded = fastnn.load(tmp_path / f"model_{v}.npz")
        np.testing.assert_allclose(loaded.predict_proba(X), ref, rtol=1e-8, atol=1e-10)


@needs_variants
@pytest.mark.slow
@pytest.mark.subprocess
@pytest.mark.parametrize("variant", ["v2", "v3", "v4"])
def test_each_variant_passes_the_gradient_parity_and_thread_tests(variant):
    if variant not in _runnable():
        pytest.skip(f"this CPU cannot run {variant}")
    tests = Path(__file__).resolve().parents[1]
    env = dict(os.environ, FASTNN_CPU_VARIANT=variant)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x",
         str(tests / "core" / "test_gradients.py"),
         str(tests / "core" / "test_thread_invariance.py"), "-k", "not column-mode",
         str(tests / "core" / "test_same_bits.py"),
         str(tests / "estimator" / "test_sklearn_parity.py")],
        env=env, capture_output=True, text=True, timeout=600, cwd=tests.parent,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert re.search(r"\d+ passed", proc.stdout)


@needs_variants
@pytest.mark.subprocess
@pytest.mark.skipif(shutil.which("objdump") is None, reason="needs binutils' objdump")
@pytest.mark.parametrize("module", ["_core_v2", "_cpu"])
def test_baseline_modules_hold_no_avx_instruction(module):
    path = next(PACKAGE.glob(f"{module}.*"))
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", str(path)],
                         capture_output=True, text=True, timeout=300).stdout
    assert len(out) > 10_000  # really disassembled
    avx = re.findall(r"%[yz]mm\d+|\tv(?:zeroupper|mov\w*|add\w*|mul\w*|fmadd\w*|xorp\w*|"
                     r"broadcast\w*|perm\w*|pxor|padd\w*)\b", out)
    assert not avx, avx[:10]
    if module == "_core_v2":  # ... while the v4 core does use AVX-512
        v4 = subprocess.run(["objdump", "-d", "--no-show-raw-insn",
                             str(next(PACKAGE.glob("_core_v4.*")))],
                            capture_output=True, text=True, timeout=300).stdout
        assert re.search(r"%zmm\d+", v4)
