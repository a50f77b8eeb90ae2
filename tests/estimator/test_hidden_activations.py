"""model.hidden_activations(X, layer=-1): a hidden layer's activations, computed by the core's
forward pass cut at that layer, checked against NumPy's forward pass of the fitted weights."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit, ndtr
from sklearn.datasets import load_digits, make_circles
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression

from fastnn import MLPClassifier, MLPRegressor

from _util import fit_quiet

_ACTIVATIONS = {
    "identity": lambda z: z,
    "logistic": expit,
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0),
    "leaky_relu": lambda z: np.where(z >= 0, z, 0.01 * z),
    "elu": lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0))),
    "softplus": lambda z: np.logaddexp(0, z),
    "silu": lambda z: z * expit(z),
    "gelu": lambda z: z * ndtr(z),
}


def _reference(model, X, layer):
    """NumPy's forward pass up to hidden layer ``layer`` (0-based), in float64."""
    g = _ACTIVATIONS[model.activation]
    a = np.asarray(X, dtype=np.float64)
    for i in range(layer + 1):
        z = g(a @ model.coefs_[i].astype(np.float64) + model.intercepts_[i])
        a = a + z if model.residual and i > 0 and z.shape == a.shape else z
    return a


@pytest.mark.parametrize("activation", sorted(_ACTIVATIONS))
@pytest.mark.parametrize("residual", [False, True])
def test_every_hidden_layer_matches_numpy(activation, residual):
    X, y = load_digits(return_X_y=True)
    X = X[:300] / 16
    model = fit_quiet(MLPClassifier((24, 24, 24), activation=activation, residual=residual,
                                    max_iter=5, random_state=0), X, y[:300])
    for layer in (0, 1, 2, -1, -3):
        got = model.hidden_activations(X, layer=layer)
        assert got.shape == (300, 24) and got.dtype == np.float64
        np.testing.assert_allclose(got, _reference(model, X, layer % 3), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(model.hidden_activations(X), model.hidden_activations(X, 2))


def test_the_last_hidden_layer_feeds_the_output_layer():
    X, y = load_digits(return_X_y=True)
    X = X / 16
    model = fit_quiet(MLPClassifier((32, 16), max_iter=10, random_state=0), X, y)
    z = model.hidden_activations(X) @ model.coefs_[-1] + model.intercepts_[-1]
    proba = np.exp(z - z.max(axis=1, keepdims=True))
    np.testing.assert_allclose(proba / proba.sum(axis=1, keepdims=True), model.predict_proba(X),
                               rtol=1e-9, atol=1e-12)


def test_model_dtype_sparse_input_and_threads():
    X, y = load_digits(return_X_y=True)
    X32 = (X[:200] / 16).astype(np.float32)
    model = fit_quiet(MLPRegressor(hidden_layer_sizes=(16, 8), max_iter=5, random_state=0),
                      X32, y[:200].astype(float))
    got = model.hidden_activations(X32.astype(np.float64), layer=0)  # float64 X, float32 model
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, model.hidden_activations(X32, layer=0))
    np.testing.assert_allclose(model.hidden_activations(sp.csr_matrix(X32), layer=0), got,
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got, _reference(model, X32, 0), rtol=1e-4, atol=1e-5)
    assert model.hidden_activations(X32[:1]).shape == (1, 8)
    one = model.set_params(n_threads=1).hidden_activations(X32)
    two = model.set_params(n_threads=2).hidden_activations(X32)
    np.testing.assert_array_equal(one, two)


def test_hidden_features_make_a_nonlinear_problem_linear():
    # Concentric circles: no linear model separates them from the raw coordinates; from the
    # network's last hidden layer a logistic regression does.
    X, y = make_circles(600, noise=0.05, factor=0.5, random_state=0)
    Xtr, ytr, Xte, yte = X[:400], y[:400], X[400:], y[400:]
    mlp = fit_quiet(MLPClassifier((16,), max_iter=300, random_state=0), Xtr, ytr)
    raw = LogisticRegression().fit(Xtr, ytr).score(Xte, yte)
    hidden = LogisticRegression().fit(mlp.hidden_activations(Xtr), ytr).score(
        mlp.hidden_activations(Xte), yte)
    assert raw < 0.7 and hidden > 0.95, (raw, hidden)


def test_bad_calls_are_clear_errors():
    X, y = load_digits(return_X_y=True)
    X = X[:100] / 16
    with pytest.raises(NotFittedError):
        MLPClassifier().hidden_activations(X)
    model = fit_quiet(MLPClassifier((8, 4), max_iter=2, random_state=0), X, y[:100])
    with pytest.raises(ValueError, match="layer == 2, must be <= 1"):
        model.hidden_activations(X, layer=2)
    with pytest.raises(ValueError, match="layer == -3, must be >= -2"):
        model.hidden_activations(X, layer=-3)
    with pytest.raises(TypeError, match="layer must be an instance of int"):
        model.hidden_activations(X, layer=0.5)
    with pytest.raises(ValueError, match="X has 5 features, but MLPClassifier is expecting 64"):
        model.hidden_activations(X[:, :5])
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        model.hidden_activations(X_nan)
    linear = fit_quiet(MLPRegressor(hidden_layer_sizes=(), max_iter=2), X, y[:100] * 1.0)
    with pytest.raises(ValueError, match="This model has no hidden layer"):
        linear.hidden_activations(X)
