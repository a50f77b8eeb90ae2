"""fastnn on a dask.distributed cluster (real scheduler and worker processes, on loopback):
dask-ml's Incremental trains on a dask.array block by block, ParallelPostFit predicts in
parallel, and GridSearchCV's fits run on the workers through joblib's dask backend.

Skipped only when dask, distributed or dask-ml is not installed (they are in the test extra).
"""

import os
import warnings

import joblib
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

import fastnn

pytestmark = [pytest.mark.slow, pytest.mark.subprocess]

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
wrappers = pytest.importorskip("dask_ml.wrappers")

N_CLASSES, BLOCK = 3, 2500
MODEL = dict(hidden_layer_sizes=(16,), random_state=0, learning_rate_init=0.01)


@pytest.fixture(scope="module")
def client():
    # distributed's nannies write their workers' environment (OMP_NUM_THREADS=1, ...) into this
    # process's os.environ; put it back, or every later child process would run one thread.
    saved = dict(os.environ)
    try:
        yield from _client()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            yield client


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(20_000, 16)).astype(np.float32)
    y = np.argmax(X[:, :N_CLASSES] + 0.2 * rng.normal(size=(len(X), N_CLASSES)), axis=1)
    return X, y


def _on_workers(client, compute):
    """Run ``compute()`` and return it with the workers that ran its tasks."""
    with distributed.get_task_stream(client) as stream:
        result = compute()
    return result, {task["worker"] for task in stream.data}


def _partial_fit_quiet(est, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.partial_fit(X, y, **kwargs)


def test_workers_run_fastnn_on_their_share_of_the_cores(client):
    # dask's nannies start workers with OMP_NUM_THREADS=1 (distributed's pre-spawn-environ):
    # threads_per_worker=1 workers do not oversubscribe the cores either
    def fastnn_threads():
        from fastnn import _core

        return _core.max_threads()

    import dask

    expected = int(dask.config.get("distributed.nanny.pre-spawn-environ")["OMP_NUM_THREADS"])
    assert set(client.run(fastnn_threads).values()) == {expected}


def test_incremental_trains_block_by_block_on_the_cluster(client, data):
    X, y = data
    X_dask = da.from_array(X, chunks=(BLOCK, X.shape[1]))
    y_dask = da.from_array(y, chunks=BLOCK)
    classes = np.arange(N_CLASSES)
    incremental = wrappers.Incremental(fastnn.MLPClassifier(**MODEL), shuffle_blocks=False)
    # dask-ml passes classes= to every partial_fit call (dask_ml._partial._partial_fit): the
    # first call needs it, the others accept it again, as scikit-learn's estimators do
    _, workers = _on_workers(client, lambda: _partial_fit_quiet(
        incremental, X_dask, y_dask, classes=classes))
    assert workers  # the blocks' partial_fit calls ran as tasks on the cluster
    for _ in range(2):  # two more passes over the blocks
        _partial_fit_quiet(incremental, X_dask, y_dask, classes=classes)
    model = incremental.estimator_
    assert model.t_ == 3 * len(X)
    assert incremental.score(X_dask, y_dask) >= 0.9

    # the same blocks in the same order, here: bitwise the same model (sequential over blocks)
    local = fastnn.MLPClassifier(**MODEL)
    for _ in range(3):
        for start in range(0, len(X), BLOCK):
            _partial_fit_quiet(local, X[start:start + BLOCK], y[start:start + BLOCK],
                               classes=classes)
    for a, b in zip(model.coefs_ + model.intercepts_, local.coefs_ + local.intercepts_):
        assert np.array_equal(a, b)


def test_parallel_post_fit_predicts_on_the_workers_what_the_model_predicts(client, data):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = fastnn.MLPClassifier(**MODEL, max_iter=5).fit(X[:5000], y[:5000])
    post_fit = wrappers.ParallelPostFit(model)
    X_dask = da.from_array(X, chunks=(BLOCK, X.shape[1]))
    pred = post_fit.predict(X_dask)
    proba = post_fit.predict_proba(X_dask)
    assert isinstance(pred, da.Array) and pred.numblocks == (len(X) // BLOCK,)
    (pred, proba), workers = _on_workers(client, lambda: da.compute(pred, proba))
    assert len(workers) == 2  # eight blocks, both workers
    assert np.array_equal(pred, model.predict(X))
    assert np.array_equal(proba, model.predict_proba(X))


def test_grid_search_under_the_dask_joblib_backend_equals_the_local_search(client, data):
    X, y = data
    X, y = X[:3000], y[:3000]

    def search():
        grid = GridSearchCV(fastnn.MLPClassifier(**MODEL, max_iter=10),
                            {"alpha": [1e-4, 1e-1], "hidden_layer_sizes": [(8,), (16,)]},
                            cv=3, n_jobs=-1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return grid.fit(X, y)

    local = search()
    with joblib.parallel_config(backend="dask"):
        on_cluster, workers = _on_workers(client, search)
    assert len(workers) == 2  # twelve fits, both workers
    assert on_cluster.best_params_ == local.best_params_
    for key in ("mean_test_score", "std_test_score", "rank_test_score"):
        assert np.array_equal(on_cluster.cv_results_[key], local.cv_results_[key]), key
    assert np.array_equal(on_cluster.predict(X), local.predict(X))
