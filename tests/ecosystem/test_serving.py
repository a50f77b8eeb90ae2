"""The serving example (examples/serving): answers, errors, and a bounded load test under
gunicorn --preload, whose workers are forked after the model predicted with its threads."""

import importlib.util
import io
import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import fastnn

SERVING = Path(__file__).resolve().parents[2] / "examples" / "serving"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    X = np.random.RandomState(0).normal(size=(200, 6))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = fastnn.MLPClassifier((16,), max_iter=50, random_state=0).fit(X, y)
    path = tmp_path_factory.mktemp("serving") / "model.npz"
    fastnn.save(model, path)
    mp = pytest.MonkeyPatch()
    mp.setenv("FASTNN_MODEL", str(path))
    spec = importlib.util.spec_from_file_location("serving_app", SERVING / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    mp.undo()
    return module, model, X


def call(module, method, path, body=b""):
    status = []
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "CONTENT_LENGTH": str(len(body)),
               "wsgi.input": io.BytesIO(body)}
    data = b"".join(module.application(environ, lambda s, headers: status.append(s)))
    return status[0], json.loads(data)


def test_predict_answers_what_the_model_predicts(app):
    module, model, X = app
    status, answer = call(module, "POST", "/predict", json.dumps({"X": X[:7].tolist()}).encode())
    assert status == "200 OK"
    assert answer == {"predictions": model.predict(X[:7]).tolist(),
                      "probabilities": model.predict_proba(X[:7]).tolist()}  # bit for bit


@pytest.mark.parametrize("body,message", [
    (b"{not json", "Expecting property name"),
    (b'{"rows": [[1]]}', "'X'"),
    (b'{"X": [[1, 2]]}', "rows of 6 numbers"),
    (b'{"X": [[NaN, 0, 0, 0, 0, 0]]}', "NaN"),
])
def test_bad_requests_get_a_400_that_says_why(app, body, message):
    status, answer = call(app[0], "POST", "/predict", body)
    assert status == "400 Bad Request" and message in answer["error"], answer


def test_health_and_unknown_paths(app):
    assert call(app[0], "GET", "/health")[1]["status"] == "ok"
    assert call(app[0], "GET", "/predict")[0] == "404 Not Found"


@pytest.mark.slow
@pytest.mark.subprocess
def test_a_bounded_load_test_under_gunicorn_preload():
    pytest.importorskip("gunicorn")
    proc = subprocess.run(
        [sys.executable, str(SERVING / "load_test.py"), "--requests", "400", "--clients", "4",
         "--json"], capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["errors"] == 0 and result["identical_to_in_process"], result
    assert len(result["worker_rss_growth_mib"]) == 2  # both workers measured
    assert all(growth < 8 for growth in result["worker_rss_growth_mib"]), result
    assert 0 < result["p50_ms"] <= result["p99_ms"] < 1000, result
