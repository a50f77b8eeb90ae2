"""Out-of-core training: partial_fit streams a dataset from a memory-mapped .npy file chunk by
chunk, without loading it whole, and learns what it learns from the same chunks in memory."""

import json
import os
import pickle
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import fastnn

N_ROWS, N_FEATURES, N_CLASSES, CHUNK = 200_000, 32, 4, 10_000  # X: 25.6 MB of float32
MODEL = dict(hidden_layer_sizes=(32,), random_state=0)


def _make(rng, n, W):
    X = rng.normal(size=(n, N_FEATURES)).astype(np.float32)
    y = np.argmax(X @ W, axis=1).astype(np.int64)
    return X, y


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """X.npy (N_ROWS x N_FEATURES float32) and y.npy, written chunk by chunk, and a test set."""
    folder = tmp_path_factory.mktemp("out_of_core")
    W = np.random.RandomState(0).normal(size=(N_FEATURES, N_CLASSES)).astype(np.float32)
    X = np.lib.format.open_memmap(folder / "X.npy", mode="w+", dtype=np.float32,
                                  shape=(N_ROWS, N_FEATURES))
    y = np.lib.format.open_memmap(folder / "y.npy", mode="w+", dtype=np.int64, shape=(N_ROWS,))
    for i, start in enumerate(range(0, N_ROWS, CHUNK)):
        X[start:start + CHUNK], y[start:start + CHUNK] = _make(np.random.RandomState(i + 1),
                                                              CHUNK, W)
    X.flush()
    y.flush()
    del X, y
    test = _make(np.random.RandomState(12345), 5000, W)
    return folder, test


# Runs in a fresh interpreter: tracemalloc sees every numpy allocation (numpy reports them), so
# its peak is what the streaming held at once; RssAnon (Linux) is the anonymous resident memory,
# which C++ allocations count in too (the pages of the mapped file are file-backed, not anon).
_STREAM = """
import json, os, pickle, sys, tracemalloc, warnings
import numpy as np
import fastnn

folder, chunk = sys.argv[1], int(sys.argv[2])
model_params = json.loads(sys.argv[3])

def rss_anon():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None

warnings.simplefilter("ignore")
X = np.load(os.path.join(folder, "X.npy"), mmap_mode="r")
y = np.load(os.path.join(folder, "y.npy"), mmap_mode="r")
classes = np.arange(4)
# warm-up on another model: lazy imports and first-call caches are not the stream's memory
fastnn.MLPClassifier(**model_params).partial_fit(np.array(X[:500]), np.array(y[:500]),
                                                 classes=classes)
model = fastnn.MLPClassifier(**model_params)
anon_before = rss_anon()
anon_peak = anon_before
tracemalloc.start()
for start in range(0, X.shape[0], chunk):
    model.partial_fit(X[start:start + chunk], y[start:start + chunk], classes=classes)
    if anon_before is not None:
        anon_peak = max(anon_peak, rss_anon())
_, stream_peak = tracemalloc.get_traced_memory()
tracemalloc.reset_peak()
whole = np.load(os.path.join(folder, "X.npy"))  # the control: loading it whole
_, whole_peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
with open(os.path.join(folder, "streamed.pkl"), "wb") as f:
    pickle.dump(model, f)
print(json.dumps({"stream_peak": stream_peak, "whole_peak": whole_peak,
                  "anon_growth": None if anon_before is None else anon_peak - anon_before}))
"""


@pytest.mark.slow
@pytest.mark.subprocess
def test_partial_fit_streams_a_memmap_in_bounded_memory_and_learns_what_in_memory_chunks_teach(
    dataset,
):
    folder, (X_test, y_test) = dataset
    file_size = os.path.getsize(folder / "X.npy")
    assert file_size >= 20 * CHUNK * N_FEATURES * 4  # several (20) times the chunk
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_STREAM), str(folder), str(CHUNK),
         json.dumps(MODEL)],
        capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stderr
    memory = json.loads(out.stdout.strip().splitlines()[-1])

    # the control shows the measure sees a whole load; the stream held a few chunks at most
    assert memory["whole_peak"] >= file_size
    assert memory["stream_peak"] < file_size / 5, memory
    if memory["anon_growth"] is not None:
        assert memory["anon_growth"] < file_size / 5, memory

    with open(folder / "streamed.pkl", "rb") as f:
        streamed = pickle.load(f)
    assert streamed.score(X_test, y_test) >= 0.9

    # the same chunks, as in-memory arrays: bitwise the same model
    X = np.load(folder / "X.npy", mmap_mode="r")
    y = np.load(folder / "y.npy", mmap_mode="r")
    in_memory = fastnn.MLPClassifier(**MODEL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for start in range(0, N_ROWS, CHUNK):
            in_memory.partial_fit(np.array(X[start:start + CHUNK]),
                                  np.array(y[start:start + CHUNK]), classes=np.arange(4))
    assert streamed.coefs_[0].dtype == np.float32  # float32 chunks are trained as they are
    for a, b in zip(streamed.coefs_ + streamed.intercepts_,
                    in_memory.coefs_ + in_memory.intercepts_):
        assert np.array_equal(a, b)
    assert streamed.t_ == in_memory.t_ == N_ROWS


def test_partial_fit_reads_a_read_only_memmap_chunk_without_copying_it(dataset, monkeypatch):
    # a C-contiguous float32 slice of the map is handed to the core as it is
    from fastnn import _engine

    folder, _ = dataset
    X = np.load(folder / "X.npy", mmap_mode="r")
    y = np.load(folder / "y.npy", mmap_mode="r")
    seen = []
    real = _engine._as_core_matrix

    def spy(a, dtype):
        out = real(a, dtype)
        seen.append(out)
        return out

    monkeypatch.setattr(_engine, "_as_core_matrix", spy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fastnn.MLPClassifier(**MODEL).partial_fit(X[:CHUNK], y[:CHUNK], classes=np.arange(4))
    assert seen and np.shares_memory(seen[0], X)
