"""fastnn.dask: data-parallel training on a real LocalCluster of worker processes on 127.0.0.1.

With solver='lbfgs' each evaluation's loss and gradient are sums of per-block contributions,
computed by the workers holding the blocks and added in block order: the fitted model is bitwise
the same for any placement of the blocks (one worker, two, three, rebalanced), and equals the
local fit's to rounding. A frozen worker is an error naming it within comm_timeout, and the
cluster stays usable.
"""

import os
import signal
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import InvalidParameterError

import fastnn

pytestmark = [pytest.mark.slow, pytest.mark.subprocess]

da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
fdask = pytest.importorskip("fastnn.dask")

KW = dict(hidden_layer_sizes=(12,), solver="lbfgs", max_iter=30, random_state=0)


@pytest.fixture(scope="module")
def client():
    saved = dict(os.environ)  # the nannies write their workers' environment into os.environ
    try:
        with distributed.LocalCluster(n_workers=3, threads_per_worker=1, processes=True,
                                      host="127.0.0.1", dashboard_address=None) as cluster:
            with distributed.Client(cluster) as client:
                yield client
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _classification(n=2400, dtype=np.float64):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(n, 6)).astype(dtype)
    y = np.argmax(X[:, :3] + 0.3 * rng.normal(size=(n, 3)), axis=1)
    return X, y


def _weights(model):
    return model.coefs_ + model.intercepts_


def _same_bits(a, b):
    return all(np.array_equal(u, v) for u, v in zip(_weights(a), _weights(b)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_lbfgs_model_is_the_same_whatever_the_placement_of_the_blocks(client, dtype):
    X, y = _classification(dtype=dtype)
    workers = sorted(client.scheduler_info()["workers"])
    models = []
    for placement in (workers[:1], workers[:2], workers, workers[::-1]):
        Xp, yp = fdask.scatter_rows(X, 400, placement), fdask.scatter_rows(y, 400, placement)
        with distributed.get_task_stream(client) as stream:
            models.append(fdask.MLPClassifier(**KW, client=client).fit(Xp, yp))
        ran_on = {t["worker"] for t in stream.data if "evaluate" in t["key"]}
        assert ran_on == set(placement)  # each block evaluated where it was put
    Xr = client.persist(da.from_array(X, chunks=400))
    yr = client.persist(da.from_array(y, chunks=400))
    client.rebalance([Xr, yr])
    models.append(fdask.MLPClassifier(**KW).fit(Xr, yr))  # client=None: the current one
    assert models[0].coefs_[0].dtype == np.float64 and models[0].n_iter_ == 30
    for model in models[1:]:
        assert _same_bits(models[0], model)
        assert model.loss_ == models[0].loss_


def test_lbfgs_equals_the_local_fit_to_rounding(client):
    X, y = _classification()
    model = fdask.MLPClassifier(**KW).fit(da.from_array(X, chunks=300), da.from_array(y, 300))
    local = fastnn.MLPClassifier(**KW).fit(X, y)
    np.testing.assert_allclose(model.loss_, local.loss_, rtol=1e-10)
    for a, b in zip(_weights(model), _weights(local)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(model.classes_, local.classes_)
    assert model.n_iter_ == local.n_iter_


def test_regressor_with_sample_weights_dataframes_empty_blocks_and_an_idle_worker(client):
    rng = np.random.RandomState(1)
    X = rng.normal(size=(1500, 4))
    Y = np.c_[X[:, 0] - X[:, 1] ** 2, np.sin(X[:, 2])]
    w = rng.uniform(0.5, 2.0, 1500)
    chunks = ((0, 500, 500, 0, 500),)
    Xd = da.from_array(X, chunks=(chunks[0], (4,)))
    Yd, wd = da.from_array(Y, chunks=(chunks[0], (2,))), da.from_array(w, chunks=chunks)
    one = sorted(client.scheduler_info()["workers"])[:1]  # the others hold nothing
    Xd, Yd, wd = (client.persist(a, workers=one) for a in (Xd, Yd, wd))
    kw = dict(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=25, random_state=0)
    model = fdask.MLPRegressor(**kw).fit(Xd, Yd, sample_weight=wd)
    local = fastnn.MLPRegressor(**kw).fit(X, Y, sample_weight=w)
    for a, b in zip(_weights(model), _weights(local)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)
    pred = model.predict(Xd)
    assert isinstance(pred, da.Array)
    np.testing.assert_allclose(pred.compute(), local.predict(X), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(model.score(Xd, Yd, sample_weight=wd),
                               local.score(X, Y, sample_weight=w), rtol=1e-6)
    # the same data as dataframes (one output)
    frame = dd.from_pandas(__import__("pandas").DataFrame(X, columns=list("abcd")), npartitions=3)
    target = dd.from_pandas(__import__("pandas").Series(Y[:, 0]), npartitions=3)
    single = fdask.MLPRegressor(**kw).fit(frame, target)
    assert single.predict(frame).compute().shape == (1500,)
    assert single.score(frame, target) > 0.5


def test_scatter_rows_keeps_the_rows_in_blocks(client):
    """(Where each block goes: the placement test above, through the workers that evaluate.)"""
    a = np.arange(50.0).reshape(25, 2)
    d = fdask.scatter_rows(a, 10, client=client)
    assert d.chunks == ((10, 10, 5), (2,))
    np.testing.assert_array_equal(d.compute(), a)
    np.testing.assert_array_equal(fdask.scatter_rows(a[:, 0], 7).compute(), a[:, 0])


def test_lazy_predictions_and_to_local(client):
    X, y = _classification()
    Xd = da.from_array(X, chunks=500)
    model = fdask.MLPClassifier(**KW).fit(Xd, da.from_array(y, chunks=500))
    local = model.to_local()
    assert type(local) is fastnn.MLPClassifier
    assert "client" not in local.get_params() and local.get_params()["solver"] == "lbfgs"
    assert _same_bits(model, local)
    labels, proba = model.predict(Xd), model.predict_proba(Xd)
    assert isinstance(labels, da.Array) and isinstance(proba, da.Array)
    np.testing.assert_array_equal(labels.compute(), local.predict(X))
    np.testing.assert_array_equal(proba.compute(), local.predict_proba(X))
    np.testing.assert_array_equal(model.predict(X), local.predict(X))  # in-memory: at once
    assert model.score(Xd, da.from_array(y, chunks=500)) == local.score(X, y)


def test_parameters_clone_and_refusals(client):
    est = fdask.MLPClassifier(hidden_layer_sizes=(5,), comm_timeout=7.5, solver="lbfgs")
    params = clone(est).get_params()
    assert params["comm_timeout"] == 7.5 and params["hidden_layer_sizes"] == (5,)
    assert params["parallelism"] == "sync" and params["max_restarts"] == 0
    X, y = _classification(200)
    Xd, yd = da.from_array(X, chunks=100), da.from_array(y, chunks=100)
    with pytest.raises(ValueError, match="solver='lbfgs' for now"):
        fdask.MLPClassifier(solver="adam").fit(Xd, yd)
    with pytest.raises(ValueError, match="max_restarts is not implemented"):
        fdask.MLPClassifier(solver="lbfgs", max_restarts=1).fit(Xd, yd)
    with pytest.raises(InvalidParameterError, match="comm_timeout"):
        fdask.MLPClassifier(solver="lbfgs", comm_timeout=0).fit(Xd, yd)
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples: \[200, 100\]"):
        fdask.MLPClassifier(solver="lbfgs").fit(Xd, yd[:100])
    with pytest.raises(TypeError, match="dask arrays or dataframes"):
        fdask.MLPClassifier(solver="lbfgs").fit(X, y)
    bad = X.copy()
    bad[150, 2] = np.nan
    with pytest.raises(RuntimeError, match="(?s)failed.*NaN"):
        fdask.MLPClassifier(solver="lbfgs").fit(da.from_array(bad, chunks=100), yd)


def test_a_frozen_worker_is_an_error_naming_it_and_the_cluster_stays_usable(client):
    X, y = _classification(1200)
    workers = sorted(client.scheduler_info()["workers"])
    frozen = workers[-1]
    Xd = client.persist(da.from_array(X, chunks=400), workers=[frozen])
    yd = client.persist(da.from_array(y, chunks=400), workers=[frozen])
    distributed.wait([Xd, yd])
    pid = client.run(os.getpid, workers=[frozen])[frozen]
    os.kill(pid, signal.SIGSTOP)
    try:
        with pytest.raises(TimeoutError, match=f"(?s){frozen}.*comm_timeout=3"):
            fdask.MLPClassifier(**KW, comm_timeout=3).fit(Xd, yd)
    finally:
        os.kill(pid, signal.SIGCONT)
    # afterwards: the cluster trains again, on every worker
    again = fdask.MLPClassifier(**KW).fit(da.from_array(X, chunks=400),
                                          da.from_array(y, chunks=400))
    assert again.n_iter_ == 30
