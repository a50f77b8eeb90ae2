"""The machine and the software measured: CPU, memory, versions, fastnn's build and commit."""

import datetime
import os
import platform
import subprocess
from pathlib import Path

import numpy as np
import scipy
import sklearn
from threadpoolctl import threadpool_info

import fastnn
import fastnn._core


def core_build_time():
    """Modification time of the loaded fastnn extension: identifies the build measured."""
    mtime = Path(fastnn._core.__file__).stat().st_mtime
    return datetime.datetime.fromtimestamp(mtime).strftime("%Y-%m-%d %H:%M:%S")


def machine_info(torch_version):
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        with open("/proc/meminfo") as f:
            mem_gb = int(f.readline().split()[1]) / 1024**2
    except OSError:
        mem_gb = float("nan")
    blas = sorted({f"{d.get('internal_api')} {d.get('version')}" for d in threadpool_info()
                   if d.get("user_api") == "blas"})
    repo = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "-C", str(repo), "describe", "--always", "--dirty"],
                                capture_output=True, text=True).stdout.strip()
    except OSError:
        commit = "?"
    return dict(
        date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        cpu=cpu, logical_cpus=os.cpu_count(), usable_cpus=len(os.sched_getaffinity(0)),
        memory_gb=round(mem_gb, 1), os=platform.platform(), python=platform.python_version(),
        numpy=np.__version__, scipy=scipy.__version__, sklearn=sklearn.__version__,
        torch=torch_version, fastnn=fastnn.__version__, fastnn_commit=commit,
        fastnn_core_built=core_build_time(),
        fastnn_openmp=bool(fastnn._core.has_openmp), numpy_blas=", ".join(blas) or "?",
        loadavg_start=os.getloadavg(),
    )
