"""A fastnn model served over HTTP: a plain WSGI application for gunicorn (or any WSGI server).

    FASTNN_MODEL=model.npz gunicorn --preload -w 2 -b 127.0.0.1:8000 app:application

``POST /predict`` with ``{"X": [[...], ...]}`` answers ``{"predictions": [...],
"probabilities": [[...], ...]}`` (probabilities for a classifier only); ``GET /health`` answers
``{"status": "ok", "pid": ...}``. Bad requests get a 400 with ``{"error": "..."}``.

The model is loaded with ``fastnn.load`` (a plain .npz, no pickle) when the module is imported:
with ``--preload`` that is once, in gunicorn's master, and the workers are forked from it after
the model has already predicted once with its threads -- what fastnn's fork safety is for
(README "Deploying").
"""

import json
import os

import numpy as np

import fastnn

MODEL = fastnn.load(os.environ["FASTNN_MODEL"])
N_FEATURES = MODEL.n_features_in_
# One warm-up prediction in the master: its OpenMP threads run before the workers are forked.
MODEL.predict(np.zeros((256, N_FEATURES)))

# Threads per worker: FASTNN_SERVING_THREADS, else fastnn's default (the worker's cores).
if os.environ.get("FASTNN_SERVING_THREADS"):
    MODEL.set_params(n_threads=int(os.environ["FASTNN_SERVING_THREADS"]))


def _respond(start_response, status, body):
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(data)))])
    return [data]


def predict(payload):
    """The JSON answer to a /predict payload."""
    X = np.asarray(payload["X"], dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != N_FEATURES:
        raise ValueError(f"X must be a list of rows of {N_FEATURES} numbers")
    answer = {"predictions": MODEL.predict(X).tolist()}
    if hasattr(MODEL, "predict_proba"):
        answer["probabilities"] = MODEL.predict_proba(X).tolist()
    return answer


def application(environ, start_response):
    path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
    if path == "/health" and method == "GET":
        return _respond(start_response, "200 OK", {"status": "ok", "pid": os.getpid()})
    if path != "/predict" or method != "POST":
        return _respond(start_response, "404 Not Found", {"error": "POST /predict"})
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        payload = json.loads(environ["wsgi.input"].read(length))
        return _respond(start_response, "200 OK", predict(payload))
    except (ValueError, KeyError, TypeError) as e:  # bad JSON, no X, wrong shape, NaN
        return _respond(start_response, "400 Bad Request", {"error": str(e)})
