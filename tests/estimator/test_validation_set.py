"""Early stopping on a validation set the user gives (fit's X_val, y_val, sample_weight_val),
scored by `scoring` (None, 'loss', a scorer), with the validation loss recorded in
validation_loss_curve_. References: a fit without early stopping follows the same trajectory
(no split is drawn), so its model after k epochs is the early-stopping fit's model at epoch k."""

import numpy as np
import pytest
import sklearn
from sklearn.datasets import load_digits, make_regression
from sklearn.metrics import log_loss, make_scorer, mean_squared_error
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_class_weight, compute_sample_weight

import fastnn
from fastnn import MLPClassifier, MLPRegressor

from _util import fit_quiet


def _digits(n_train=600, n_val=300):
    X, y = load_digits(return_X_y=True)
    X = X / 16
    return X[:n_train], y[:n_train], X[n_train:n_train + n_val], y[n_train:n_train + n_val]


def _no_stop(**params):
    """Early stopping that never stops (so the fit runs max_iter epochs)."""
    return dict(early_stopping=True, n_iter_no_change=1000, **params)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_the_given_validation_set_is_scored_and_the_training_set_is_all_of_X(solver):
    X, y, X_val, y_val = _digits()
    params = dict(hidden_layer_sizes=(16,), solver=solver, max_iter=6, random_state=0)
    es = fit_quiet(MLPClassifier(**_no_stop(**params)), X, y, X_val=X_val, y_val=y_val)
    plain = fit_quiet(MLPClassifier(**params), X, y)
    # no split: the training curve is the plain fit's (same data, same draws)
    assert es.loss_curve_ == plain.loss_curve_
    assert es.validation_scores_[-1] == plain.score(X_val, y_val)
    np.testing.assert_allclose(es.validation_loss_curve_[-1],
                               log_loss(y_val, plain.predict_proba(X_val)), rtol=1e-12)
    assert len(es.validation_scores_) == len(es.validation_loss_curve_) == es.n_iter_ == 6
    # the best epoch's weights are kept, and they score best_validation_score_
    assert es.score(X_val, y_val) == es.best_validation_score_ == max(es.validation_scores_)


def test_sample_weight_val_weighs_the_score_and_the_loss():
    X, y, X_val, y_val = _digits()
    sw_val = np.random.default_rng(0).uniform(0.1, 3.0, len(y_val))
    params = dict(hidden_layer_sizes=(16,), max_iter=4, random_state=0)
    es = fit_quiet(MLPClassifier(**_no_stop(**params)), X, y, X_val=X_val, y_val=y_val,
                   sample_weight_val=sw_val)
    plain = fit_quiet(MLPClassifier(**params), X, y)
    assert es.validation_scores_[-1] == plain.score(X_val, y_val, sample_weight=sw_val)
    np.testing.assert_allclose(
        es.validation_loss_curve_[-1],
        log_loss(y_val, plain.predict_proba(X_val), sample_weight=sw_val), rtol=1e-12)
    unweighted = fit_quiet(MLPClassifier(**_no_stop(**params)), X, y, X_val=X_val, y_val=y_val)
    assert unweighted.validation_loss_curve_[-1] != es.validation_loss_curve_[-1]


def test_class_weight_weighs_the_given_validation_set_by_the_training_table():
    X, y, X_val, y_val = _digits()
    y, y_val = (y == 9).astype(int), (y_val == 9).astype(int)
    params = _no_stop(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    weighted = fit_quiet(MLPClassifier(class_weight="balanced", **params), X, y,
                         X_val=X_val, y_val=y_val)
    table = compute_class_weight("balanced", classes=np.array([0, 1]), y=y)  # training's
    reference = fit_quiet(MLPClassifier(**params), X, y,
                          sample_weight=compute_sample_weight("balanced", y),
                          X_val=X_val, y_val=y_val, sample_weight_val=table[y_val])
    assert weighted.validation_scores_ == reference.validation_scores_
    assert weighted.validation_loss_curve_ == reference.validation_loss_curve_
    for a, b in zip(weighted.coefs_, reference.coefs_):
        np.testing.assert_array_equal(a, b)


def test_multilabel_validation_set_with_class_weights():
    X, y, X_val, y_val = _digits()
    Y, Y_val = (np.column_stack([y % 2, y > 4, y == 0]).astype(int) for y in (y, y_val))
    class_weight = [{0: 1.0, 1: 2.0}, {0: 1.0, 1: 1.5}, {1: 3.0}]
    params = _no_stop(hidden_layer_sizes=(8,), max_iter=3, random_state=0)
    weighted = fit_quiet(MLPClassifier(class_weight=class_weight, **params), X, Y,
                         X_val=X_val, y_val=Y_val)
    reference = fit_quiet(MLPClassifier(**params), X, Y,
                          sample_weight=compute_sample_weight(class_weight, Y),
                          X_val=X_val, y_val=Y_val,
                          sample_weight_val=compute_sample_weight(class_weight, Y_val))
    assert weighted.validation_scores_ == reference.validation_scores_
    assert weighted.validation_loss_curve_ == reference.validation_loss_curve_


def test_regressor_validation_set_and_scoring_loss():
    X, y = make_regression(500, 8, noise=5.0, random_state=0)
    y = y / 100
    X_tr, X_val, y_tr, y_val = train_test_split(X, y, random_state=0)
    params = dict(hidden_layer_sizes=(16,), max_iter=5, random_state=0)
    es = fit_quiet(MLPRegressor(scoring="loss", **_no_stop(**params)), X_tr, y_tr,
                   X_val=X_val, y_val=y_val)
    plain = fit_quiet(MLPRegressor(**params), X_tr, y_tr)
    # squared_error's loss: half the mean squared error, without the L2 penalty
    expected = mean_squared_error(y_val, plain.predict(X_val)) / 2
    np.testing.assert_allclose(es.validation_loss_curve_[-1], expected, rtol=1e-12)
    assert es.validation_scores_ == [-v for v in es.validation_loss_curve_]
    assert es.best_validation_score_ == max(es.validation_scores_)


def test_the_validation_loss_is_recorded_with_the_random_split_too():
    X, y, _, _ = _digits()
    sk = fit_quiet(sklearn.neural_network.MLPClassifier((16,), early_stopping=True,
                                                        max_iter=8, random_state=0), X, y)
    fast = fit_quiet(MLPClassifier((16,), early_stopping=True, max_iter=8, random_state=0), X, y)
    assert fast.validation_scores_ == sk.validation_scores_  # scoring=None: scikit-learn's
    assert len(fast.validation_loss_curve_) == len(fast.validation_scores_)
    assert all(np.isfinite(fast.validation_loss_curve_))
    assert fit_quiet(MLPClassifier(max_iter=2), X, y).validation_loss_curve_ is None
    assert not hasattr(fit_quiet(MLPClassifier(solver="lbfgs", max_iter=5), X, y),
                       "validation_loss_curve_")


def test_a_scorer_name_or_callable_scores_the_model_of_each_epoch():
    X, y, X_val, y_val = _digits()
    params = _no_stop(hidden_layer_sizes=(16,), max_iter=5, random_state=0)
    by_name = fit_quiet(MLPClassifier(scoring="neg_log_loss", **params), X, y,
                        X_val=X_val, y_val=y_val)
    np.testing.assert_allclose(by_name.validation_scores_,
                               -np.array(by_name.validation_loss_curve_), rtol=1e-12)
    seen = []

    def scorer(estimator, X_, y_):
        seen.append((estimator.n_iter_, X_.shape, len(y_)))
        return -np.mean(estimator.predict(X_) != y_)

    by_callable = fit_quiet(MLPClassifier(scoring=scorer, **params), X, y,
                            X_val=X_val, y_val=y_val)
    assert seen == [(k, X_val.shape, len(y_val)) for k in range(1, 6)]
    errors = np.array(by_callable.validation_scores_)
    plain = fit_quiet(MLPClassifier(hidden_layer_sizes=(16,), max_iter=5, random_state=0), X, y)
    assert errors[-1] == plain.score(X_val, y_val) - 1
    weighted = make_scorer(lambda a, b, sample_weight=None: float(np.sum(sample_weight)))
    sw_val = np.full(len(y_val), 0.5)
    model = fit_quiet(MLPClassifier(scoring=weighted, **params), X, y, X_val=X_val, y_val=y_val,
                      sample_weight_val=sw_val)
    assert model.validation_scores_ == [0.5 * len(y_val)] * 5  # the scorer got the weights


def test_scoring_loss_stops_on_the_validation_loss():
    # Accuracy on a small validation set is coarse: it stops improving by more than tol well
    # before the validation loss does. scoring='loss' trains on while the loss improves.
    X, y, X_val, y_val = _digits(n_train=1000, n_val=400)
    params = dict(hidden_layer_sizes=(32,), early_stopping=True, n_iter_no_change=5,
                  tol=1e-3, max_iter=300, random_state=0)
    by_accuracy = fit_quiet(MLPClassifier(**params), X, y, X_val=X_val, y_val=y_val)
    by_loss = fit_quiet(MLPClassifier(scoring="loss", **params), X, y, X_val=X_val, y_val=y_val)
    assert by_loss.n_iter_ != by_accuracy.n_iter_
    best_loss = min(by_loss.validation_loss_curve_)
    assert -by_loss.best_validation_score_ == best_loss
    assert log_loss(y_val, by_loss.predict_proba(X_val)) == pytest.approx(best_loss, rel=1e-9)
    assert best_loss <= log_loss(y_val, by_accuracy.predict_proba(X_val))


def test_float32_validation_set_is_scored_in_float32():
    X, y, X_val, y_val = _digits()
    params = _no_stop(hidden_layer_sizes=(16,), max_iter=3, random_state=0)
    model = fit_quiet(MLPClassifier(**params), X.astype(np.float32), y,
                      X_val=X_val.astype(np.float32), y_val=y_val)
    assert model.coefs_[0].dtype == np.float32
    assert all(np.isfinite(model.validation_loss_curve_))
    X_val_copy = X_val.copy()
    fit_quiet(MLPClassifier(**params), X.astype(np.float32), y, X_val=X_val, y_val=y_val)
    np.testing.assert_array_equal(X_val, X_val_copy)  # not changed


@pytest.mark.parametrize(
    "params, fit_params, match",
    [
        ({}, {"X_val": "X", "y_val": "y"}, "no early stopping uses them"),
        ({"early_stopping": True, "solver": "lbfgs"}, {"X_val": "X", "y_val": "y"},
         "no early stopping uses them"),
        ({"early_stopping": True}, {"X_val": "X"}, "X_val is provided, but y_val was not"),
        ({"early_stopping": True}, {"y_val": "y"}, "y_val is provided, but X_val was not"),
        ({"early_stopping": True}, {"sample_weight_val": "w"}, "sample_weight_val is provided"),
        ({"early_stopping": True}, {"X_val": "X3", "y_val": "y"}, "X has 3 features, but"),
        ({"early_stopping": True}, {"X_val": "Xnan", "y_val": "y"}, "Input X contains NaN"),
        ({"early_stopping": True}, {"X_val": "X", "y_val": "y_unseen"},
         "`y_val` has classes not in `self.classes_`"),
        ({"early_stopping": True}, {"X_val": "X", "y_val": "y_short"},
         "inconsistent numbers of samples"),
        ({"early_stopping": True}, {"X_val": "X", "y_val": "y", "sample_weight_val": "w0"},
         # scikit-learn >= 1.8's check, else fastnn's
         "Sample weights must contain at least one non-zero number|sample_weight_val must sum"),
        ({"early_stopping": True}, {"X_val": "X", "y_val": "y", "sample_weight_val": "w_neg"},
         "sample_weight_val must sum to a positive number"),
        ({"early_stopping": True}, {"X_val": "X", "y_val": "y", "sample_weight_val": "w_short"},
         "sample_weight.shape == \\(5,\\), expected \\(40,\\)"),
        ({"early_stopping": True, "scoring": "no_such_metric"}, {},
         "'no_such_metric' is not a valid scoring value"),
        ({"scoring": 3}, {}, "The 'scoring' parameter of MLPClassifier must be"),
    ],
)
def test_bad_validation_sets_are_clear_errors(params, fit_params, match):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((100, 4)), rng.integers(0, 3, 100)
    values = {
        "X": X[:40], "y": y[:40], "X3": X[:40, :3], "Xnan": np.where(X[:40] > 2, np.nan, X[:40]),
        "y_unseen": np.where(y[:40] == 2, 7, y[:40]), "y_short": y[:30],
        "w": np.ones(40), "w0": np.zeros(40), "w_neg": np.repeat([1.0, -1.0], 20), "w_short": np.ones(5),
    }
    model = MLPClassifier((4,), max_iter=2, **params)
    with pytest.raises(ValueError, match=match):
        fit_quiet(model, X, y, **{k: values[v] for k, v in fit_params.items()})


def test_regressor_validation_target_must_have_the_training_outputs():
    X, y = make_regression(100, 4, n_targets=2, random_state=0)
    with pytest.raises(ValueError, match="y_val has 1 outputs; the training target has 2"):
        MLPRegressor(early_stopping=True, max_iter=2).fit(X, y, X_val=X[:20], y_val=y[:20, 0])


def test_validation_set_through_a_pipeline_and_a_grid_search_with_metadata_routing():
    X, y, X_val, y_val = _digits()
    X, X_val = X * 16, X_val * 16  # the pipeline scales
    with sklearn.config_context(enable_metadata_routing=True):
        model = MLPClassifier((16,), max_iter=5, random_state=0,
                              **_no_stop()).set_fit_request(X_val=True, y_val=True)
        pipe = Pipeline([("scale", StandardScaler()), ("mlp", model)], transform_input=["X_val"])
        fit_quiet(pipe, X, y, X_val=X_val, y_val=y_val)
        scaled = pipe[0].transform(X_val)
        assert pipe[-1].validation_scores_[-1] == fit_quiet(
            MLPClassifier((16,), max_iter=5, random_state=0), pipe[0].transform(X), y
        ).score(scaled, y_val)
        search = fit_quiet(GridSearchCV(model, {"alpha": [1e-4, 1e-1]}, cv=2), X / 16, y,
                           X_val=X_val / 16, y_val=y_val)
        assert len(search.best_estimator_.validation_scores_) == 5
        with pytest.raises(ValueError, match="no early stopping uses them"):
            fit_quiet(GridSearchCV(MLPClassifier(max_iter=2).set_fit_request(
                X_val=True, y_val=True), {"alpha": [1e-4]}, cv=2, error_score="raise"),
                X, y, X_val=X_val, y_val=y_val)
    # without routing, fit parameters reach the estimator as they are
    search = fit_quiet(GridSearchCV(MLPClassifier((16,), max_iter=3, **_no_stop()),
                                    {"alpha": [1e-4]}, cv=2), X / 16, y,
                       X_val=X_val / 16, y_val=y_val)
    assert len(search.best_estimator_.validation_loss_curve_) == 3


def test_validation_loss_curve_is_saved_and_is_not_scikit_learns(tmp_path):
    X, y, X_val, y_val = _digits()
    model = fit_quiet(MLPClassifier((8,), max_iter=3, scoring="loss", **_no_stop()), X, y,
                      X_val=X_val, y_val=y_val)
    fastnn.save(model, tmp_path / "m.fastnn")
    loaded = fastnn.load(tmp_path / "m.fastnn")
    assert loaded.validation_loss_curve_ == model.validation_loss_curve_
    assert loaded.scoring == "loss"
    sk = model.to_sklearn()
    assert not hasattr(sk, "validation_loss_curve_") and "scoring" not in sk.get_params()
    # a warm start from scikit-learn's model (which has no validation loss) records NaN before
    back = fastnn.from_sklearn(sk)
    back.set_params(warm_start=True, max_iter=2)
    fit_quiet(back, X, y)
    assert len(back.validation_loss_curve_) == len(back.validation_scores_) == 5
    assert np.isnan(back.validation_loss_curve_[:3]).all()
    assert np.isfinite(back.validation_loss_curve_[3:]).all()


def test_verbose_prints_the_validation_loss_when_scoring_is_set(capsys):
    X, y, X_val, y_val = _digits()
    fit_quiet(MLPClassifier((8,), max_iter=2, verbose=True, scoring="loss", **_no_stop()), X, y,
              X_val=X_val, y_val=y_val)
    out = capsys.readouterr().out
    assert out.count("Validation loss: ") == 2 and out.count("Validation score: -") == 2
    fit_quiet(MLPClassifier((8,), max_iter=2, verbose=True, **_no_stop()), X, y)
    assert "Validation loss" not in capsys.readouterr().out  # scikit-learn's lines only
