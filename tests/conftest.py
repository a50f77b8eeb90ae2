import faulthandler
import os
import sys

import pytest

# Make the helper modules (_reference.py, _util.py) importable whatever the
# pytest import mode.
_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)


# A hung test fails the run in seconds instead of stalling it: each test runs under a watchdog
# that, past its limit, prints every thread's stack and ends pytest with an error. (Tests that
# start a child process also give it a timeout, so a hung child fails its test alone.)
# FASTNN_TEST_TIMEOUT_S sets the limit of the fast layer's tests; slow ones get ten times it.
TIMEOUT_S = float(os.environ.get("FASTNN_TEST_TIMEOUT_S", "120"))
_stderr = sys.stderr  # the terminal's, not pytest's capture of it (pytest_configure)


def pytest_configure(config):
    global _stderr
    capture = config.pluginmanager.getplugin("capturemanager")
    if capture is not None:
        with capture.global_and_fixture_disabled():
            _stderr = os.fdopen(os.dup(2), "w")


def pytest_unconfigure(config):
    global _stderr
    if _stderr is not sys.stderr and _stderr is not sys.__stderr__:
        _stderr.close()
    _stderr = sys.stderr


@pytest.fixture(autouse=True)
def _watchdog(request):
    slow = request.node.get_closest_marker("slow") is not None
    faulthandler.dump_traceback_later(TIMEOUT_S * (10 if slow else 1), exit=True, file=_stderr)
    yield
    faulthandler.cancel_dump_traceback_later()
