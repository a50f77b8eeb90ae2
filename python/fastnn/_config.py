"""``fastnn.show_config()``: how this fastnn was built and what it runs on, for a bug report."""

import os
import platform
import sys

from fastnn import _core, _variants

__all__ = ["config", "show_config"]

# The CPU features the core's SIMD code can use, as /proc/cpuinfo names them.
_SIMD_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl",
               "asimd", "sve")


def _cpu():
    """The CPU's model name and its SIMD flags (Linux's /proc/cpuinfo; elsewhere the platform)."""
    model, flags = platform.processor() or platform.machine(), []
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name" and model in ("", platform.machine(), platform.processor()):
                    model = value.strip()
                elif key in ("flags", "Features") and not flags:
                    present = set(value.split())
                    flags = [f for f in _SIMD_FLAGS if f in present]
    except OSError:
        pass
    return model, flags


def _openmp_runtime():
    """The OpenMP runtime the core uses, as threadpoolctl finds it (None without threadpoolctl
    or OpenMP)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    core = os.path.realpath(_core.__file__)
    runtimes = [i for i in threadpool_info() if i.get("user_api") == "openmp"]
    # the runtime the core links (threadpoolctl lists every loaded one)
    runtimes.sort(key=lambda i: os.path.dirname(core) not in i.get("filepath", ""))
    return runtimes[0] if runtimes else None


def _kib(n):
    return f"{n // 1024 // 1024} MiB" if n >= 1024 * 1024 else f"{n // 1024} KiB"


def _cache_sizes(sizes):
    return ", ".join(f"L{i} {_kib(n) if n > 0 else '?'}" for i, n in enumerate(sizes, 1))


def config():
    """The facts ``show_config`` prints, as a dict."""
    import numpy
    import scipy
    import sklearn

    build = _core.build_info()
    model, flags = _cpu()
    runtime = _openmp_runtime()
    variant, reason = _variants.loaded
    return {
        "fastnn": _core.__version__,
        "core": _core.__file__,
        "build": ("native (-march=native)" if build["native"]
                  else f"CPU dispatch: {variant}" if variant else "portable"),
        "variant": reason,
        "compiler": build["compiler"],
        "flags": " ".join(f.replace("SHELL:", "") for f in build["flags"].split()),
        "simd": build["simd"],
        "eigen": f"{build['eigen_version']} from {build['eigen_source']}",
        "vector_math": build["vector_math"],
        "gemm_blocking": (f"cache sizes pinned: {_cache_sizes(_core.gemm_cache_sizes())} (this CPU "
                          f"reports {_cache_sizes(_core.detected_cache_sizes())})"),
        "openmp": (f"OpenMP {build['openmp']}" if build["openmp"] else "none (serial build)"),
        "openmp_runtime": (" ".join(filter(None, (runtime.get("prefix"), runtime.get("version"))))
                           + f" ({runtime.get('filepath')})" if runtime else None),
        "max_threads": _core.max_threads(),
        "cpu": model,
        "cpu_simd_flags": " ".join(flags),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
    }


def show_config(file=None):
    """Print how this fastnn was built and what it runs on: version, build (native or portable),
    compiler and flags, the SIMD instructions the core uses, Eigen (and the cache sizes its GEMM
    blocking is pinned to), the library evaluating tanh and exp, OpenMP (runtime and
    thread count), the CPU, Python and the libraries fastnn works with. Paste it into a bug
    report. ``python -m fastnn`` prints the same.

    Parameters
    ----------
    file : file-like, default=None
        Where to print (``sys.stdout`` when None).
    """
    facts = config()
    width = max(len(k) for k in facts)
    for key, value in facts.items():
        print(f"{key:<{width}} : {value if value is not None else '-'}", file=file or sys.stdout)
