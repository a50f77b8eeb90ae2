"""Smoke test of the scripts in examples/: each runs with --quick and writes its figure.

Each script runs in its own interpreter, as a user would run it, with matplotlib's
non-interactive Agg backend and its figure sent to a temporary directory.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

pytestmark = [pytest.mark.slow, pytest.mark.subprocess]

# script -> the PNG it saves
FIGURES = {
    "higham_worked_example.py": "higham_worked_example.png",
    "two_sigmoid_regression.py": "two_sigmoid_regression.png",
    "mnist1d_mlp.py": "mnist1d.png",
    "pixel_classification.py": "pixel_classification.png",
    "digits_gridsearch.py": "digits_gridsearch.png",
}

# Optional packages an example needs beyond the test extra's matplotlib.
NEEDS = {"mnist1d_mlp.py": "mnist1d"}


def test_every_example_is_smoke_tested():
    scripts = {p.name for p in EXAMPLES.glob("*.py")} - {"digits_vs_sklearn.py"}
    assert scripts == set(FIGURES)


@pytest.mark.parametrize("script", sorted(FIGURES))
def test_example_runs_quick_and_saves_its_figure(script, tmp_path):
    package = NEEDS.get(script)
    if package is not None and importlib.util.find_spec(package) is None:
        pytest.skip(f"{script} needs the {package!r} package (pip install .[examples])")
    env = dict(os.environ, MPLBACKEND="Agg")
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script), "--quick", "--out", str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    figure = tmp_path / FIGURES[script]
    assert figure.is_file(), result.stdout + result.stderr
    assert figure.stat().st_size > 0
    assert f"saved {figure}" in result.stdout


def test_the_readme_usage_block_runs(tmp_path):
    # The README's "Usage" code, run as a user would paste it (its asserts included), in an
    # empty directory (it saves a model there).
    readme = (EXAMPLES.parent / "README.md").read_text()
    usage = readme.split("\n## Usage\n", 1)[1]
    code = usage.split("```python\n", 1)[1].split("\n```", 1)[0]
    import fastnn

    # the fastnn this test runs against, wherever it lies (installed or a source tree)
    path = os.pathsep.join(filter(None, [str(Path(fastnn.__file__).resolve().parents[1]),
                                         os.environ.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
        timeout=300, check=False, env=dict(os.environ, PYTHONPATH=path),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "clf.npz").is_file()
