"""pytest plugin for the sanitizer job's child process (see tests/test_sanitizers.py).

Loaded with ``-p sanitized_import`` before any test module: makes ``import fastnn`` resolve to
the staged copy in ``$FASTNN_STAGED_DIR`` (whose ``_core`` is the sanitized build) rather than
an installed one -- an editable install's import hook would otherwise win over PYTHONPATH --
and refuses to run unless the sanitized module is the one imported and the sanitizer runtimes
are loaded. What it found is written to ``$FASTNN_SANITIZER_MARKER`` for the parent to check.
"""

import json
import os
import sys

_STAGED = os.path.realpath(os.environ["FASTNN_STAGED_DIR"])

# scikit-build-core's editable installs put a finder ahead of sys.path; drop any such finder.
sys.meta_path[:] = [f for f in sys.meta_path if not type(f).__module__.startswith("_editable")]
for _name in [m for m in sys.modules if m == "fastnn" or m.startswith("fastnn.")]:
    del sys.modules[_name]
if _STAGED not in sys.path[:1]:
    sys.path.insert(0, _STAGED)

import fastnn
import fastnn._core


def _mapped_libraries():
    with open("/proc/self/maps") as maps:
        return sorted({line.split()[-1] for line in maps if ".so" in line.rsplit("/", 1)[-1]})


_core_file = os.path.realpath(fastnn._core.__file__)
_libraries = _mapped_libraries()
_found = {
    "core": _core_file,
    "package": os.path.realpath(fastnn.__file__),
    "asan": any("asan" in os.path.basename(p) for p in _libraries),
    "ubsan": any("ubsan" in os.path.basename(p) for p in _libraries),
}
with open(os.environ["FASTNN_SANITIZER_MARKER"], "w") as marker:
    json.dump(_found, marker)

if os.path.dirname(os.path.dirname(_core_file)) != _STAGED:
    raise ImportError(f"fastnn._core came from {_core_file}, not from the staged {_STAGED}")
if not (_found["asan"] and _found["ubsan"]):
    raise ImportError(f"sanitizer runtimes not loaded: {_found}")
