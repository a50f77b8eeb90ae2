"""Estimator API: drop-in compatible with sklearn.neural_network."""

import inspect
import pickle

import numpy as np
import pytest
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.datasets import make_classification, make_regression
from sklearn.metrics import accuracy_score, r2_score
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor

import fastnn

from _util import extra_params, fit_quiet

PAIRS = [
    (fastnn.MLPClassifier, SkMLPClassifier),
    (fastnn.MLPRegressor, SkMLPRegressor),
]
PAIR_IDS = ["classifier", "regressor"]
FAST_KW = dict(hidden_layer_sizes=(8,), max_iter=5, random_state=0)


def _clf_data(n_classes=2, labels=None, n_samples=90):
    X, y = make_classification(
        n_samples=n_samples, n_features=6, n_informative=4, n_classes=n_classes,
        random_state=0,
    )
    if labels is not None:
        y = np.asarray(labels)[y]
    return X, y


def _reg_data(n_targets=1):
    X, y = make_regression(n_samples=90, n_features=6, n_targets=n_targets, random_state=0)
    return X, y / np.abs(y).max()


# --------------------------------------------------------------- construction
@pytest.mark.parametrize("Fast,Sk", PAIRS, ids=PAIR_IDS)
def test_signature_is_sklearns_plus_extras(Fast, Sk):
    fast_params = inspect.signature(Fast.__init__).parameters
    sk_params = inspect.signature(Sk.__init__).parameters
    extras = extra_params(Fast)
    for name, default in extras.items():
        assert fast_params[name].default == default, name
        assert type(fast_params[name].default) is type(default), name
        assert fast_params[name].kind == inspect.Parameter.KEYWORD_ONLY
    # the extras come last, after scikit-learn's own parameters
    assert list(fast_params)[-len(extras):] == list(extras)
    fast_rest = [p for name, p in fast_params.items() if name not in extras]
    assert [p.name for p in fast_rest] == list(sk_params)
    for p in fast_rest:
        q = sk_params[p.name]
        assert p.kind == q.kind, p.name
        assert p.default == q.default, p.name
        assert type(p.default) is type(q.default), p.name


@pytest.mark.parametrize("Fast,Sk", PAIRS, ids=PAIR_IDS)
def test_get_params_keys_are_sklearns_plus_extras(Fast, Sk):
    fast_params = Fast().get_params()
    sk_params = Sk().get_params()
    assert set(fast_params) == set(sk_params) | set(extra_params(Fast))
    for name, default in extra_params(Fast).items():
        assert fast_params[name] == default
    for key, value in sk_params.items():
        assert fast_params[key] == value, key


@pytest.mark.parametrize("Fast,Sk", PAIRS, ids=PAIR_IDS)
def test_estimator_type_matches_sklearn(Fast, Sk):
    assert is_classifier(Fast()) == is_classifier(Sk())
    assert is_regressor(Fast()) == is_regressor(Sk())


@pytest.mark.parametrize("Fast,Sk", PAIRS, ids=PAIR_IDS)
def test_clone_preserves_params_and_refits_identically(Fast, Sk):
    X, y = _clf_data() if Fast is fastnn.MLPClassifier else _reg_data()
    est = Fast(hidden_layer_sizes=(7, 3), alpha=0.01, max_iter=3, random_state=0,
               n_threads=2, solver="sgd")
    fit_quiet(est, X, y)
    c = clone(est)
    assert c.get_params() == est.get_params()
    assert not hasattr(c, "coefs_")
    fit_quiet(c, X, y)
    for a, b in zip(c.coefs_ + c.intercepts_, est.coefs_ + est.intercepts_):
        assert np.array_equal(a, b)


def test_set_params_n_threads_roundtrip():
    est = fastnn.MLPClassifier()
    est.set_params(n_threads=3)
    assert est.get_params()["n_threads"] == 3
    assert est.n_threads == 3


# --------------------------------------------------------------- fit / predict
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "n_classes,labels",
    [(2, None), (2, ["neg", "pos"]), (4, None), (4, ["cat", "dog", "emu", "fox"])],
    ids=["binary-int", "binary-str", "multiclass-int", "multiclass-str"],
)
def test_classifier_outputs_match_sklearn_shapes_and_dtypes(n_classes, labels, dtype):
    X, y = _clf_data(n_classes=n_classes, labels=labels)
    X = X.astype(dtype)
    fast = fit_quiet(fastnn.MLPClassifier(**FAST_KW), X, y)
    sk = fit_quiet(SkMLPClassifier(**FAST_KW), X, y)

    np.testing.assert_array_equal(fast.classes_, sk.classes_)
    assert fast.classes_.dtype == sk.classes_.dtype
    for attr in ("n_outputs_", "n_layers_", "out_activation_", "n_features_in_"):
        assert getattr(fast, attr) == getattr(sk, attr), attr
    assert [c.shape for c in fast.coefs_] == [c.shape for c in sk.coefs_]
    assert [b.shape for b in fast.intercepts_] == [b.shape for b in sk.intercepts_]
    assert all(c.dtype == dtype for c in fast.coefs_ + fast.intercepts_)

    pred, sk_pred = fast.predict(X), sk.predict(X)
    assert pred.shape == sk_pred.shape == (X.shape[0],)
    assert pred.dtype == sk_pred.dtype
    assert set(np.unique(pred)) <= set(fast.classes_)

    proba, sk_proba = fast.predict_proba(X), sk.predict_proba(X)
    assert proba.shape == sk_proba.shape == (X.shape[0], n_classes)
    assert proba.dtype == sk_proba.dtype == dtype
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5 if dtype == np.float32 else 1e-12)
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_array_equal(pred, fast.classes_[np.argmax(proba, axis=1)])

    log_proba = fast.predict_log_proba(X)
    assert log_proba.shape == proba.shape
    np.testing.assert_allclose(log_proba, np.log(proba), rtol=1e-6)

    score = fast.score(X, y)
    assert isinstance(score, float)
    assert score == accuracy_score(y, pred)

    assert fast.n_iter_ == 5
    assert len(fast.loss_curve_) == 5
    assert fast.t_ == 5 * X.shape[0]
    assert fast.loss_ == fast.loss_curve_[-1]
    assert fast.best_loss_ == min(fast.loss_curve_)


def test_multilabel_classifier_outputs():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 5))
    Y = (X[:, :3] > 0).astype(int)
    fast = fit_quiet(fastnn.MLPClassifier(**FAST_KW), X, Y)
    sk = fit_quiet(SkMLPClassifier(**FAST_KW), X, Y)
    assert fast.out_activation_ == "logistic" == sk.out_activation_
    assert fast.predict(X).shape == sk.predict(X).shape == (60, 3)
    assert fast.predict_proba(X).shape == (60, 3)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_targets", [1, 2])
def test_regressor_outputs_match_sklearn_shapes_and_dtypes(n_targets, dtype):
    X, y = _reg_data(n_targets)
    X = X.astype(dtype)
    fast = fit_quiet(fastnn.MLPRegressor(**FAST_KW), X, y)
    sk = fit_quiet(SkMLPRegressor(**FAST_KW), X, y)
    for attr in ("n_outputs_", "n_layers_", "out_activation_", "n_features_in_"):
        assert getattr(fast, attr) == getattr(sk, attr), attr
    assert all(c.dtype == dtype for c in fast.coefs_ + fast.intercepts_)
    pred, sk_pred = fast.predict(X), sk.predict(X)
    assert pred.shape == sk_pred.shape
    assert pred.dtype == sk_pred.dtype == dtype
    expected_shape = (X.shape[0],) if n_targets == 1 else (X.shape[0], n_targets)
    assert pred.shape == expected_shape
    score = fast.score(X, y)
    np.testing.assert_allclose(score, r2_score(y, pred), rtol=1e-6)
    assert not hasattr(fast, "predict_proba")


def test_poisson_regressor_has_exp_output_and_positive_predictions():
    X, y = _reg_data()
    est = fit_quiet(fastnn.MLPRegressor(loss="poisson", **FAST_KW), X, np.abs(y) + 0.1)
    assert est.out_activation_ == "exp"
    assert np.all(est.predict(X) > 0)


def test_regressor_learns_a_simple_function():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(400, 2))
    y = X[:, 0] ** 2 + 0.5 * X[:, 1]
    est = fit_quiet(
        fastnn.MLPRegressor(hidden_layer_sizes=(32,), learning_rate_init=0.01,
                            max_iter=300, random_state=0),
        X, y,
    )
    assert est.score(X, y) > 0.95


def test_sample_weight_zero_equals_dropping_rows_for_loss():
    # a zero-weighted sample contributes nothing: full-batch single step equals
    # the fit on the remaining rows.
    X, y = _clf_data(n_samples=60)
    sw = np.ones(60)
    sw[::4] = 0.0
    kw = dict(hidden_layer_sizes=(5,), solver="sgd", shuffle=False, max_iter=1,
              random_state=0)
    a = fit_quiet(fastnn.MLPClassifier(batch_size=60, **kw), X, y, sample_weight=sw)
    keep = sw > 0
    b = fit_quiet(fastnn.MLPClassifier(batch_size=int(keep.sum()), **kw),
                  X[keep], y[keep])
    for ca, cb in zip(a.coefs_, b.coefs_):
        np.testing.assert_allclose(ca, cb, rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------- persistence
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("Fast,Sk", PAIRS, ids=PAIR_IDS)
def test_pickle_roundtrip_predicts_identically(Fast, Sk, dtype):
    X, y = _clf_data(n_classes=3) if Fast is fastnn.MLPClassifier else _reg_data(2)
    X = X.astype(dtype)
    est = fit_quiet(Fast(**FAST_KW), X, y)
    restored = pickle.loads(pickle.dumps(est))
    assert restored.get_params() == est.get_params()
    assert np.array_equal(restored.predict(X), est.predict(X))
    if hasattr(est, "predict_proba"):
        assert np.array_equal(restored.predict_proba(X), est.predict_proba(X))
    # a restored model can keep training
    restored.partial_fit(X, y)
    assert restored.n_iter_ == 1  # sklearn resets n_iter_ in every (partial) fit
    assert restored.t_ == est.t_ + X.shape[0]


def test_partial_fit_requires_classes_on_first_call():
    X, y = _clf_data()
    with pytest.raises(ValueError):
        fastnn.MLPClassifier(**FAST_KW).partial_fit(X, y)
    est = fastnn.MLPClassifier(**FAST_KW).partial_fit(X, y, classes=[0, 1])
    assert est.n_iter_ == 1


def test_lbfgs_has_no_partial_fit():
    assert not hasattr(fastnn.MLPClassifier(solver="lbfgs"), "partial_fit")
    assert hasattr(fastnn.MLPClassifier(solver="adam"), "partial_fit")


# --------------------------------------------------------------- validation
@pytest.mark.parametrize("Fast,Sk", PAIRS, ids=PAIR_IDS)
def test_wrong_feature_count_at_predict_raises_value_error(Fast, Sk):
    X, y = _clf_data() if Fast is fastnn.MLPClassifier else _reg_data()
    est = fit_quiet(Fast(**FAST_KW), X, y)
    with pytest.raises(ValueError):
        est.predict(X[:, :-1])
    with pytest.raises(ValueError):
        est.predict(np.hstack([X, X[:, :1]]))
    if hasattr(est, "predict_proba"):
        with pytest.raises(ValueError):
            est.predict_proba(X[:, :-1])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("Fast,Sk", PAIRS, ids=PAIR_IDS)
def test_non_finite_X_raises_value_error(Fast, Sk, bad):
    X, y = _clf_data() if Fast is fastnn.MLPClassifier else _reg_data()
    X_bad = X.copy()
    X_bad[3, 2] = bad
    with pytest.raises(ValueError):
        Fast(**FAST_KW).fit(X_bad, y)
    est = fit_quiet(Fast(**FAST_KW), X, y)
    with pytest.raises(ValueError):
        est.predict(X_bad)


def test_predict_before_fit_raises_not_fitted():
    from sklearn.exceptions import NotFittedError

    X, _ = _clf_data()
    with pytest.raises(NotFittedError):
        fastnn.MLPClassifier().predict(X)
    with pytest.raises(NotFittedError):
        fastnn.MLPRegressor().predict(X)


@pytest.mark.parametrize(
    "params",
    [
        dict(activation="swish"),
        dict(solver="irprop"),
        dict(alpha=-1.0),
        dict(max_iter=0),
        dict(learning_rate_init=0.0),
        dict(batch_size=0),
        dict(hidden_layer_sizes=(4, 0)),
    ],
)
def test_invalid_params_raise_value_error(params):
    X, y = _clf_data()
    with pytest.raises(ValueError):
        fastnn.MLPClassifier(**{**FAST_KW, **params}).fit(X, y)


def test_float_list_input_and_integer_X_are_accepted_as_float64():
    X, y = _clf_data()
    Xi = np.round(X * 10).astype(np.int64)
    est = fit_quiet(fastnn.MLPClassifier(**FAST_KW), Xi, y)
    assert est.coefs_[0].dtype == np.float64
    est2 = fit_quiet(fastnn.MLPClassifier(**FAST_KW), Xi.tolist(), list(y))
    for a, b in zip(est.coefs_, est2.coefs_):
        assert np.array_equal(a, b)
