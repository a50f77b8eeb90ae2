"""Prediction skips scikit-learn's input validation only where validation would change nothing,
and always reads the current coefs_ / intercepts_."""

import re
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkMLPClassifier

import fastnn


@pytest.fixture
def fitted():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 6))
    y = rng.randint(0, 3, 200)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = fastnn.MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(X, y)
    return clf, X


def test_in_place_edits_of_coefs_reach_predictions(fitted):
    clf, X = fitted
    before = clf.predict_proba(X)
    clf.coefs_[0][:] *= 2.0
    clf.intercepts_[-1][0] += 3.0
    after = clf.predict_proba(X)
    assert not np.allclose(before, after)
    fresh = fastnn.MLPClassifier().set_params(**clf.get_params())
    fresh.__dict__.update(clf.__dict__)
    fresh.coefs_ = [np.array(c) for c in clf.coefs_]
    fresh.intercepts_ = [np.array(b) for b in clf.intercepts_]
    np.testing.assert_array_equal(after, fresh.predict_proba(X))


@pytest.mark.parametrize("tamper", ["coef_rows", "intercept_length", "layer_count"])
def test_inconsistent_layer_arrays_raise_value_error_not_crash(fitted, tamper):
    clf, X = fitted
    if tamper == "coef_rows":
        clf.coefs_[1] = np.zeros((5, 3))
    elif tamper == "intercept_length":
        clf.intercepts_[0] = np.zeros(7)
    else:
        clf.intercepts_ = clf.intercepts_[:1]
    with pytest.raises(ValueError):
        clf.predict(X)


def test_replacing_coefs_arrays_reaches_predictions(fitted):
    clf, X = fitted
    clf.predict_proba(X)
    clf.coefs_[1] = np.zeros_like(clf.coefs_[1])
    clf.intercepts_[1] = np.array([0.0, 5.0, 0.0])
    assert (clf.predict(X) == clf.classes_[1]).all()


def test_changing_the_activation_after_fit_reaches_predictions(fitted):
    clf, X = fitted
    relu = clf.predict_proba(X)
    clf.set_params(activation="tanh")
    assert not np.allclose(relu, clf.predict_proba(X))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_input_gets_sklearns_message(fitted, bad):
    clf, X = fitted
    X = X.copy()
    X[3, 2] = bad
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sk = SkMLPClassifier(hidden_layer_sizes=(8,), max_iter=1).fit(np.ones((4, 6)), [0, 1, 2, 0])
    with pytest.raises(ValueError) as expected:
        sk.predict(X)
    with pytest.raises(ValueError, match=re.escape(str(expected.value))):
        clf.predict(X)


def test_any_layout_or_dtype_predicts_the_same(fitted):
    clf, X = fitted
    reference = clf.predict_proba(X)
    for variant in (np.asfortranarray(X), X[:, ::-1][:, ::-1], X.tolist(), X.astype(np.float32)):
        got = clf.predict_proba(variant)
        rtol = 1e-6 if np.asarray(variant).dtype == np.float32 else 0
        np.testing.assert_allclose(got, reference, rtol=rtol, atol=rtol)


def test_wrong_width_gets_sklearns_message(fitted):
    clf, X = fitted
    with pytest.raises(ValueError, match="X has 5 features, but MLPClassifier is expecting 6"):
        clf.predict(X[:, :5])


def test_feature_names_are_still_checked_for_plain_arrays():
    pd = pytest.importorskip("pandas")
    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.normal(size=(50, 3)), columns=["a", "b", "c"])
    y = rng.randint(0, 2, 50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = fastnn.MLPClassifier(hidden_layer_sizes=(4,), max_iter=2).fit(X, y)
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        clf.predict(X.to_numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_finite_check_finds_any_nonfinite_value_anywhere(dtype):
    from fastnn import _core

    for n in (1, 2, 15, 16, 17, 33):
        X = np.full((1, n), np.finfo(dtype).max, dtype=dtype)  # huge is finite
        assert _core.all_finite(X)
        for j in range(n):
            for bad in (np.nan, np.inf, -np.inf):
                Y = X.copy()
                Y[0, j] = bad
                assert not _core.all_finite(Y), (n, j, bad)


def test_replaced_layers_and_parameters_reach_predictions(fitted):
    """Prediction reuses the core's view of the layers (fastnn._engine._PREDICTORS) only while
    the model still holds the same arrays and network parameters."""
    clf, X = fitted
    x1 = X[:1].copy()
    before = clf.predict_proba(x1)
    reference = fastnn.to_sklearn(clf)  # scikit-learn's own forward pass on the same weights
    clf.coefs_[0] = clf.coefs_[0] * 3.0  # a new array in the same list
    reference.coefs_[0] = reference.coefs_[0] * 3.0
    np.testing.assert_allclose(clf.predict_proba(x1), reference.predict_proba(x1), rtol=1e-12)
    assert not np.allclose(clf.predict_proba(x1), before)
    clf.intercepts_ = [b + 1.0 for b in clf.intercepts_]  # a new list
    reference.intercepts_ = [b + 1.0 for b in reference.intercepts_]
    np.testing.assert_allclose(clf.predict_proba(x1), reference.predict_proba(x1), rtol=1e-12)
    clf.activation = reference.activation = "tanh"  # a parameter of the network
    np.testing.assert_allclose(clf.predict_proba(x1), reference.predict_proba(x1), rtol=1e-12)
    np.testing.assert_allclose(clf.predict_proba(X), reference.predict_proba(X), rtol=1e-12)


def test_a_layer_reshaped_in_place_is_refused_not_read_out_of_bounds(fitted):
    clf, X = fitted
    clf.predict(X[:1])  # the core now views the arrays
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # numpy >= 2.5 deprecates it
        clf.coefs_[0].shape = (clf.coefs_[0].shape[1], clf.coefs_[0].shape[0])
    with pytest.raises(ValueError):
        clf.predict(X[:1])
    with pytest.raises(ValueError):
        clf.predict(X)


def test_the_view_of_a_collected_model_is_released():
    import gc

    from fastnn import _engine

    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(50, 4)), rng.randint(0, 2, 50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = fastnn.MLPClassifier((5,), max_iter=2, random_state=0).fit(X, y)
    clf.predict(X[:1])
    key = id(clf)
    assert key in _engine._PREDICTORS
    del clf
    gc.collect()
    assert key not in _engine._PREDICTORS


def test_float32_rows_on_a_float64_model_and_nonfinite_rows(fitted):
    clf, X = fitted
    np.testing.assert_allclose(clf.predict_proba(X[:3].astype(np.float32)),
                               clf.predict_proba(X[:3].astype(np.float32).astype(np.float64)),
                               rtol=1e-12)
    bad = X[:2].copy()
    bad[1, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clf.predict(bad)
