"""fastnn's estimators inside scikit-learn's meta-estimators, on real data sets, compared
with scikit-learn's own MLPs on the same splits.

In float64 with the same random_state, fastnn starts from scikit-learn's weights and follows
its trajectory up to rounding, so scores agree closely and grid searches pick the same
parameters.
"""

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold, cross_val_score
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

import fastnn

# Small max_iter on purpose (quick tests): the ConvergenceWarning is expected, everywhere,
# including inside the meta-estimators' (possibly threaded) fits.
pytestmark = pytest.mark.filterwarnings("ignore", category=ConvergenceWarning)

CLASSIFIERS = [fastnn.MLPClassifier, SkMLPClassifier]


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:900] / 16.0, y[:900]


@pytest.fixture(scope="module")
def breast_cancer():
    return load_breast_cancer(return_X_y=True)


@pytest.fixture(scope="module")
def diabetes():
    return load_diabetes(return_X_y=True)


# ------------------------------------------------------------------ clone
@pytest.mark.parametrize("Est", [fastnn.MLPClassifier, fastnn.MLPRegressor])
def test_clone_unfitted_and_fitted(Est, breast_cancer):
    X, y = breast_cancer
    est = Est(hidden_layer_sizes=(8, 4), alpha=0.01, max_iter=3, random_state=1, n_threads=2)
    params = est.get_params()

    cloned = clone(est)
    assert type(cloned) is Est and cloned is not est
    assert cloned.get_params() == params

    est.fit(StandardScaler().fit_transform(X), y)
    cloned = clone(est)
    assert cloned.get_params() == params
    for name in ("coefs_", "intercepts_", "n_iter_", "loss_curve_", "n_features_in_"):
        assert hasattr(est, name) and not hasattr(cloned, name), name
    # the clone refits to the same model (same random_state)
    cloned.fit(StandardScaler().fit_transform(X), y)
    for a, b in zip(cloned.coefs_, est.coefs_):
        assert np.array_equal(a, b)


# ------------------------------------------------------------------ pipelines
def test_pipeline_classifier_matches_sklearn(breast_cancer):
    X, y = breast_cancer
    cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    kw = dict(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=20, random_state=0)
    scores = {}
    for Est in CLASSIFIERS:
        pipe = Pipeline([("scale", StandardScaler()), ("mlp", Est(**kw))])
        scores[Est] = cross_val_score(pipe, X, y, cv=cv)
        fitted = pipe.fit(X, y)
        assert isinstance(fitted.named_steps["mlp"], Est)
    fast, sk = scores[fastnn.MLPClassifier], scores[SkMLPClassifier]
    assert fast.min() > 0.9
    # one test fold has ~190 samples: allow at most one differing prediction
    np.testing.assert_allclose(fast, sk, atol=1.01 / 189)

    pipe = make_pipeline(StandardScaler(), fastnn.MLPClassifier(**kw)).fit(X, y)
    proba = pipe.predict_proba(X)
    sk_proba = make_pipeline(StandardScaler(), SkMLPClassifier(**kw)).fit(X, y).predict_proba(X)
    np.testing.assert_allclose(proba, sk_proba, rtol=1e-7, atol=1e-9)


def test_cross_val_score_digits_matches_sklearn(digits):
    X, y = digits
    cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    kw = dict(hidden_layer_sizes=(32,), learning_rate_init=0.01, max_iter=15, random_state=0)
    fast = cross_val_score(fastnn.MLPClassifier(**kw), X, y, cv=cv)
    sk = cross_val_score(SkMLPClassifier(**kw), X, y, cv=cv)
    assert fast.min() > 0.85
    np.testing.assert_allclose(fast, sk, atol=1.01 / 300)
    # log-loss is continuous: no ties, so compare it tightly
    fast_ll = cross_val_score(fastnn.MLPClassifier(**kw), X, y, cv=cv, scoring="neg_log_loss")
    sk_ll = cross_val_score(SkMLPClassifier(**kw), X, y, cv=cv, scoring="neg_log_loss")
    np.testing.assert_allclose(fast_ll, sk_ll, rtol=1e-7)


def test_regressor_pipeline_cross_val_score_matches_sklearn(diabetes):
    X, y = diabetes
    cv = KFold(n_splits=3, shuffle=True, random_state=0)
    scores = {}
    for Est in (fastnn.MLPRegressor, SkMLPRegressor):
        model = TransformedTargetRegressor(
            regressor=make_pipeline(
                StandardScaler(),
                Est(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=30,
                    random_state=0),
            ),
            transformer=StandardScaler(),
        )
        scores[Est] = cross_val_score(model, X, y, cv=cv, scoring="r2")
    fast, sk = scores[fastnn.MLPRegressor], scores[SkMLPRegressor]
    assert fast.min() > 0.3
    np.testing.assert_allclose(fast, sk, rtol=1e-7)

    # without the target transformer, a plain Pipeline
    pipe_scores = cross_val_score(
        Pipeline([("scale", StandardScaler()),
                  ("mlp", fastnn.MLPRegressor(hidden_layer_sizes=(16,), max_iter=5,
                                              random_state=0))]),
        X, y, cv=cv, scoring="neg_mean_squared_error",
    )
    sk_pipe_scores = cross_val_score(
        Pipeline([("scale", StandardScaler()),
                  ("mlp", SkMLPRegressor(hidden_layer_sizes=(16,), max_iter=5,
                                         random_state=0))]),
        X, y, cv=cv, scoring="neg_mean_squared_error",
    )
    np.testing.assert_allclose(pipe_scores, sk_pipe_scores, rtol=1e-9)


# ------------------------------------------------------------------ grid search
GRID = {"mlp__alpha": [1e-4, 1.0], "mlp__hidden_layer_sizes": [(4,), (32,)]}


def _grid_search(Est, X, y, n_jobs):
    pipe = Pipeline([
        ("scale", StandardScaler()),
        ("mlp", Est(learning_rate_init=0.01, max_iter=20, random_state=0)),
    ])
    cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    search = GridSearchCV(pipe, GRID, cv=cv, scoring="neg_log_loss", n_jobs=n_jobs,
                          error_score="raise")
    if n_jobs == 1:
        return search.fit(X, y)
    with joblib.parallel_backend("threading", n_jobs=n_jobs):
        return search.fit(X, y)


@pytest.fixture(scope="module")
def sklearn_grid(breast_cancer):
    X, y = breast_cancer
    return _grid_search(SkMLPClassifier, X, y, n_jobs=1)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_grid_search_matches_sklearn(n_jobs, breast_cancer, sklearn_grid):
    X, y = breast_cancer
    search = _grid_search(fastnn.MLPClassifier, X, y, n_jobs=n_jobs)

    assert search.best_params_ == sklearn_grid.best_params_
    np.testing.assert_allclose(
        search.cv_results_["mean_test_score"], sklearn_grid.cv_results_["mean_test_score"],
        rtol=1e-7,
    )
    assert list(search.cv_results_["rank_test_score"]) == list(
        sklearn_grid.cv_results_["rank_test_score"]
    )
    best = search.best_estimator_.named_steps["mlp"]
    assert isinstance(best, fastnn.MLPClassifier)
    np.testing.assert_allclose(
        search.predict_proba(X), sklearn_grid.predict_proba(X), rtol=1e-7, atol=1e-9
    )
    assert search.score(X, y) == pytest.approx(sklearn_grid.score(X, y), rel=1e-7)


def test_grid_search_threads_are_bitwise_identical(breast_cancer):
    """Thread count (joblib workers x OpenMP threads) does not change fastnn's results."""
    X, y = breast_cancer
    serial = _grid_search(fastnn.MLPClassifier, X, y, n_jobs=1)
    threaded = _grid_search(fastnn.MLPClassifier, X, y, n_jobs=2)
    assert np.array_equal(
        serial.cv_results_["mean_test_score"], threaded.cv_results_["mean_test_score"]
    )
    assert np.array_equal(serial.predict_proba(X), threaded.predict_proba(X))


# ------------------------------------------------------------------ calibration
@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_calibrated_classifier_matches_sklearn(method, breast_cancer):
    X, y = breast_cancer
    X = StandardScaler().fit_transform(X)
    cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    kw = dict(hidden_layer_sizes=(8,), learning_rate_init=0.01, max_iter=10, random_state=0)
    fast = CalibratedClassifierCV(fastnn.MLPClassifier(**kw), method=method, cv=cv).fit(X, y)
    sk = CalibratedClassifierCV(SkMLPClassifier(**kw), method=method, cv=cv).fit(X, y)

    assert all(
        isinstance(c.estimator, fastnn.MLPClassifier) for c in fast.calibrated_classifiers_
    )
    proba = fast.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(proba, sk.predict_proba(X), atol=1e-9)
    assert fast.score(X, y) == pytest.approx(sk.score(X, y), abs=1.01 / len(y))
    assert fast.score(X, y) > 0.9


def test_calibrated_classifier_multiclass_digits(digits):
    X, y = digits
    kw = dict(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=10, random_state=0)
    fast = CalibratedClassifierCV(fastnn.MLPClassifier(**kw), cv=3).fit(X, y)
    sk = CalibratedClassifierCV(SkMLPClassifier(**kw), cv=3).fit(X, y)
    np.testing.assert_allclose(fast.predict_proba(X), sk.predict_proba(X), atol=1e-9)
    assert np.array_equal(fast.predict(X), sk.predict(X))
