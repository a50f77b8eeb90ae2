"""fastnn.show_config() / python -m fastnn: a bug report's facts, consistent with the build."""

import io
import platform
import re
import subprocess
import sys

import pytest

import fastnn
from fastnn import _core


def test_show_config_prints_every_fact_of_config():
    out = io.StringIO()
    fastnn.show_config(file=out)
    facts = fastnn._config.config()
    lines = out.getvalue().splitlines()
    assert len(lines) == len(facts)
    for line, (key, value) in zip(lines, facts.items()):
        name, _, shown = line.partition(" : ")
        assert name.strip() == key
        assert shown == (str(value) if value is not None else "-")
    assert facts["fastnn"] == fastnn.__version__
    assert facts["max_threads"] == _core.max_threads() >= 1


def test_build_facts_agree_with_the_core():
    facts = fastnn._config.config()
    build = _core.build_info()
    assert re.match(r"3\.4\.\d+ from (system|PyPI cmeel-eigen) \(.*eigen3", facts["eigen"])
    # the blocking's cache sizes are the pinned ones, not this CPU's (tests/core/test_same_bits.py)
    assert facts["gemm_blocking"].startswith("cache sizes pinned: L1 32 KiB, L2 1 MiB, L3 32 MiB")
    assert ("-march=native" in facts["flags"]) == build["native"]
    assert facts["build"].startswith("native") == build["native"]
    assert (build["openmp"] > 0) == _core.has_openmp
    if _core.has_openmp:
        assert facts["openmp_runtime"], "the core links an OpenMP runtime threadpoolctl sees"
    simd = facts["simd"].split(", ")
    if platform.machine() == "x86_64":
        assert "SSE2" in simd
        cpu = facts["cpu_simd_flags"].split()
        if build["native"]:  # -march=native: the core uses what the CPU has
            assert ("AVX2" in simd) == ("avx2" in cpu)
            assert ("AVX512" in simd) == ("avx512f" in cpu)
        elif "-march=x86-64-v" in facts["flags"]:  # a variant: its level's instructions
            variant = facts["build"].rsplit(" ", 1)[-1]
            assert ("AVX2" in simd) == (variant in ("v3", "v4"))
            assert ("AVX512" in simd) == (variant == "v4")
        elif "-march" not in facts["flags"]:  # portable: x86-64's baseline only
            assert "AVX" not in simd


@pytest.mark.subprocess
def test_python_m_fastnn_prints_the_config():
    proc = subprocess.run([sys.executable, "-m", "fastnn"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    first = proc.stdout.splitlines()[0]
    assert first.split(" : ") == [first.split(" : ")[0], fastnn.__version__]
    assert "simd" in proc.stdout and "openmp" in proc.stdout
