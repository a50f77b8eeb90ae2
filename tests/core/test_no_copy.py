"""No hidden copies of X: the estimators read C-contiguous X in place and the
binding refuses (TypeError) anything it would have to convert.

NumPy reports its allocations to tracemalloc, so any Python-level copy of X
(astype, ascontiguousarray, fancy indexing of the whole array, ...) shows up in
the traced peak.
"""

import tracemalloc
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import fastnn
from fastnn import _core

from _reference import n_params
from _util import core_predict, fit_quiet, run_epoch

N_ROWS = 200_000
X_BYTES = 80_000_000


@pytest.fixture(scope="module", params=[np.float32, np.float64], ids=["f32", "f64"])
def big_X(request):
    dtype = request.param
    n_features = X_BYTES // N_ROWS // np.dtype(dtype).itemsize
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N_ROWS, n_features), dtype=dtype)
    assert X.flags.c_contiguous and X.nbytes == X_BYTES
    return X


def _traced_peak(fn):
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, result


def test_tracemalloc_sees_numpy_copies(big_X):
    # guard for the tests below: a copy of X must be visible to tracemalloc
    peak, _ = _traced_peak(lambda: big_X.astype(big_X.dtype, copy=True))
    assert peak >= big_X.nbytes


@pytest.mark.parametrize("kind", ["clf", "reg"])
@pytest.mark.parametrize("shuffle", [True, False])
def test_fit_and_predict_read_contiguous_X_in_place(big_X, kind, shuffle):
    X = big_X
    if kind == "clf":
        y = (X[:, 0] > 0).astype(np.int64)
        est = fastnn.MLPClassifier(
            hidden_layer_sizes=(8,), max_iter=1, random_state=0, shuffle=shuffle
        )
    else:
        y = np.ascontiguousarray(X[:, 1], dtype=X.dtype)
        est = fastnn.MLPRegressor(
            hidden_layer_sizes=(8,), max_iter=1, random_state=0, shuffle=shuffle
        )

    def fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return est.fit(X, y)

    peak, _ = _traced_peak(fit)
    assert est.coefs_[0].dtype == X.dtype
    assert peak < 0.25 * X.nbytes, f"fit peak {peak / X.nbytes:.2f} x X.nbytes"

    predict = est.predict_proba if kind == "clf" else est.predict
    peak, out = _traced_peak(lambda: predict(X))
    assert out.shape[0] == X.shape[0]
    assert peak < 0.25 * X.nbytes, f"predict peak {peak / X.nbytes:.2f} x X.nbytes"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shuffle", [True, False])
def test_fit_leaves_callers_arrays_unchanged(dtype, shuffle):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 6)).astype(dtype)
    y = rng.randint(0, 3, size=300)
    sw = rng.uniform(0.5, 2.0, size=300)
    X0, y0, sw0 = X.copy(), y.copy(), sw.copy()
    est = fastnn.MLPClassifier(
        hidden_layer_sizes=(5,), max_iter=2, batch_size=64, random_state=0, shuffle=shuffle
    )
    fit_quiet(est, X, y, sample_weight=sw)
    est.predict_proba(X)
    est.partial_fit(X, y)
    assert np.array_equal(X, X0) and X.dtype == dtype and X.flags.c_contiguous
    assert np.array_equal(y, y0)
    assert np.array_equal(sw, sw0)

    Xr = rng.normal(size=(300, 6)).astype(dtype)
    yr = rng.normal(size=(300, 2))
    Xr0, yr0 = Xr.copy(), yr.copy()
    fit_quiet(
        fastnn.MLPRegressor(hidden_layer_sizes=(5,), max_iter=2, batch_size=64,
                            random_state=0, shuffle=shuffle),
        Xr, yr,
    ).predict(Xr)
    assert np.array_equal(Xr, Xr0)
    assert np.array_equal(yr, yr0)


def test_fortran_ordered_input_still_fits_and_matches_c_order():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 6))
    y = rng.randint(0, 2, size=120)
    kw = dict(hidden_layer_sizes=(5,), max_iter=2, random_state=0)
    a = fit_quiet(fastnn.MLPClassifier(**kw), np.asfortranarray(X), y)
    b = fit_quiet(fastnn.MLPClassifier(**kw), X, y)
    for ca, cb in zip(a.coefs_, b.coefs_):
        np.testing.assert_array_equal(ca, cb)


# ------------------------------------------------------------ binding refuses
@pytest.fixture
def small_net():
    layer_units = [6, 5, 2]
    net = _core.Network(layer_units, "relu", "softmax", "log_loss")
    rng = np.random.RandomState(0)
    p64 = rng.normal(size=n_params(layer_units))
    X64 = rng.normal(size=(10, 6))
    Y64 = np.eye(2)[rng.randint(0, 2, size=10)]
    return net, p64, X64, Y64


def test_predict_refuses_mixed_dtypes(small_net):
    net, p64, X64, _ = small_net
    p32, X32 = p64.astype(np.float32), X64.astype(np.float32)
    assert core_predict(net, p32, X32).dtype == np.float32
    assert core_predict(net, p64, X64).dtype == np.float64
    with pytest.raises(TypeError):
        core_predict(net, p32, X64)
    with pytest.raises(TypeError):
        core_predict(net, p64, X32)
    with pytest.raises(TypeError):
        core_predict(net, p64, X64.astype(np.int64))


def test_predict_refuses_non_contiguous_X(small_net):
    net, p64, X64, _ = small_net
    with pytest.raises(TypeError):
        core_predict(net, p64, np.asfortranarray(X64))
    wide = np.zeros((10, 12))
    wide[:, ::2] = X64
    with pytest.raises(TypeError):
        core_predict(net, p64, wide[:, ::2])


def test_loss_and_gradient_refuses_mixed_dtypes(small_net):
    net, p64, X64, Y64 = small_net
    f32 = lambda a: a.astype(np.float32)  # noqa: E731
    g64, g32 = np.empty(net.n_params), np.empty(net.n_params, dtype=np.float32)
    _core.loss_and_gradient(net, p64, X64, Y64, None, 0.0, g64)
    _core.loss_and_gradient(net, f32(p64), f32(X64), f32(Y64), None, 0.0, g32)
    bad_calls = [
        (p64, f32(X64), Y64, None, g64),
        (p64, X64, f32(Y64), None, g64),
        (p64, X64, Y64, None, g32),
        (f32(p64), X64, Y64, None, g64),
        (p64, X64, Y64, np.ones(10, dtype=np.float32), g64),
        (f32(p64), f32(X64), f32(Y64), np.ones(10), g32),
        (p64, X64, np.asfortranarray(Y64), None, g64),
    ]
    for p, X, Y, sw, g in bad_calls:
        with pytest.raises(TypeError):
            _core.loss_and_gradient(net, p, X, Y, sw, 0.0, g)


def test_trainers_refuse_wrong_dtype_arrays(small_net):
    net, p64, X64, Y64 = small_net
    f32 = lambda a: a.astype(np.float32)  # noqa: E731
    t32 = _core.Trainer32(net, 6, 4, 0.0)
    t64 = _core.Trainer64(net, 6, 4, 0.0)
    sgd = dict(learning_rate=0.1, momentum=0.9, nesterov=True)
    # the matching calls work
    run_epoch(t64, "sgd", p64.copy(), np.zeros_like(p64), X64, Y64, None, None, **sgd)
    run_epoch(t32, "sgd", f32(p64), np.zeros(net.n_params, np.float32), f32(X64), f32(Y64),
              None, None, **sgd)
    with pytest.raises(TypeError):
        run_epoch(t32, "sgd", f32(p64), np.zeros(net.n_params, np.float32), X64, f32(Y64),
                  None, None, **sgd)
    with pytest.raises(TypeError):
        run_epoch(t32, "sgd", p64.copy(), np.zeros_like(p64), X64, Y64, None, None, **sgd)
    with pytest.raises(TypeError):
        run_epoch(t64, "adam", p64.copy(),
                  (np.zeros_like(p64), np.zeros_like(p64), np.zeros(1, np.int64)),
                  f32(X64), Y64, None, None, learning_rate=1e-3, beta_1=0.9, beta_2=0.999,
                  epsilon=1e-8)
    with pytest.raises(TypeError):  # order must already be int64
        run_epoch(t64, "sgd", p64.copy(), np.zeros_like(p64), X64, Y64, None,
                  np.arange(10, dtype=np.int32), **sgd)
    with pytest.raises(TypeError):  # params must not be converted (in-place update)
        run_epoch(t64, "sgd", f32(p64), np.zeros_like(p64), X64, Y64, None, None, **sgd)
