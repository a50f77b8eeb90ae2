"""A bounded load test of the fastnn service (app.py) under gunicorn, on 127.0.0.1.

Trains a classifier on scikit-learn's digits and saves it with ``fastnn.save`` (or serves
``--model``), starts ``gunicorn --preload`` with ``--workers`` worker processes, and sends a fixed
number of ``POST /predict`` requests from ``--clients`` client threads; it stops by itself. It
reports latency p50 / p99, requests per second, errors, whether every answer is identical to
the in-process ``predict`` / ``predict_proba``, and each worker's resident memory after warm-up
and at the end::

    python examples/serving/load_test.py                     # 2000 requests, 8 clients
    python examples/serving/load_test.py --requests 300 --json

Needs gunicorn (``pip install gunicorn``).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np

import fastnn

HERE = Path(__file__).resolve().parent


def train_model(path):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter reached
        model = fastnn.MLPClassifier((128, 64), max_iter=30, random_state=0).fit(X / 16.0, y)
    fastnn.save(model, path)
    return X / 16.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(conn, rows):
    body = json.dumps({"X": rows.tolist()})
    t0 = time.perf_counter()
    conn.request("POST", "/predict", body, {"Content-Type": "application/json"})
    response = conn.getresponse()
    data = response.read()
    return time.perf_counter() - t0, response.status, data


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def worker_pids(master):
    """gunicorn's worker processes: the master's children."""
    children = Path(f"/proc/{master}/task/{master}/children")
    if children.exists():
        return sorted(int(p) for p in children.read_text().split())
    return []


def start_server(model_path, port, workers, threads):
    env = dict(os.environ, FASTNN_MODEL=str(model_path))
    if threads:
        env["FASTNN_SERVING_THREADS"] = str(threads)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--preload", "--workers", str(workers),
         "--bind", f"127.0.0.1:{port}", "--chdir", str(HERE), "--log-level", "warning",
         "app:application"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # bounded wait for the workers
        if server.poll() is not None:
            raise RuntimeError("gunicorn exited:\n" + server.stdout.read())
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200 and len(worker_pids(server.pid)) == workers:
                return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("gunicorn did not answer within 60 s")


def load_test(requests=2000, clients=8, rows=1, workers=2, threads=None, model=None, seed=0):
    """Run the load test; returns its measurements as a dict."""
    with tempfile.TemporaryDirectory() as tmp:
        model_path = Path(model) if model else Path(tmp) / "model.npz"
        X_pool = train_model(model_path) if model is None else None
        local = fastnn.load(model_path)
        rng = np.random.RandomState(seed)
        if X_pool is None:
            X_pool = rng.normal(size=(1000, local.n_features_in_))
        batches = [X_pool[rng.randint(0, len(X_pool), rows)] for _ in range(requests)]
        port = free_port()
        server = start_server(model_path, port, workers, threads)
        try:
            pids = worker_pids(server.pid)
            # warm-up: every worker answers a few requests before memory is read
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            for batch in batches[: 20 * workers]:
                post(conn, batch)
            conn.close()
            rss_before = {pid: rss_kib(pid) for pid in pids}

            latencies, answers, errors = [None] * requests, [None] * requests, []
            next_request = iter(range(requests))
            lock = threading.Lock()

            def client():
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                while True:
                    with lock:
                        i = next(next_request, None)
                    if i is None:
                        break
                    try:
                        seconds, status, data = post(conn, batches[i])
                    except OSError as e:  # a dropped connection counts as an error
                        errors.append(repr(e))
                        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                        continue
                    latencies[i] = seconds
                    if status != 200:
                        errors.append(f"{status}: {data[:200]!r}")
                        continue
                    answers[i] = data
                conn.close()

            t0 = time.perf_counter()
            pool = [threading.Thread(target=client) for _ in range(clients)]
            for t in pool:
                t.start()
            for t in pool:
                t.join()
            elapsed = time.perf_counter() - t0
            rss_after = {pid: rss_kib(pid) for pid in pids}
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        # every answer against the in-process model (after the timed run, not to load it)
        mismatches = [i for i, data in enumerate(answers) if data is not None and (
            json.loads(data) != {"predictions": local.predict(batches[i]).tolist(),
                                 "probabilities": local.predict_proba(batches[i]).tolist()})]
        done = sorted(s for s in latencies if s is not None)
        return {
            "requests": requests, "clients": clients, "rows_per_request": rows,
            "workers": workers, "threads_per_worker": threads or "default",
            "p50_ms": 1e3 * statistics.median(done) if done else None,
            "p99_ms": 1e3 * done[int(0.99 * (len(done) - 1))] if done else None,
            "requests_per_second": requests / elapsed,
            "errors": len(errors), "first_errors": errors[:3],
            "identical_to_in_process": not mismatches and None not in answers,
            "worker_rss_mib_after_warmup": [round(rss_before[p] / 1024, 1) for p in pids],
            "worker_rss_growth_mib": [round((rss_after[p] - rss_before[p]) / 1024, 2)
                                      for p in pids],
        }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rows", type=int, default=1, help="rows per request")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, help="fastnn threads per worker")
    parser.add_argument("--model", help="a model saved with fastnn.save (default: train one)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    result = load_test(args.requests, args.clients, args.rows, args.workers, args.threads,
                       args.model)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>30}: {value}")
    ok = result["errors"] == 0 and result["identical_to_in_process"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
