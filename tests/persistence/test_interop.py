"""Conversion to and from scikit-learn's estimators: fastnn.to_sklearn / fastnn.from_sklearn.

The converted estimator carries the same hyperparameters and copies of the fitted state, so
it predicts like the original. fastnn's forward pass is an Eigen GEMM and scikit-learn's a
numpy/BLAS one: their summation orders differ, so probabilities agree to rounding only
(measured: a few 1e-16 absolute in float64, a few 1e-7 in float32). A round trip back to
the original library is bit-identical.
"""

import copy

import numpy as np
import pytest
from sklearn.base import is_classifier
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import NotFittedError
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor

import fastnn

from _util import extra_params, fit_quiet, partial_fit_quiet

DTYPES = [np.float64, np.float32]
# predict_proba / regression predict: fastnn vs scikit-learn on the same weights.
TOL = {np.float64: dict(rtol=1e-12, atol=1e-14), np.float32: dict(rtol=1e-5, atol=5e-6)}
KINDS = ["binary", "multiclass", "multilabel", "regression-1", "regression-2"]

FITTED_ATTRIBUTES = [
    "n_features_in_", "classes_", "n_outputs_", "n_layers_", "out_activation_", "n_iter_",
    "t_", "loss_", "loss_curve_", "best_loss_", "validation_scores_", "best_validation_score_",
]


def _data(kind, dtype):
    if kind == "regression-1" or kind == "regression-2":
        n_targets = int(kind[-1])
        X, y = make_regression(
            n_samples=120, n_features=10, n_targets=n_targets, noise=0.1, random_state=0
        )
        y = y / np.abs(y).max()
    else:
        n_classes = 2 if kind == "binary" else 4
        X, y = make_classification(
            n_samples=120, n_features=10, n_informative=6, n_classes=n_classes,
            random_state=0,
        )
        if kind == "multiclass":
            y = np.array(["ant", "bee", "cat", "dog"])[y]  # string labels
        elif kind == "multilabel":
            y = np.stack([y == 0, y == 1, X[:, 0] > 0], axis=1).astype(int)
    return X.astype(dtype), y


def _classes(kind):
    return (fastnn.MLPRegressor, SkMLPRegressor) if kind.startswith("regression") else (
        fastnn.MLPClassifier, SkMLPClassifier
    )


def _outputs(est, X):
    """predict_proba for classifiers, predict for regressors."""
    return est.predict_proba(X) if hasattr(est, "predict_proba") else est.predict(X)


def _assert_same_arrays(a_list, b_list):
    assert len(a_list) == len(b_list)
    for a, b in zip(a_list, b_list):
        assert a.dtype == b.dtype
        assert np.array_equal(a, b)
        assert not np.shares_memory(a, b)


def _assert_same_fitted_state(a, b):
    _assert_same_arrays(a.coefs_, b.coefs_)
    _assert_same_arrays(a.intercepts_, b.intercepts_)
    for name in FITTED_ATTRIBUTES:
        assert hasattr(a, name) == hasattr(b, name), name
        if hasattr(a, name):
            va, vb = getattr(a, name), getattr(b, name)
            if isinstance(va, np.ndarray):
                assert va.dtype == vb.dtype and np.array_equal(va, vb), name
            else:
                assert va == vb, name
    if hasattr(a, "_label_binarizer"):
        for name in ("classes_", "y_type_", "sparse_input_"):
            va = getattr(a._label_binarizer, name)
            vb = getattr(b._label_binarizer, name)
            assert np.array_equal(va, vb), name
        assert b._label_binarizer is not a._label_binarizer


# ------------------------------------------------------------------ fastnn -> scikit-learn
@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("kind", KINDS)
def test_to_sklearn_predicts_like_fastnn(kind, dtype):
    X, y = _data(kind, dtype)
    Fast, Sk = _classes(kind)
    model = fit_quiet(Fast(hidden_layer_sizes=(16, 8), max_iter=30, random_state=0), X, y)
    sk = model.to_sklearn()

    assert type(sk) is Sk
    expected_params = model.get_params()
    for name in extra_params(Fast):
        if name != "loss" or is_classifier(model):
            del expected_params[name]
    assert sk.get_params() == expected_params
    _assert_same_fitted_state(model, sk)
    assert model.coefs_[0].dtype == dtype

    fast_out, sk_out = _outputs(model, X), _outputs(sk, X)
    assert fast_out.dtype == sk_out.dtype == dtype
    np.testing.assert_allclose(fast_out, sk_out, **TOL[dtype])
    if hasattr(model, "classes_"):
        assert np.array_equal(model.predict(X), sk.predict(X))
        assert model.score(X, y) == sk.score(X, y)

    # Round trip: bit-identical to the original.
    back = fastnn.from_sklearn(sk)
    assert type(back) is Fast
    assert back.get_params() == model.get_params()
    _assert_same_fitted_state(sk, back)
    assert np.array_equal(_outputs(back, X), fast_out)
    assert np.array_equal(back.predict(X), model.predict(X))


# ------------------------------------------------------------------ scikit-learn -> fastnn
@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("kind", KINDS)
def test_from_sklearn_predicts_like_sklearn(kind, dtype):
    X, y = _data(kind, dtype)
    Fast, Sk = _classes(kind)
    sk = fit_quiet(Sk(hidden_layer_sizes=(16, 8), max_iter=30, random_state=0), X, y)
    model = fastnn.from_sklearn(sk, n_threads=1)

    assert type(model) is Fast
    assert model.n_threads == 1
    params = model.get_params()
    assert {k: params.pop(k) for k in list(extra_params(Fast)) if k in params and (
        k != "loss" or is_classifier(model))} == {**extra_params(Fast), "n_threads": 1}
    assert params == sk.get_params()
    _assert_same_fitted_state(sk, model)

    np.testing.assert_allclose(_outputs(model, X), _outputs(sk, X), **TOL[dtype])
    if hasattr(model, "classes_"):
        assert np.array_equal(model.predict(X), sk.predict(X))

    # Round trip: bit-identical to the original.
    back = fastnn.to_sklearn(model)
    assert type(back) is Sk
    assert np.array_equal(_outputs(back, X), _outputs(sk, X))
    assert np.array_equal(back.predict(X), sk.predict(X))


# ------------------------------------------------------------------ solvers and fit modes
@pytest.mark.parametrize(
    "fit_kw",
    [dict(solver="lbfgs"), dict(solver="sgd"), dict(early_stopping=True, validation_fraction=0.2)],
    ids=["lbfgs", "sgd", "early_stopping"],
)
def test_state_of_other_solvers_is_copied(fit_kw):
    X, y = _data("multiclass", np.float64)
    model = fit_quiet(
        fastnn.MLPClassifier(hidden_layer_sizes=(12,), max_iter=15, random_state=0, **fit_kw),
        X, y,
    )
    sk = model.to_sklearn()
    _assert_same_fitted_state(model, sk)
    assert hasattr(sk, "loss_curve_") == (fit_kw.get("solver") != "lbfgs")
    if fit_kw.get("early_stopping"):
        assert sk.best_loss_ is None
        assert len(sk.validation_scores_) == sk.n_iter_
        # After early stopping coefs_ are the best ones, held (as in scikit-learn) by the
        # same list as _best_coefs: the copy keeps that aliasing.
        assert sk.coefs_ is sk._best_coefs
    np.testing.assert_allclose(model.predict_proba(X), sk.predict_proba(X), **TOL[np.float64])
    assert np.array_equal(fastnn.from_sklearn(sk).predict_proba(X), model.predict_proba(X))


def test_poisson_regressor():
    X, y = _data("regression-1", np.float64)
    y = np.exp(y)
    sk = fit_quiet(
        SkMLPRegressor(loss="poisson", hidden_layer_sizes=(8,), max_iter=20, random_state=0),
        X, y,
    )
    model = fastnn.from_sklearn(sk)
    assert model.loss == "poisson" and model.out_activation_ == "exp"
    np.testing.assert_allclose(model.predict(X), sk.predict(X), **TOL[np.float64])
    assert np.array_equal(model.to_sklearn().predict(X), sk.predict(X))


def test_feature_names_are_carried_over():
    pd = pytest.importorskip("pandas")
    X, y = _data("binary", np.float64)
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    model = fit_quiet(fastnn.MLPClassifier(hidden_layer_sizes=(8,), max_iter=10,
                                           random_state=0), df, y)
    sk = model.to_sklearn()
    assert np.array_equal(sk.feature_names_in_, model.feature_names_in_)
    assert np.array_equal(sk.predict(df), model.predict(df))
    with pytest.raises(ValueError, match="feature names"):
        sk.predict(df[df.columns[::-1]])
    back = fastnn.from_sklearn(sk)
    assert np.array_equal(back.feature_names_in_, model.feature_names_in_)
    with pytest.raises(ValueError, match="feature names"):
        back.predict(df[df.columns[::-1]])


def test_no_feature_names_without_a_dataframe():
    X, y = _data("binary", np.float64)
    model = fit_quiet(fastnn.MLPClassifier(hidden_layer_sizes=(8,), max_iter=5,
                                           random_state=0), X, y)
    assert not hasattr(model.to_sklearn(), "feature_names_in_")


# ------------------------------------------------------------------ continuing training
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_partial_fit_after_conversion_starts_a_fresh_optimizer(solver):
    """The optimizer state is not converted: partial_fit continues from the converted
    weights with a new optimizer, the same in both libraries (float64, same trajectory)."""
    X, y = _data("multiclass", np.float64)
    classes = np.unique(y)
    model = fastnn.MLPClassifier(hidden_layer_sizes=(12,), solver=solver, random_state=0)
    for _ in range(3):
        partial_fit_quiet(model, X, y, classes=classes)
    sk = model.to_sklearn()
    assert not hasattr(sk, "_optimizer")
    fresh = fastnn.from_sklearn(sk)
    assert not hasattr(fresh, "_optimizer")

    partial_fit_quiet(sk, X, y)
    partial_fit_quiet(fresh, X, y)
    assert fresh.t_ == sk.t_ == 4 * X.shape[0]
    for a, b in zip(fresh.coefs_ + fresh.intercepts_, sk.coefs_ + sk.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    # ... which is not the trajectory of the original's own optimizer.
    partial_fit_quiet(model, X, y)
    assert not np.allclose(model.coefs_[0], fresh.coefs_[0], rtol=1e-10, atol=1e-12)


def test_warm_start_fit_after_conversion_matches_sklearn():
    X, y = _data("binary", np.float64)
    sk = fit_quiet(SkMLPClassifier(hidden_layer_sizes=(12,), max_iter=5, random_state=0,
                                   warm_start=True), X, y)
    model = fastnn.from_sklearn(sk)
    fit_quiet(sk, X, y)
    fit_quiet(model, X, y)
    assert model.n_iter_ == sk.n_iter_ and model.t_ == sk.t_
    np.testing.assert_allclose(model.loss_curve_, sk.loss_curve_, rtol=1e-10)
    np.testing.assert_allclose(model.predict_proba(X), sk.predict_proba(X), rtol=1e-9, atol=1e-12)


def test_conversion_copies_and_does_not_alias():
    X, y = _data("binary", np.float64)
    model = fit_quiet(fastnn.MLPClassifier(hidden_layer_sizes=(8,), max_iter=5,
                                           random_state=np.random.RandomState(0)), X, y)
    before = model.predict_proba(X)
    sk = model.to_sklearn()
    assert sk.random_state is not model.random_state  # copied, as sklearn.base.clone does
    for a in sk.coefs_ + sk.intercepts_:
        a *= 2.0
    sk.loss_curve_.append(0.0)
    assert np.array_equal(model.predict_proba(X), before)
    assert len(model.loss_curve_) == model.n_iter_
    assert sk.classes_ is sk._label_binarizer.classes_


def test_converted_model_can_be_deep_copied_and_refit():
    X, y = _data("multiclass", np.float32)
    sk = fit_quiet(SkMLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0), X, y)
    model = copy.deepcopy(fastnn.from_sklearn(sk))
    fit_quiet(model, X, y)  # not warm_start: a fresh fit from the same random_state
    assert np.array_equal(model.classes_, sk.classes_)
    assert model.coefs_[0].dtype == np.float32


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("Fast", [fastnn.MLPClassifier, fastnn.MLPRegressor])
def test_to_sklearn_unfitted_raises_not_fitted(Fast):
    with pytest.raises(NotFittedError):
        Fast().to_sklearn()
    with pytest.raises(NotFittedError):
        fastnn.to_sklearn(Fast())


@pytest.mark.parametrize("Sk", [SkMLPClassifier, SkMLPRegressor])
def test_from_sklearn_unfitted_raises_not_fitted(Sk):
    with pytest.raises(NotFittedError):
        fastnn.from_sklearn(Sk())


def test_wrong_types_raise_type_error():
    from sklearn.linear_model import LogisticRegression

    X, y = _data("binary", np.float64)
    with pytest.raises(TypeError, match="from_sklearn expects"):
        fastnn.from_sklearn(LogisticRegression().fit(X, y))
    with pytest.raises(TypeError, match="from_sklearn expects"):
        fastnn.from_sklearn(fastnn.MLPClassifier())
    with pytest.raises(TypeError, match="to_sklearn expects"):
        fastnn.to_sklearn(SkMLPClassifier())


def test_public_api():
    assert "from_sklearn" in fastnn.__all__
    assert fastnn.from_sklearn.__doc__ and fastnn.to_sklearn.__doc__
    assert fastnn.MLPRegressor.to_sklearn.__doc__


def test_sparse_input_after_conversion():
    import scipy.sparse

    X, y = _data("multiclass", np.float64)
    X[np.abs(X) < 1.0] = 0.0
    X_csr = scipy.sparse.csr_matrix(X)
    model = fit_quiet(fastnn.MLPClassifier(hidden_layer_sizes=(8,), max_iter=10,
                                           random_state=0), X_csr, y)
    sk = model.to_sklearn()
    np.testing.assert_allclose(sk.predict_proba(X_csr), model.predict_proba(X_csr),
                               **TOL[np.float64])
    assert np.array_equal(sk.predict(X_csr), model.predict(X_csr))
    back = fastnn.from_sklearn(sk)
    assert np.array_equal(back.predict_proba(X_csr), model.predict_proba(X_csr))
