"""The same build gives the same bits on every machine (cpp/fastnn/gemm.hpp).

Eigen sizes its GEMM blocks from the cache sizes the CPU reports, and a block's depth decides how
a dot product's terms are grouped before they are summed, so left alone the same binary rounds
differently on a CPU with another L1. The core pins the sizes when it loads. These tests show the
bits do follow the sizes Eigen is told (so the pin is what makes them machine-independent), that
every core is pinned whatever this CPU reports, and -- on any machine that runs this file with
the same variant, compiler and Eigen -- that a fit reproduces the digests recorded in
tests/data/reference_bits.json. A deliberate change of the core's arithmetic re-records them:
``python tests/support/record_bits.py``.
"""

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import fastnn
from fastnn import _core, _variants

PINNED = (32 * 1024, 1024 * 1024, 32 * 1024 * 1024)  # kPinnedCacheSizes
# What other CPUs report (L1d, L2, L3 in bytes): what Eigen's blocking would use there unpinned.
OTHER_CPUS = {
    "Ice Lake / Sapphire Rapids / Zen 5": (48 * 1024, 2 * 1024 * 1024, 105 * 1024 * 1024),
    "Skylake client": (32 * 1024, 256 * 1024, 8 * 1024 * 1024),
    "Apple M / Graviton 3": (64 * 1024, 1024 * 1024, 32 * 1024 * 1024),
}
REFERENCE = Path(__file__).resolve().parents[1] / "data" / "reference_bits.json"


def build_key():
    """What the recorded bits are a function of: the variant (instruction set), the compiler,
    Eigen and the vector math libraries (exp, tanh), without the instruction set each names in
    parentheses (the variant says it). None for a native build (its instructions are the building
    machine's)."""
    info = _core.build_info()
    if info["native"]:
        return None
    vector_math = re.sub(r" \([^)]*\)", "", info["vector_math"])
    return (f"{_variants.loaded[0] or 'portable'} | {info['compiler']} | "
            f"Eigen {info['eigen_version']} | {vector_math}")


def digests():
    """SHA-256 of the weights after a short fit whose input layer (784 wide) is deeper than one
    GEMM block, in each dtype: Adam and SGD with momentum, 1 and 2 threads (relu hidden layers,
    softmax output), a tanh net with Adam, and a net in item mode (workspace.hpp) with Adam."""
    import hashlib

    rng = np.random.RandomState(0)
    X = rng.normal(size=(400, 784))
    y = rng.randint(0, 10, 400)
    out = {}
    runs = [(solver, n_threads, "relu") for solver in ("adam", "sgd") for n_threads in (1, 2)]
    runs.append(("adam", 2, "tanh"))
    runs.append(("adam", 2, "item mode"))  # a 784 x 192 layer: row items and gradient tiles
    for dtype in ("float64", "float32"):
        for solver, n_threads, activation in runs:
            hidden = (192, 48) if activation == "item mode" else (96, 48)
            activation = "relu" if activation == "item mode" else activation
            model = fastnn.MLPClassifier(hidden, solver=solver, batch_size=100, max_iter=2,
                                         activation=activation, random_state=0,
                                         n_threads=n_threads)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # max_iter reached, by design
                model.fit(X.astype(dtype), y)
            h = hashlib.sha256()
            for w in model.coefs_ + model.intercepts_:
                h.update(np.ascontiguousarray(w).tobytes())
            name = f"{dtype} {solver} {n_threads} thread(s)"
            suffix = " item mode" if hidden[0] == 192 else f" {activation}"
            suffix = "" if suffix == " relu" else suffix
            out[name + suffix] = h.hexdigest()[:16]
    return out


def test_every_core_pins_its_cache_sizes_whatever_the_cpu_reports():
    assert _core.gemm_cache_sizes() == PINNED
    assert len(_core.detected_cache_sizes()) == 3  # what the blocking would otherwise follow


def test_the_bits_follow_the_cache_sizes_so_the_pin_is_what_makes_them_the_same():
    pinned = digests()
    # the threads agree; dtypes, solvers, activations and the item-mode net do not
    assert len(set(pinned.values())) == 8
    unpinned = {}
    try:
        for cpu, sizes in OTHER_CPUS.items():
            _core._set_gemm_cache_sizes(*sizes)
            unpinned[cpu] = digests()
    finally:
        _core._set_gemm_cache_sizes(*PINNED)
    assert digests() == pinned
    # unpinned, some common CPU would round differently from this one
    assert any(d != pinned for d in unpinned.values()), unpinned


def test_a_build_reproduces_its_recorded_bits():
    key = build_key()
    if key is None:
        pytest.skip("a native build: its bits are its building machine's")
    recorded = json.loads(REFERENCE.read_text())
    if key not in recorded:
        pytest.skip(f"no digests recorded for {key!r} (python tests/support/record_bits.py)")
    assert digests() == recorded[key]
