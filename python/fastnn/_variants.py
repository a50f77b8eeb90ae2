"""Which build of the core this machine runs: the instruction-set variant chosen at import.

A default x86_64 build holds one core per x86-64 micro-architecture level -- ``_core_v2``
(SSE4.2, POPCNT), ``_core_v3`` (AVX2, FMA, BMI2) and ``_core_v4`` (AVX-512 F/BW/CD/DQ/VL) -- and a
small detector, ``_cpu``, built for the baseline instruction set, which reports what the CPU and
its OS support. ``import fastnn`` loads the best variant the machine can run;
``FASTNN_CPU_VARIANT=v2|v3|v4`` forces one. A build with ``FASTNN_NATIVE=ON`` (or with dispatch
turned off) holds a single ``_core``. This module imports nothing of fastnn.
"""

import importlib
import importlib.util
import os

__all__ = ["REQUIREMENTS", "choose", "load", "loaded"]

# What load chose: (variant or None for a single-core build, why).
loaded = (None, "not loaded")

_V2 = ("cx16", "lahf_lm", "popcnt", "sse3", "ssse3", "sse4_1", "sse4_2")
_V3 = _V2 + ("avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave")
_V4 = _V3 + ("avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl")
# The CPU (and OS) features each variant's instructions need, as /proc/cpuinfo names them.
REQUIREMENTS = {"v2": _V2, "v3": _V3, "v4": _V4}


def _missing(variant, features):
    return [f for f in REQUIREMENTS[variant] if not features.get(f)]


def choose(features, available, forced=None):
    """(variant, reason): the best of ``available`` variants ('v2', 'v3', 'v4') whose every
    required feature is true in ``features``, or ``forced`` (``FASTNN_CPU_VARIANT``) when the
    machine can run it. Raises ImportError, saying why, when none can run."""
    if forced:
        if forced not in REQUIREMENTS:
            raise ImportError(f"FASTNN_CPU_VARIANT={forced!r}: not one of "
                              f"{', '.join(REQUIREMENTS)}")
        if forced not in available:
            raise ImportError(f"FASTNN_CPU_VARIANT={forced!r}: this build of fastnn has "
                              f"{', '.join(available) or 'no variants'}")
        missing = _missing(forced, features)
        if missing:
            raise ImportError(f"FASTNN_CPU_VARIANT={forced!r}: this CPU (or its OS) lacks "
                              f"{', '.join(missing)}")
        return forced, "forced by FASTNN_CPU_VARIANT"
    runnable = [v for v in sorted(available) if not _missing(v, features)]
    if not runnable:
        raise ImportError("this CPU lacks what fastnn's least demanding core needs (x86-64-v2): "
                          + ", ".join(_missing("v2", features)))
    best = runnable[-1]
    higher = [v for v in sorted(REQUIREMENTS) if v > best and v in available]
    why = f"the best this CPU and OS run ({best}"
    if higher:
        why += f"; {higher[0]} needs {', '.join(_missing(higher[0], features))}"
    return best, why + ")"


def load(package):
    """Import the core of ``package`` ('fastnn'): the module; ``loaded`` says which and why."""
    global loaded
    forced = os.environ.get("FASTNN_CPU_VARIANT", "").strip() or None
    available = [v for v in REQUIREMENTS
                 if importlib.util.find_spec(f"{package}._core_{v}") is not None]
    if not available:  # one core: native or portable
        if forced:
            raise ImportError(f"FASTNN_CPU_VARIANT={forced!r}: this build of fastnn has a single "
                              "core (built with FASTNN_NATIVE=ON or without CPU dispatch)")
        module = importlib.import_module(f"{package}._core")
        loaded = (None, "a single-core build")
        return module
    features = importlib.import_module(f"{package}._cpu").features()
    variant, reason = choose(features, available, forced)
    module = importlib.import_module(f"{package}._core_{variant}")
    loaded = (variant, reason)
    return module
