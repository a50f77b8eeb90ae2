"""Sparse (CSR/CSC) input: trained and predicted in place, with scikit-learn's results."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor

import fastnn
from fastnn import _core


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:600] / 16.0, y[:600]


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_sparse_fit_matches_sklearns_sparse_fit(digits, fmt, solver):
    X, y = digits
    Xs = sp.csr_matrix(X).asformat(fmt)
    params = dict(hidden_layer_sizes=(32,), solver=solver, random_state=0, max_iter=5,
                  batch_size=64)
    sk = _fit(SkMLPClassifier(**params), Xs, y)
    fn = _fit(fastnn.MLPClassifier(**params), Xs, y)
    for a, b in zip(sk.coefs_ + sk.intercepts_, fn.coefs_ + fn.intercepts_):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fn.predict_proba(Xs), sk.predict_proba(Xs), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sparse_and_dense_input_give_the_same_model(digits, dtype):
    X, y = digits
    X = X.astype(dtype)
    params = dict(hidden_layer_sizes=(32, 16), random_state=0, max_iter=3)
    dense = _fit(fastnn.MLPClassifier(**params), X, y)
    sparse = _fit(fastnn.MLPClassifier(**params), sp.csr_matrix(X), y)
    assert sparse.coefs_[0].dtype == dtype
    rtol = 1e-4 if dtype == np.float32 else 1e-10
    for a, b in zip(dense.coefs_, sparse.coefs_):
        np.testing.assert_allclose(b, a, rtol=rtol, atol=rtol * 1e-2)
    np.testing.assert_allclose(
        sparse.predict_proba(sp.csr_matrix(X)), dense.predict_proba(X), rtol=rtol, atol=rtol
    )


def test_sparse_regression_with_empty_rows_and_int64_indices():
    rng = np.random.RandomState(1)
    X = sp.random(300, 40, density=0.1, format="lil", random_state=rng)
    X[::7] = 0  # some rows with no stored entries
    X = X.tocsr()
    assert np.diff(X.indptr)[::7].max() == 0
    X.indices = X.indices.astype(np.int64)
    X.indptr = X.indptr.astype(np.int64)
    y = np.asarray(X.sum(axis=1)).ravel()
    params = dict(hidden_layer_sizes=(16,), random_state=0, max_iter=4, solver="sgd")
    sk = _fit(SkMLPRegressor(**params), X, y)
    fn = _fit(fastnn.MLPRegressor(**params), X, y)
    np.testing.assert_allclose(fn.predict(X), sk.predict(X), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    "data, indices, indptr, message",
    [
        ([1.0, 2.0], [0, 5], [0, 1, 2], "column index out of range"),
        ([1.0, 2.0], [0, -1], [0, 1, 2], "column index out of range"),
        ([1.0, 2.0], [0, 1], [0, 2, 1, 2], "non-decreasing"),
        ([1.0, 2.0], [0, 1], [1, 1, 2], "start at 0"),
        ([1.0, 2.0], [0, 1], [0, 1, 3], "end at nnz"),
        ([1.0, 2.0], [0], [0, 1, 2], "as many indices"),
    ],
)
def test_malformed_csr_buffers_are_rejected_before_use(data, indices, indptr, message):
    with pytest.raises(ValueError, match=message):
        _core.CsrMatrix64(
            np.array(data), np.array(indices, np.int32), np.array(indptr, np.int64), 3
        )


def test_csr_holder_refuses_to_convert_dtypes():
    with pytest.raises(TypeError):
        _core.CsrMatrix32(
            np.array([1.0]), np.array([0], np.int32), np.array([0, 1], np.int64), 1
        )
