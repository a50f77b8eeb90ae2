"""fastnn's build backend: scikit-build-core's, plus Eigen from PyPI when the system has none.

The core needs Eigen 3.4's headers. CMakeLists.txt takes the system's (libeigen3-dev, conda,
Homebrew, anything on CMAKE_PREFIX_PATH or Eigen3_DIR) when there is one, and otherwise those of
the ``cmeel-eigen`` wheel, which this backend adds to the build requirements only then -- so
``pip install .`` works on a machine with nothing but a C++ compiler, and downloads nothing
beyond the package index. ``FASTNN_SYSTEM_EIGEN=OFF`` ignores the system's Eigen.
"""

import os
import re
import sys
from pathlib import Path

from scikit_build_core import build as _skbuild
from scikit_build_core.build import *  # noqa: F401,F403  (the PEP 517 hooks not redefined here)

PYPI_EIGEN = "cmeel-eigen>=3.4,<3.5"

# Where a system's Eigen3Config.cmake lives under an install prefix (Eigen 3.4's own layout, and
# the older share/cmake/eigen3 and lib/cmake/eigen3 ones).
_CONFIG_DIRS = ("share/eigen3/cmake", "share/cmake/eigen3", "lib/cmake/eigen3",
                "lib64/cmake/eigen3")
_PREFIXES = ("/usr/local", "/usr", "/opt/homebrew", "/opt/local")


def _off(value):
    return value.strip().upper() in ("0", "OFF", "FALSE", "NO", "N")


def _config_version(config_dir):
    """The version an Eigen3ConfigVersion.cmake declares, or None."""
    try:
        text = (Path(config_dir) / "Eigen3ConfigVersion.cmake").read_text()
    except OSError:
        return None
    match = re.search(r'set\(PACKAGE_VERSION\s+"?(\d+)\.(\d+)', text)
    return (int(match[1]), int(match[2])) if match else None


def system_eigen(env=None, prefixes=_PREFIXES):
    """The directory of a system Eigen 3.4's CMake package, or None when CMake will find none
    (or FASTNN_SYSTEM_EIGEN=OFF). CMake's find_package has the last word; this only decides
    whether the build needs the PyPI headers as a fallback."""
    env = os.environ if env is None else env
    if _off(env.get("FASTNN_SYSTEM_EIGEN", "ON")):
        return None
    candidates = [env["Eigen3_DIR"]] if env.get("Eigen3_DIR") else []
    roots = [p for p in env.get("CMAKE_PREFIX_PATH", "").split(os.pathsep) if p]
    roots += [env["CONDA_PREFIX"]] if env.get("CONDA_PREFIX") else []
    roots += [sys.prefix, *prefixes]
    candidates += [str(Path(root) / sub) for root in roots for sub in _CONFIG_DIRS]
    for config_dir in candidates:
        if _config_version(config_dir) == (3, 4):
            return config_dir
    return None


def _with_eigen(requires):
    return list(requires) + ([] if system_eigen() else [PYPI_EIGEN])


def get_requires_for_build_wheel(config_settings=None):
    return _with_eigen(_skbuild.get_requires_for_build_wheel(config_settings))


def get_requires_for_build_editable(config_settings=None):
    return _with_eigen(_skbuild.get_requires_for_build_editable(config_settings))
